use mcp_runtime::prelude::*;

/// Review some lines.
#[mcp_prompt]
async fn review(diff: String, lines: u32, strict: Option<bool>) -> String {
    format!("{diff} {lines} {strict:?}")
}

fn main() {}
