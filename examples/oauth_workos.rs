//! An MCP server protected by WorkOS AuthKit (mcp-use's `oauthWorkOSProvider`), configured entirely from the
//! environment (or a `.env` file):
//!
//! ```sh
//! MCP_USE_OAUTH_WORKOS_SUBDOMAIN=my-company.authkit.app \
//!     cargo run --example oauth_workos
//! ```
//!
//! Enable dynamic client registration in AuthKit (Connect > Configuration) so MCP clients can
//! register; a role or permission `admin` opens `admin-action`.
//!
//! Or, with an OAuth application registered in WorkOS (redirect URI
//! `<your server's origin>/oauth/callback`), set `MCP_USE_OAUTH_WORKOS_CLIENT_ID` (and
//! `MCP_USE_OAUTH_WORKOS_CLIENT_SECRET` for a confidential one): the server then runs the OAuth
//! proxy, MCP clients register with it, and users sign in at AuthKit as that application.
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
    name = "oauth-workos",
    version = "1.0.0",
    oauth = "workos",
    tools = [get_user_info, admin_action]
)]
struct WorkosServer;

fn main() -> Result<(), ServeError> {
    WorkosServer::run()
}
