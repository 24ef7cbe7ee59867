//! Okta, behind the OAuth proxy (Okta's dynamic registration needs an admin token, so MCP
//! clients cannot register themselves): `MCP_USE_OAUTH_OKTA_DOMAIN`,
//! `MCP_USE_OAUTH_OKTA_CLIENT_ID` and `MCP_USE_OAUTH_OKTA_CLIENT_SECRET`.

use super::preset::{host_or_url, required};
use super::proxy::ProxyProvider;
use super::{ProviderError, env};
use crate::auth::OAuth;

/// Okta sign-in through the OAuth proxy, with a custom authorization server
/// (`https://<domain>/oauth2/<id>`, `default` unless set). Its access tokens are JWTs for the
/// authorization server's audience (`api://default` unless set), with the granted scopes in
/// `scp` (an array) and, when the server is set up so, `groups`: granted scopes reach the
/// client's token, groups reach `Auth.claims` (and `MCP_USE_OAUTH_SCOPE_GRANTS` can map a
/// group to a scope: `admin=groups:mcp-admins`).
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | domain | `MCP_USE_OAUTH_OKTA_DOMAIN` | required (e.g. `dev-123.okta.com`; a loopback URL points it at a fixture) |
/// | client id | `MCP_USE_OAUTH_OKTA_CLIENT_ID` | required |
/// | client secret | `MCP_USE_OAUTH_OKTA_CLIENT_SECRET` | none (a public app) |
/// | authorization server | `MCP_USE_OAUTH_OKTA_AUTH_SERVER_ID` | `default` |
/// | audience | `MCP_USE_OAUTH_OKTA_AUDIENCE` | `api://default` |
///
/// Also read: `MCP_USE_OAUTH_SCOPE_GRANTS`, `MCP_USE_OAUTH_PROXY_AUTO_APPROVE`,
/// `MCP_STORE_ENCRYPTION_KEY`, `MCP_STORE_URL`. In the Okta admin console: a "Web Application"
/// (OIDC) with the sign-in redirect URI `<your server's origin>/oauth/callback`; on the
/// authorization server, the scopes your tools use (e.g. `admin`) and an access policy that
/// grants them.
#[derive(Debug, Clone, Default)]
pub struct OktaProvider {
    /// The Okta domain.
    pub domain: Option<String>,
    /// The app's client id.
    pub client_id: Option<String>,
    /// The app's client secret.
    pub client_secret: Option<String>,
    /// The custom authorization server's id.
    pub auth_server_id: Option<String>,
    /// The audience of its access tokens.
    pub audience: Option<String>,
}

impl OktaProvider {
    /// An Okta app; unset settings come from the environment.
    pub fn new(domain: impl Into<String>, client_id: impl Into<String>) -> Self {
        OktaProvider {
            domain: Some(domain.into()),
            client_id: Some(client_id.into()),
            ..Default::default()
        }
    }

    /// The proxy's settings for Okta; each missing or malformed variable is named.
    pub fn into_proxy(self) -> Result<ProxyProvider, ProviderError> {
        let domain = required(
            self.domain,
            "MCP_USE_OAUTH_OKTA_DOMAIN",
            "set it to your Okta domain, e.g. dev-123456.okta.com",
        )?;
        let base = host_or_url("MCP_USE_OAUTH_OKTA_DOMAIN", &domain)?;
        let client_id = required(
            self.client_id,
            "MCP_USE_OAUTH_OKTA_CLIENT_ID",
            "set it to your Okta app's client id (Applications > your app > General)",
        )?;
        let server = self
            .auth_server_id
            .or_else(|| env("MCP_USE_OAUTH_OKTA_AUTH_SERVER_ID"))
            .unwrap_or_else(|| "default".into());
        if server.is_empty()
            || !server
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ProviderError::Invalid {
                var: "MCP_USE_OAUTH_OKTA_AUTH_SERVER_ID",
                reason: format!(
                    "`{server}` is not an authorization server id (letters, digits, `-`, `_`)"
                ),
            });
        }
        let audience = self
            .audience
            .or_else(|| env("MCP_USE_OAUTH_OKTA_AUDIENCE"))
            .unwrap_or_else(|| "api://default".into());
        let issuer = format!("{base}/oauth2/{server}");
        let mut p = ProxyProvider::new(
            format!("{issuer}/v1/authorize"),
            format!("{issuer}/v1/token"),
            issuer.clone(),
            client_id,
        )
        .jwks_url(format!("{issuer}/v1/keys"))
        .audience(audience)
        .scopes(["openid", "profile", "email"]);
        if let Some(secret) = self
            .client_secret
            .or_else(|| env("MCP_USE_OAUTH_OKTA_CLIENT_SECRET"))
        {
            p = p.client_secret(secret);
        }
        p.common_from_env("okta")
    }

    /// The server's OAuth configuration: the OAuth proxy in front of Okta.
    pub fn into_oauth(self) -> Result<OAuth, ProviderError> {
        let proxy = self.into_proxy()?.resolve()?;
        tracing::info!(target: "mcp_runtime::auth", "Okta sign-in through the OAuth proxy");
        proxy.into_oauth()
    }
}
