//! Auth0 (mcp-use's `oauthAuth0Provider`): `MCP_USE_OAUTH_AUTH0_DOMAIN` and
//! `MCP_USE_OAUTH_AUTH0_AUDIENCE`.

use std::sync::Arc;

use super::ProviderError;
use super::preset::{self, Assembly, claim_str, extend_unique, roles_of};
use crate::auth::{OAuth, UserInfo};

/// Auth0: tokens from `https://<domain>/`, keys at `https://<domain>/.well-known/jwks.json`,
/// `aud` must contain the API identifier (the audience).
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | domain | `MCP_USE_OAUTH_AUTH0_DOMAIN` | required (e.g. `my-tenant.us.auth0.com`) |
/// | audience | `MCP_USE_OAUTH_AUTH0_AUDIENCE` | required (the API identifier) |
/// | roles claim | `MCP_USE_OAUTH_AUTH0_ROLES_CLAIM` | `roles`, else any claim ending in `/roles` |
/// | scopes | `MCP_USE_OAUTH_AUTH0_SCOPES` | `openid profile email offline_access` |
/// | verification | `MCP_USE_OAUTH_AUTH0_VERIFY_JWT` | `true` |
/// | an application's client id | `MCP_USE_OAUTH_AUTH0_CLIENT_ID` | none: direct mode |
/// | its client secret | `MCP_USE_OAUTH_AUTH0_CLIENT_SECRET` | none |
///
/// With a client id (a "Regular Web Application" whose allowed callback URL is
/// `<your server's origin>/oauth/callback`), the preset runs behind the OAuth proxy: MCP
/// clients register with this server instead of with Auth0 (no dynamic registration needed
/// there), the proxy sends `audience` so that Auth0 issues a JWT for the API, and the API's
/// `permissions` and scopes grant the client's. Without one it stays in direct mode. The
/// start-up log says which.
///
/// `permissions` (Auth0 RBAC) land in `Auth.permissions` and `Auth.user.permissions`, and
/// `has_scope` sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth0Provider {
    /// The tenant's domain (a full `http://127.0.0.1:…` URL points it at a local fixture).
    pub domain: Option<String>,
    /// The API identifier tokens must carry in `aud`.
    pub audience: Option<String>,
    /// A namespaced claim holding roles (Auth0 Actions add e.g. `https://example.com/roles`).
    pub roles_claim: Option<String>,
    /// Scopes advertised in the metadata.
    pub scopes: Option<Vec<String>>,
    /// `false` turns signature checks off (development only).
    pub verify_jwt: Option<bool>,
    /// A pre-registered application's client id: proxy mode.
    pub client_id: Option<String>,
    /// Its client secret (redacted in `Debug`).
    pub client_secret: Option<crate::auth::verifier::Secret>,
}

impl Auth0Provider {
    /// A tenant and API; unset settings come from the environment.
    pub fn new(domain: impl Into<String>, audience: impl Into<String>) -> Self {
        Auth0Provider {
            domain: Some(domain.into()),
            audience: Some(audience.into()),
            ..Default::default()
        }
    }

    /// Everything from `MCP_USE_OAUTH_AUTH0_*`.
    pub fn from_env() -> Result<Self, ProviderError> {
        Self::default().resolve()
    }

