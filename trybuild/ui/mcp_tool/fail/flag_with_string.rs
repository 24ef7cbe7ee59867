use mcp_runtime::prelude::*;

/// A flag given a string.
#[mcp_tool(read_only = "yes")]
async fn ping() -> &'static str {
    "pong"
}

fn main() {}
