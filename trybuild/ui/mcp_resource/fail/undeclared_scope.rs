use mcp_runtime::prelude::*;

#[mcp_resource(uri = "file:///logs/today", scopes = "logs:raed")]
async fn today() -> &'static str {
    "quiet"
}

#[mcp_server(name = "logs", oauth = "custom", scopes = ["logs:read"], resources = [today])]
struct Logs;

fn main() {}