    /// Sets the roles claim.
    pub fn roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.roles_claim = Some(claim.into());
        self
    }

    /// Fills unset settings from the environment and checks them; errors name the variable.
    pub fn resolve(mut self) -> Result<Self, ProviderError> {
        let domain = preset::required(
            self.domain.take(),
            "MCP_USE_OAUTH_AUTH0_DOMAIN",
            "set it to your Auth0 tenant's domain, e.g. my-tenant.us.auth0.com",
        )?;
        self.domain = Some(preset::host_or_url("MCP_USE_OAUTH_AUTH0_DOMAIN", &domain)?);
        self.audience = Some(preset::required(
            self.audience.take(),
            "MCP_USE_OAUTH_AUTH0_AUDIENCE",
            "set it to your Auth0 API's identifier (Applications > APIs), e.g. https://mcp.example.com",
        )?);
        if self.roles_claim.is_none() {
            self.roles_claim = super::env("MCP_USE_OAUTH_AUTH0_ROLES_CLAIM");
        }
        if self.scopes.is_none() {
            self.scopes = preset::scopes_from("MCP_USE_OAUTH_AUTH0_SCOPES")?;
        }
        if self.verify_jwt.is_none() {
            self.verify_jwt = Some(preset::verify_jwt("MCP_USE_OAUTH_AUTH0_VERIFY_JWT")?);
        }
        if self.client_id.is_none() {
            self.client_id = super::env("MCP_USE_OAUTH_AUTH0_CLIENT_ID");
        }
        if self.client_secret.is_none() {
            self.client_secret = super::env("MCP_USE_OAUTH_AUTH0_CLIENT_SECRET")
                .map(crate::auth::verifier::Secret::new);
        }
        Ok(self)
    }

    /// Proxy mode: the OAuth proxy in front of the tenant, as the pre-registered application.
    /// The proxy's settings in front of Auth0 (proxy mode), from these settings and the
    /// environment; each missing or malformed variable is named.
    #[cfg(feature = "authorization-server")]
    pub fn into_proxy(self) -> Result<super::ProxyProvider, ProviderError> {
        let mut s = self.resolve()?;
        let client_id = super::preset::required(
            s.client_id.take(),
            "MCP_USE_OAUTH_AUTH0_CLIENT_ID",
            "set it to your Auth0 application's client id (Applications > your Regular Web Application > Settings)",
        )?;
        let base = s.domain.unwrap_or_default();
        let issuer = format!("{base}/");
        let audience = s.audience.unwrap_or_default();
        let mut p = super::ProxyProvider::new(
            format!("{base}/authorize"),
            format!("{base}/oauth/token"),
            issuer.clone(),
            client_id,
        )
        .jwks_url(format!("{issuer}.well-known/jwks.json"))
        .audience(audience.clone())
        .extra_authorize_param("audience", audience)
        .scopes(["openid", "profile", "email", "offline_access"]);
        if let Some(secret) = s.client_secret {
            p = p.client_secret(secret.expose());
        }
        p.roles_claim = Some(match s.roles_claim {
            Some(c) => super::proxy::RolesClaim::Named(c),
            None => super::proxy::RolesClaim::Namespaced,
        });
        p.common_from_env("auth0")
    }

    /// The server's OAuth configuration.
    pub fn into_oauth(self, client: reqwest::Client) -> Result<OAuth, ProviderError> {
        let p = self.resolve()?;
        #[cfg(feature = "authorization-server")]
        if p.client_id.is_some() {
            tracing::info!(
                target: "mcp_runtime::auth",
                "Auth0 in proxy mode: MCP_USE_OAUTH_AUTH0_CLIENT_ID is set, so MCP clients register with this server and sign in at Auth0 as that application"
            );
            return p.into_proxy()?.resolve()?.into_oauth();
        }
        #[cfg(not(feature = "authorization-server"))]
        if p.client_id.is_some() {
            return Err(ProviderError::Setup(
                "MCP_USE_OAUTH_AUTH0_CLIENT_ID selects proxy mode, which needs the runtime's `proxy` feature".into(),
            ));
        }
        tracing::info!(
            target: "mcp_runtime::auth",
            "Auth0 in direct mode: clients register with Auth0 (set MCP_USE_OAUTH_AUTH0_CLIENT_ID for proxy mode)"
        );
        let base = p.domain.unwrap_or_default();
        let issuer = format!("{base}/");
        let audience = p.audience.unwrap_or_default();
        let roles_claim = p.roles_claim;
        let mut a = Assembly::new(
            issuer.clone(),
            format!("{issuer}.well-known/jwks.json"),
            Arc::new(move |claims| {
                let mut user = UserInfo::from_claims(claims);
                let roles = match &roles_claim {
                    Some(c) => roles_of(claims.get(c)),
                    None => claims
                        .iter()
                        .find(|(k, _)| k.ends_with("/roles"))
                        .map(|(_, v)| roles_of(Some(v)))
                        .unwrap_or_default(),
                };
                extend_unique(&mut user.roles, roles);
                if user.username.is_none() {
                    user.username = claim_str(claims, "nickname");
                }
                user
            }),
        );
        a.opaque_hint = Some(format!(
            "Auth0 issues opaque access tokens when the client asks for no audience; request \
             tokens with audience={audience} so that Auth0 issues a JWT for this API"
        ));
        a.audience = Some(audience);
        a.scopes = p.scopes.unwrap_or_else(|| {
            ["openid", "profile", "email", "offline_access"]
                .map(String::from)
                .to_vec()
        });
        a.verify_jwt = p.verify_jwt.unwrap_or(true);
        a.userinfo = Some(format!("{issuer}userinfo"));
        Ok(a.into_oauth(client))
    }
}
