//! An MCP server whose users sign in with GitHub, through the OAuth proxy (GitHub has no
//! dynamic client registration), configured from the environment. Create an OAuth app (on
//! GitHub: Settings, Developer settings, OAuth Apps) with the authorization callback URL
//! `<this server's origin>/oauth/callback`, then:
//!
//! ```sh
//! MCP_USE_OAUTH_GITHUB_CLIENT_ID=... MCP_USE_OAUTH_GITHUB_CLIENT_SECRET=... \
//! MCP_USE_OAUTH_SCOPE_GRANTS='admin=login:your-login' \
//!     cargo run --example oauth_github
//! ```
//!
//! Optional: `MCP_STORE_ENCRYPTION_KEY`, `MCP_STORE_URL`, `MCP_URL`. A `.env` file works too.
//! A missing or malformed variable stops start-up, naming it.

use mcp_runtime::prelude::*;
use serde_json::{Value, json};

/// Get the signed-in user's information.
#[mcp_tool(name = "get-user-info", read_only)]
async fn get_user_info(auth: Auth) -> Json<Value> {
    let upstream = auth.upstream_token().await.ok().flatten().is_some();
    Json(json!({
        "userId": auth.user.user_id,
        "email": auth.user.email,
        "name": auth.user.name,
        "picture": auth.user.picture,
        "scopes": auth.scopes,
        "hasUpstreamToken": upstream,
    }))
}

/// Perform an administrative action. Requires the `admin` scope.
#[mcp_tool(name = "admin-action", scopes = "admin", destructive)]
async fn admin_action(auth: Auth, action: String) -> String {
    format!("{} performed `{action}`", auth.user.user_id)
}

#[mcp_server(
    name = "oauth-github",
    version = "1.0.0",
    oauth = "github",
    tools = [get_user_info, admin_action]
)]
struct GitHubServer;

fn main() -> Result<(), ServeError> {
    GitHubServer::run()
}
