//! An MCP server whose users sign in with Google, through the OAuth proxy (Google has no
//! dynamic client registration), configured from the environment. Create an OAuth client of
//! type "Web application" in the Google Cloud console, with the redirect URI
//! `<this server's origin>/oauth/callback`, then:
//!
//! ```sh
//! MCP_USE_OAUTH_GOOGLE_CLIENT_ID=... MCP_USE_OAUTH_GOOGLE_CLIENT_SECRET=... \
//! MCP_USE_OAUTH_SCOPE_GRANTS='admin=email:you@example.com' \
//!     cargo run --example oauth_google
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
    name = "oauth-google",
    version = "1.0.0",
    oauth = "google",
    tools = [get_user_info, admin_action]
)]
struct GoogleServer;

fn main() -> Result<(), ServeError> {
    GoogleServer::run()
}
