//! An MCP server protected by any OAuth 2.1 / OIDC issuer (mcp-use's `oauthCustomProvider`),
//! configured from the environment:
//!
//! ```sh
//! MCP_USE_OAUTH_CUSTOM_ISSUER=https://auth.example.com \
//! MCP_USE_OAUTH_CUSTOM_AUDIENCE=https://mcp.example.com/mcp \
//!     cargo run --example oauth_custom
//! ```
//!
//! Optional: `MCP_USE_OAUTH_CUSTOM_JWKS_URL` (default: the issuer's `jwks_uri`),
//! `MCP_USE_OAUTH_CUSTOM_SCOPES`, `_AUTH_ENDPOINT`, `_TOKEN_ENDPOINT`, `_USERINFO_ENDPOINT`.
//! A `.env` file works too. A missing or malformed variable stops start-up, naming it.

use mcp_runtime::prelude::*;
use serde_json::{Value, json};

/// Get the signed-in user's information.
#[mcp_tool(name = "get-user-info", read_only)]
async fn get_user_info(auth: Auth) -> Json<Value> {
    Json(json!({
        "userId": auth.user.user_id,
        "email": auth.user.email,
        "name": auth.user.name,
        "roles": auth.user.roles,
        "permissions": auth.permissions,
        "scopes": auth.scopes,
    }))
}

/// Perform an administrative action. Requires the `admin` scope.
#[mcp_tool(name = "admin-action", scopes = "admin", destructive)]
async fn admin_action(auth: Auth, action: String) -> String {
    format!("{} performed `{action}`", auth.user.user_id)
}

#[mcp_server(
    name = "oauth-custom",
    version = "1.0.0",
    oauth = "custom",
    tools = [get_user_info, admin_action]
)]
struct CustomOAuthServer;

fn main() -> Result<(), ServeError> {
    CustomOAuthServer::run()
}
