use mcp_runtime::prelude::*;

/// Not annotated.
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

struct Helper;

#[mcp_server(name = "calc", tools = [Helper])]
struct Calc;

fn main() {
    let _ = add(1, 2);
}
