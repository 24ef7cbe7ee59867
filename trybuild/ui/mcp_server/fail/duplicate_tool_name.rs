use mcp_runtime::prelude::*;

/// One.
#[mcp_tool(name = "calc")]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Two.
#[mcp_tool(name = "calc")]
async fn sub(a: i64, b: i64) -> i64 {
    a - b
}

#[mcp_server(name = "calc", tools = [add, sub])]
struct Calc;

fn main() {}
