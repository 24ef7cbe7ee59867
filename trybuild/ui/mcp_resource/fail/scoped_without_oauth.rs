use mcp_runtime::prelude::*;

#[mcp_resource(uri = "me://profile")]
async fn profile(auth: Auth) -> String {
    auth.user.user_id.clone()
}

#[mcp_server(name = "me", resources = [profile])]
struct Me;

fn main() {}
