//! Google, behind the OAuth proxy (Google has no dynamic client registration):
//! `MCP_USE_OAUTH_GOOGLE_CLIENT_ID` and `MCP_USE_OAUTH_GOOGLE_CLIENT_SECRET`.

use super::ProviderError;
use super::preset::{base_override, required};
use super::proxy::ProxyProvider;
use crate::auth::OAuth;

/// Google sign-in, through the OAuth proxy. Users sign in with their Google account; this
/// server issues the client its own tokens. Google's access tokens are opaque, so who signed in
/// comes from the ID token (verified against Google's keys, `aud` = the client id): `sub`,
/// `email`, `email_verified`, `name`, `picture` and `hd` (the Workspace domain). Google grants
/// none of this server's scopes: give them by identity with `MCP_USE_OAUTH_SCOPE_GRANTS` (e.g.
/// `admin=email:ada@example.com` or `admin=hd:example.com`).
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | client id | `MCP_USE_OAUTH_GOOGLE_CLIENT_ID` | required |
/// | client secret | `MCP_USE_OAUTH_GOOGLE_CLIENT_SECRET` | required |
/// | Google's base URL | `MCP_USE_OAUTH_GOOGLE_BASE_URL` | Google's own hosts (a loopback URL points it at a fixture) |
///
/// Also read: `MCP_USE_OAUTH_SCOPE_GRANTS`, `MCP_USE_OAUTH_PROXY_AUTO_APPROVE`,
/// `MCP_STORE_ENCRYPTION_KEY`, `MCP_STORE_URL`. In the Google Cloud console: an OAuth client
/// of type "Web application" with the redirect URI `<your server's origin>/oauth/callback`, and
/// the consent screen's scopes `openid`, `email` and `profile`. The proxy asks for
/// `access_type=offline` and `prompt=consent`, so that Google returns a refresh token.
#[derive(Debug, Clone, Default)]
pub struct GoogleProvider {
    /// The OAuth client id.
    pub client_id: Option<String>,
    /// The OAuth client secret.
    pub client_secret: Option<String>,
    /// Replaces Google's hosts: `<base>/o/oauth2/v2/auth`, `<base>/token`,
    /// `<base>/oauth2/v3/certs`, issuer `<base>` (for tests against a fixture).
    pub base_url: Option<String>,
}

impl GoogleProvider {
    /// A Google OAuth client; unset settings come from the environment.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        GoogleProvider {
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            base_url: None,
        }
    }

    /// The proxy's settings for Google, from these settings and the environment; each missing
    /// or malformed variable is named.
    pub fn into_proxy(self) -> Result<ProxyProvider, ProviderError> {
        let client_id = required(
            self.client_id,
            "MCP_USE_OAUTH_GOOGLE_CLIENT_ID",
            "set it to your OAuth client's id (Google Cloud console > APIs & Services > Credentials)",
        )?;
        let secret = required(
            self.client_secret,
            "MCP_USE_OAUTH_GOOGLE_CLIENT_SECRET",
            "set it to your OAuth client's secret (Google Cloud console > APIs & Services > Credentials)",
        )?;
        let base = base_override(self.base_url, "MCP_USE_OAUTH_GOOGLE_BASE_URL")?;
        let (auth, token, issuer, jwks) = match &base {
            Some(b) => (
                format!("{b}/o/oauth2/v2/auth"),
                format!("{b}/token"),
                b.clone(),
                format!("{b}/oauth2/v3/certs"),
            ),
            None => (
                "https://accounts.google.com/o/oauth2/v2/auth".to_owned(),
                "https://oauth2.googleapis.com/token".to_owned(),
                "https://accounts.google.com".to_owned(),
                "https://www.googleapis.com/oauth2/v3/certs".to_owned(),
            ),
        };
        let mut p = ProxyProvider::new(auth, token, issuer, client_id)
            .client_secret(secret)
            .jwks_url(jwks)
            .scopes(["openid", "email", "profile"])
            .extra_authorize_param("access_type", "offline")
            .extra_authorize_param("prompt", "consent");
        // Google refuses scopes it does not know: this server's own are not asked of it.
        p.forward_client_scopes = false;
        if base.is_none() {
            // Google's ID tokens carry either spelling of its issuer.
            p.issuer_aliases.push("accounts.google.com".into());
        }
        p.common_from_env("google")
    }

    /// The server's OAuth configuration: the OAuth proxy in front of Google.
    pub fn into_oauth(self) -> Result<OAuth, ProviderError> {
        let proxy = self.into_proxy()?.resolve()?;
        tracing::info!(target: "mcp_runtime::auth", "Google sign-in through the OAuth proxy (Google has no dynamic client registration)");
        proxy.into_oauth()
    }
}
