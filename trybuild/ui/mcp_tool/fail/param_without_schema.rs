use mcp_runtime::prelude::*;

#[derive(serde::Deserialize)]
struct Point {
    x: f64,
    y: f64,
}

/// Uses a type without a JSON Schema.
#[mcp_tool]
async fn norm(p: Point) -> f64 {
    (p.x * p.x + p.y * p.y).sqrt()
}

fn main() {}
