use mcp_runtime::prelude::*;

/// A public tool sees the caller when there is one.
#[mcp_tool(public, read_only)]
async fn about(auth: Option<Auth>) -> String {
    auth.map_or_else(|| "anonymous".into(), |a| a.user.user_id.clone())
}

/// A public tool with nothing of the caller.
#[mcp_tool(public)]
async fn ping() -> &'static str {
    "pong"
}

/// A public resource, with the caller when there is one.
#[mcp_resource(uri = "docs://about", public)]
async fn about_doc(auth: Option<mcp_runtime::auth::Auth>) -> String {
    auth.map_or_else(|| "anonymous".into(), |a| a.user.user_id.clone())
}

#[mcp_server(name = "mixed", oauth = "dev", tools = [about, ping], resources = [about_doc])]
struct Mixed;

fn main() {
    let _ = Mixed::builder;
}
