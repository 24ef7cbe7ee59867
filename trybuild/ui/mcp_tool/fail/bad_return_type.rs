use mcp_runtime::prelude::*;

struct Opaque;

/// Returns something that is not a tool result.
#[mcp_tool]
async fn opaque() -> Opaque {
    Opaque
}

fn main() {}
