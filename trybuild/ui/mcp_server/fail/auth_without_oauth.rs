use mcp_runtime::prelude::*;

/// Who is calling.
#[mcp_tool]
async fn whoami(auth: Auth) -> String {
    auth.user.user_id.clone()
}

/// Admins only.
#[mcp_tool(scopes = "admin")]
async fn purge() -> String {
    String::new()
}

/// Anyone.
#[mcp_tool]
async fn ping() -> String {
    String::new()
}

#[mcp_server(name = "s", tools = [ping, whoami, purge])]
struct S;

fn main() {}
