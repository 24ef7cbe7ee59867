use mcp_runtime::prelude::*;

/// A public tool is called without a token: it cannot need a scope.
#[mcp_tool(public, scopes = "admin")]
async fn purge() -> &'static str {
    "purged"
}

fn main() {}
