//! An MCP server protected by Auth0 (mcp-use's `oauthAuth0Provider`), configured entirely from the
//! environment (or a `.env` file):
//!
//! ```sh
//! MCP_USE_OAUTH_AUTH0_DOMAIN=my-tenant.us.auth0.com \
//! MCP_USE_OAUTH_AUTH0_AUDIENCE=https://mcp.example.com/mcp \
//!     cargo run --example oauth_auth0
//! ```
//!
//! Create an API in Auth0 (its identifier is the audience), enable RBAC and "Add Permissions in
//! the Access Token"; a permission `admin` opens `admin-action`.
//!
//! For a tenant without dynamic client registration, also set `MCP_USE_OAUTH_AUTH0_CLIENT_ID`
//! and `MCP_USE_OAUTH_AUTH0_CLIENT_SECRET` of a "Regular Web Application" whose allowed callback
//! URL is `<your server's origin>/oauth/callback`: the server then runs the OAuth proxy.
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
    name = "oauth-auth0",
    version = "1.0.0",
    oauth = "auth0",
    tools = [get_user_info, admin_action]
)]
struct Auth0Server;

fn main() -> Result<(), ServeError> {
    Auth0Server::run()
}
