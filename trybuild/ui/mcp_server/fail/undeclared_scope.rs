use mcp_runtime::prelude::*;

/// Read.
#[mcp_tool(scopes = "read")]
async fn list() -> &'static str {
    "listed"
}

/// Delete, with a typo in its scope.
#[mcp_tool(scopes = ["read", "admn"])]
async fn purge() -> &'static str {
    "purged"
}

#[mcp_server(name = "docs", oauth = "custom", scopes = ["read", "admin"], tools = [list, purge])]
struct Docs;

fn main() {}
