use mcp_runtime::prelude::*;

/// Borrows its input.
#[mcp_tool]
async fn echo(text: &str) -> String {
    text.to_owned()
}

fn main() {}
