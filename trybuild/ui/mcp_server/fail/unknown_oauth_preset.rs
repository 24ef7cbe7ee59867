use mcp_runtime::prelude::*;

/// Add.
#[mcp_tool]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[mcp_server(name = "calc", oauth = "custon", tools = [add])]
struct Calc;

fn main() {}
