use mcp_runtime::prelude::*;

#[mcp_tool(scope = "admin")]
async fn purge() -> String {
    "purged".into()
}

fn main() {}
