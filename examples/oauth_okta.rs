//! An MCP server whose users sign in with Okta, through the OAuth proxy, configured from the
//! environment. Create a "Web Application" (OIDC) in the Okta admin console with the sign-in
//! redirect URI `<this server's origin>/oauth/callback`, add the `admin` scope to the
//! authorization server, then:
//!
//! ```sh
//! MCP_USE_OAUTH_OKTA_DOMAIN=dev-123456.okta.com \
//! MCP_USE_OAUTH_OKTA_CLIENT_ID=... MCP_USE_OAUTH_OKTA_CLIENT_SECRET=... \
//!     cargo run --example oauth_okta
//! ```
//!
//! Optional: `MCP_USE_OAUTH_OKTA_AUTH_SERVER_ID` (default `default`),
//! `MCP_USE_OAUTH_OKTA_AUDIENCE` (default `api://default`), `MCP_USE_OAUTH_SCOPE_GRANTS`,
//! `MCP_STORE_ENCRYPTION_KEY`, `MCP_STORE_URL`, `MCP_URL`. A missing or malformed variable
//! stops start-up, naming it.

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
    name = "oauth-okta",
    version = "1.0.0",
    oauth = "okta",
    tools = [get_user_info, admin_action]
)]
struct OktaServer;

fn main() -> Result<(), ServeError> {
    OktaServer::run()
}
