//! An MCP server behind the OAuth proxy, for identity providers without dynamic client
//! registration (mcp-use's `oauthProxy`), configured from the environment. Register one app
//! at your provider with the callback URL `<this server>/oauth/callback`, then:
//!
//! ```sh
//! MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT=https://tenant.auth0.com/authorize \
//! MCP_USE_OAUTH_PROXY_TOKEN_ENDPOINT=https://tenant.auth0.com/oauth/token \
//! MCP_USE_OAUTH_PROXY_ISSUER=https://tenant.auth0.com/ \
//! MCP_USE_OAUTH_PROXY_JWKS_URL=https://tenant.auth0.com/.well-known/jwks.json \
//! MCP_USE_OAUTH_PROXY_CLIENT_ID=... MCP_USE_OAUTH_PROXY_CLIENT_SECRET=... \
//!     cargo run --example oauth_proxy
//! ```
//!
//! Optional: `MCP_USE_OAUTH_PROXY_SCOPES`, `_AUDIENCE`, `_EXTRA_AUTHORIZE_PARAMS`,
//! `_FORWARD_RESOURCE`, `_TOKEN_AUTH`, `_AUTO_APPROVE`; `MCP_STORE_ENCRYPTION_KEY`,
//! `MCP_STORE_URL`, `MCP_URL`. A `.env` file works too. A missing or malformed variable stops
//! start-up, naming it.

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
    name = "oauth-proxy",
    version = "1.0.0",
    oauth = "proxy",
    tools = [get_user_info, admin_action]
)]
struct ProxyServer;

fn main() -> Result<(), ServeError> {
    ProxyServer::run()
}
