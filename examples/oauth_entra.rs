//! An MCP server whose users sign in with Microsoft Entra ID, through the OAuth proxy,
//! configured from the environment. Register an app in the Entra admin center with a "Web"
//! redirect URI `<this server's origin>/oauth/callback` and a client secret; expose an API
//! scope (e.g. `api://mcp/admin`) for the `admin` tool; then:
//!
//! ```sh
//! MCP_USE_OAUTH_ENTRA_TENANT_ID=<tenant id> \
//! MCP_USE_OAUTH_ENTRA_CLIENT_ID=... MCP_USE_OAUTH_ENTRA_CLIENT_SECRET=... \
//! MCP_USE_OAUTH_ENTRA_API_SCOPE=api://mcp/admin \
//!     cargo run --example oauth_entra
//! ```
//!
//! Optional: `MCP_USE_OAUTH_SCOPE_GRANTS`, `MCP_STORE_ENCRYPTION_KEY`, `MCP_STORE_URL`,
//! `MCP_URL`. A missing or malformed variable stops start-up, naming it.

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
    name = "oauth-entra",
    version = "1.0.0",
    oauth = "entra",
    tools = [get_user_info, admin_action]
)]
struct EntraServer;

fn main() -> Result<(), ServeError> {
    EntraServer::run()
}
