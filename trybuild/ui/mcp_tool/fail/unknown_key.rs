use mcp_runtime::prelude::*;

#[mcp_tool(descripton = "Add two numbers.")]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
