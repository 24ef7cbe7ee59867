//! Every tool's scopes are declared: this compiles.
use mcp_runtime::prelude::*;

/// Read.
#[mcp_tool(scopes = "read")]
async fn list() -> &'static str {
    "listed"
}

/// Either role.
#[mcp_tool(any_scopes = ["admin", "owner"])]
async fn purge() -> &'static str {
    "purged"
}

#[mcp_server(name = "docs", oauth = "custom", scopes = ["read", "admin", "owner"], tools = [list, purge])]
struct Docs;

fn main() {
    assert_eq!(<purge as mcp_runtime::ToolDef>::ANY_SCOPES, ["admin", "owner"]);
    let _ = Docs::builder;
}
