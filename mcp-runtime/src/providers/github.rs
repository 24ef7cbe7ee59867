//! GitHub, behind the OAuth proxy (GitHub has no dynamic client registration):
//! `MCP_USE_OAUTH_GITHUB_CLIENT_ID` and `MCP_USE_OAUTH_GITHUB_CLIENT_SECRET`.

use super::ProviderError;
use super::preset::{base_override, required};
use super::proxy::{ProxyProvider, UserinfoShape};
use crate::auth::OAuth;

/// GitHub sign-in through the OAuth proxy, with a GitHub OAuth app. GitHub's tokens are
/// opaque and do not expire, and it returns no ID token: who signed in comes from its `/user`
/// API (`id` becomes `sub`; `login`, `name`, `email`, `avatar_url` as `picture`), looked up
/// once at sign-in. The tokens this server issues expire as it says. GitHub grants none of
/// this server's scopes: give them by identity with `MCP_USE_OAUTH_SCOPE_GRANTS` (e.g.
/// `admin=login:octocat`).
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | client id | `MCP_USE_OAUTH_GITHUB_CLIENT_ID` | required |
/// | client secret | `MCP_USE_OAUTH_GITHUB_CLIENT_SECRET` | required |
/// | GitHub's base URL | `MCP_USE_OAUTH_GITHUB_BASE_URL` | github.com and api.github.com (a loopback URL points both at a fixture) |
///
/// Also read: `MCP_USE_OAUTH_SCOPE_GRANTS`, `MCP_USE_OAUTH_PROXY_AUTO_APPROVE`,
/// `MCP_STORE_ENCRYPTION_KEY`, `MCP_STORE_URL`. On GitHub: Settings > Developer settings >
/// OAuth Apps > New OAuth App, with the authorization callback URL
/// `<your server's origin>/oauth/callback`. (A GitHub App works too, with its client id and
/// secret; its user tokens expire and come with refresh tokens.)
#[derive(Debug, Clone, Default)]
pub struct GitHubProvider {
    /// The OAuth app's client id.
    pub client_id: Option<String>,
    /// The OAuth app's client secret.
    pub client_secret: Option<String>,
    /// Replaces GitHub's hosts: `<base>/login/oauth/authorize`,
    /// `<base>/login/oauth/access_token`, `<base>/user` (for tests against a fixture).
    pub base_url: Option<String>,
}

impl GitHubProvider {
    /// A GitHub OAuth app; unset settings come from the environment.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        GitHubProvider {
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            base_url: None,
        }
    }

    /// The proxy's settings for GitHub; each missing or malformed variable is named.
    pub fn into_proxy(self) -> Result<ProxyProvider, ProviderError> {
        let client_id = required(
            self.client_id,
            "MCP_USE_OAUTH_GITHUB_CLIENT_ID",
            "set it to your GitHub OAuth app's client id (Settings > Developer settings > OAuth Apps)",
        )?;
        let secret = required(
            self.client_secret,
            "MCP_USE_OAUTH_GITHUB_CLIENT_SECRET",
            "set it to a client secret of your GitHub OAuth app",
        )?;
        let base = base_override(self.base_url, "MCP_USE_OAUTH_GITHUB_BASE_URL")?;
        let (web, api) = match &base {
            Some(b) => (b.clone(), b.clone()),
            None => (
                "https://github.com".to_owned(),
                "https://api.github.com".to_owned(),
            ),
        };
        let mut p = ProxyProvider::new(
            format!("{web}/login/oauth/authorize"),
            format!("{web}/login/oauth/access_token"),
            web.clone(),
            client_id,
        )
        .client_secret(secret)
        .token_auth(super::UpstreamAuth::ClientSecretPost)
        .scopes(["read:user", "user:email"]);
        p.userinfo = Some((format!("{api}/user"), UserinfoShape::GitHub));
        p.upstream_pkce = false;
        p.forward_client_scopes = false;
        p.common_from_env("github")
    }

    /// The server's OAuth configuration: the OAuth proxy in front of GitHub.
    pub fn into_oauth(self) -> Result<OAuth, ProviderError> {
        let proxy = self.into_proxy()?.resolve()?;
        tracing::info!(target: "mcp_runtime::auth", "GitHub sign-in through the OAuth proxy");
        proxy.into_oauth()
    }
}
