use mcp_runtime::prelude::*;

/// Weather for a region.
#[mcp_tool]
async fn weather(#[header(Region)] region: String) -> String {
    region
}

fn main() {}
