//! The configuration parsers: every preset's `from_env`, and the server builder's own
//! variables (`MCP_URL`, `MCP_ALLOWED_HOSTS`, `MCP_ALLOWED_ORIGINS`, `HOST`, `PORT`), on
//! arbitrary values. A bad value must be an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_runtime::McpServer;
use mcp_runtime::providers::*;

const VARS: &[&str] = &[
    "MCP_URL",
    "MCP_ALLOWED_HOSTS",
    "MCP_ALLOWED_ORIGINS",
    "HOST",
    "PORT",
    "MCP_USE_OAUTH_CUSTOM_ISSUER",
    "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
    "MCP_USE_OAUTH_CUSTOM_AUDIENCE",
    "MCP_USE_OAUTH_CUSTOM_SCOPES",
    "MCP_USE_OAUTH_AUTH0_DOMAIN",
    "MCP_USE_OAUTH_AUTH0_AUDIENCE",
    "MCP_USE_OAUTH_AUTH0_VERIFY_JWT",
    "MCP_USE_OAUTH_AUTH0_ROLES_CLAIM",
    "MCP_USE_OAUTH_WORKOS_SUBDOMAIN",
    "MCP_USE_OAUTH_WORKOS_SCOPES",
    "MCP_USE_OAUTH_SUPABASE_PROJECT_ID",
    "MCP_USE_OAUTH_SUPABASE_URL",
    "MCP_USE_OAUTH_SUPABASE_JWT_SECRET",
    "MCP_USE_OAUTH_CLERK_FRONTEND_API_URL",
    "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
    "MCP_USE_OAUTH_KEYCLOAK_REALM",
    "MCP_USE_OAUTH_BETTER_AUTH_URL",
    "MCP_USE_OAUTH_DEV_TOKEN_TTL",
    "MCP_USE_OAUTH_DEV_AUTO_APPROVE",
    "MCP_USE_OAUTH_PROXY_ISSUER",
    "MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT",
    "MCP_USE_OAUTH_PROXY_TOKEN_ENDPOINT",
    "MCP_USE_OAUTH_PROXY_CLIENT_ID",
    "MCP_USE_OAUTH_PROXY_SCOPES",
    "MCP_USE_OAUTH_PROXY_TOKEN_AUTH",
    "MCP_USE_OAUTH_PROXY_EXTRA_AUTHORIZE_PARAMS",
    "MCP_USE_OAUTH_PROXY_PASS_THROUGH",
    "MCP_USE_OAUTH_SCOPE_GRANTS",
];

fuzz_target!(|data: &[u8]| {
    // One value per variable, in order, separated by NUL (which no variable can hold).
    let text = String::from_utf8_lossy(data);
    let mut values = text.split('\0');
    for name in VARS {
        match values.next() {
            // SAFETY: libFuzzer runs the target on one thread, and nothing here spawns one.
            Some(v) if !v.is_empty() => unsafe { std::env::set_var(name, v) },
            _ => unsafe { std::env::remove_var(name) },
        }
    }
    let _ = CustomProvider::from_env();
    let _ = Auth0Provider::from_env();
    let _ = WorkOsProvider::from_env();
    let _ = SupabaseProvider::from_env();
    let _ = ClerkProvider::from_env();
    let _ = KeycloakProvider::from_env();
    let _ = BetterAuthProvider::from_env();
    let _ = DevProvider::from_env();
    let _ = ProxyProvider::from_env();
    let _ = mcp_runtime::config::bind_addr_from_env();
    let _ = McpServer::builder().with_env().build();
});
