use mcp_runtime::prelude::*;

/// Not async.
#[mcp_tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
