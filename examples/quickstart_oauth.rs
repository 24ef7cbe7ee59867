//! An OAuth-protected MCP server that works on a fresh machine: `oauth = "dev"` embeds a
//! development authorization server (sign-in page, dynamic client registration, PKCE, JWT
//! access tokens, refresh tokens), so any MCP client can sign in without an account anywhere.
//!
//! ```sh
//! cargo run --example quickstart_oauth
//! # then, in another terminal, sign in from MCP Inspector:
//! npx @modelcontextprotocol/inspector    # Transport: Streamable HTTP, URL http://127.0.0.1:3000/mcp
//! ```
//!
//! `about` is public: listed and callable without a token, as are `initialize` and the
//! listings, so a client connects without signing in. Calling `get-user-info` without a token
//! answers 401 with the challenge to sign in (with `openid profile email`); calling
//! `admin-action` then answers 403 with a step-up challenge for scope `admin`, which the
//! sign-in page grants.
//! `MCP_USE_OAUTH_DEV_AUTO_APPROVE=true` skips the page (scripts and tests). Swap `"dev"` for
//! a real provider (`"custom"`, ...) and nothing else changes.

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

/// What this server is, and who is calling. Public: callable without a token.
#[mcp_tool(name = "about", read_only, public)]
async fn about(auth: Option<Auth>) -> String {
    match auth {
        Some(a) => format!("quickstart-oauth, signed in as {}", a.user.user_id),
        None => {
            "quickstart-oauth, not signed in: get-user-info and admin-action sign you in".into()
        }
    }
}

/// Perform an administrative action. Requires the `admin` scope.
#[mcp_tool(name = "admin-action", scopes = "admin", destructive)]
async fn admin_action(auth: Auth, action: String) -> String {
    format!("{} performed `{action}`", auth.user.user_id)
}

#[mcp_server(
    name = "quickstart-oauth",
    title = "Quickstart with OAuth",
    version = "1.0.0",
    oauth = "dev",
    tools = [about, get_user_info, admin_action]
)]
struct QuickstartOAuth;

fn main() -> Result<(), ServeError> {
    QuickstartOAuth::run()
}
