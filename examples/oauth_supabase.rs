//! An MCP server protected by Supabase (mcp-use's `oauthSupabaseProvider`), configured entirely from the
//! environment (or a `.env` file):
//!
//! ```sh
//! MCP_USE_OAUTH_SUPABASE_PROJECT_ID=abcdefghijklmnop \
//!     cargo run --example oauth_supabase
//! ```
//!
//! Asymmetric signing keys (Project Settings > JWT Keys) are verified from the project's JWKS;
//! set `MCP_USE_OAUTH_SUPABASE_JWT_SECRET` to also accept legacy HS256 tokens.
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
    name = "oauth-supabase",
    version = "1.0.0",
    oauth = "supabase",
    tools = [get_user_info, admin_action]
)]
struct SupabaseServer;

fn main() -> Result<(), ServeError> {
    SupabaseServer::run()
}
