use mcp_runtime::prelude::*;

#[mcp_tool]
struct Add;

fn main() {}
