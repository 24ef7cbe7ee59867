use mcp_runtime::prelude::*;

/// A scope with a quote in it.
#[mcp_tool(any_scopes = ["admin", "bad\"scope"])]
async fn purge() -> &'static str {
    "purged"
}

fn main() {}
