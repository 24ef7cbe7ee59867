//! An MCP server protected by Keycloak (mcp-use's `oauthKeycloakProvider`), configured entirely from the
//! environment (or a `.env` file):
//!
//! ```sh
//! MCP_USE_OAUTH_KEYCLOAK_SERVER_URL=https://auth.example.com \
//! MCP_USE_OAUTH_KEYCLOAK_REALM=mcp MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID=mcp-server \
//!     cargo run --example oauth_keycloak
//! ```
//!
//! Add an audience mapper for this server's URL (or set `MCP_USE_OAUTH_KEYCLOAK_AUDIENCE`); a
//! client role `admin` on `MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID` opens `admin-action`.
//! A missing or malformed variable stops start-up with a message that names it.

use mcp_runtime::prelude::*;
use serde_json::{Value, json};

/// Get the signed-in user's information.
#[mcp_tool(name = "get-user-info", read_only)]
async fn get_user_info(auth: Auth) -> Json<Value> {
    Json(json!({
        "userId": auth.user.user_id,
        "email": auth.user.email,
        "name": auth.user.name,
        "username": auth.user.username,
        "roles": auth.user.roles,
        "permissions": auth.permissions,
        "organizationId": auth.user.organization_id,
        "scopes": auth.scopes,
    }))
}

/// Perform an administrative action. Requires the `admin` scope (or permission).
#[mcp_tool(name = "admin-action", scopes = "admin", destructive)]
async fn admin_action(auth: Auth, action: String) -> String {
    format!("{} performed `{action}`", auth.user.user_id)
}

#[mcp_server(
    name = "oauth-keycloak",
    version = "1.0.0",
    oauth = "keycloak",
    tools = [get_user_info, admin_action]
)]
struct KeycloakServer;

fn main() -> Result<(), ServeError> {
    KeycloakServer::run()
}
