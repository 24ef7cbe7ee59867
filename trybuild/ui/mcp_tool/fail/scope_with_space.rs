use mcp_runtime::prelude::*;

/// Two scopes in one string.
#[mcp_tool(scopes = "read write")]
async fn edit() -> &'static str {
    "edited"
}

fn main() {}
