use mcp_runtime::prelude::*;

#[mcp_prompt(name = "review")]
async fn review() -> &'static str {
    "review"
}

#[mcp_prompt(name = "review")]
async fn second_review() -> &'static str {
    "again"
}

#[mcp_server(name = "reviews", prompts = [review, second_review])]
struct Reviews;

fn main() {}
