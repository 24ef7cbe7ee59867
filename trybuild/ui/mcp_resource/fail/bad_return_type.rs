use mcp_runtime::prelude::*;

#[mcp_resource(uri = "numbers://{n}")]
async fn number(n: u32) -> u32 {
    n
}

fn main() {}
