use mcp_runtime::prelude::*;

#[mcp_resource(uri = "file:///logs/today")]
async fn today() -> &'static str {
    "quiet"
}

#[mcp_resource(uri = "file:///logs/today")]
async fn also_today() -> &'static str {
    "also quiet"
}

#[mcp_server(name = "logs", resources = [today, also_today])]
struct Logs;

fn main() {}
