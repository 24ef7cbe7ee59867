//! WorkOS AuthKit (mcp-use's `oauthWorkOSProvider`): `MCP_USE_OAUTH_WORKOS_SUBDOMAIN`, in
//! direct mode, or behind the OAuth proxy with a pre-registered client
//! (`MCP_USE_OAUTH_WORKOS_CLIENT_ID`).

use std::sync::Arc;

use super::ProviderError;
use super::preset::{self, Assembly, extend_unique, roles_of};
use crate::auth::{OAuth, UserInfo};

/// WorkOS AuthKit: tokens from `https://<subdomain>.authkit.app`, keys at
/// `<issuer>/oauth2/jwks`.
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | AuthKit host | `MCP_USE_OAUTH_WORKOS_SUBDOMAIN` | required: `my-company.authkit.app`, or `my-company` |
/// | client id | `MCP_USE_OAUTH_WORKOS_CLIENT_ID` | none: direct mode |
/// | client secret | `MCP_USE_OAUTH_WORKOS_CLIENT_SECRET` | none: a public client (PKCE only) |
/// | API key | `MCP_USE_OAUTH_WORKOS_API_KEY` | none (kept for mcp-use compatibility; never logged, never sent) |
/// | scopes | `MCP_USE_OAUTH_WORKOS_SCOPES` | `email offline_access openid profile` |
/// | verification | `MCP_USE_OAUTH_WORKOS_VERIFY_JWT` | `true` |
///
/// Without a client id, MCP clients register with AuthKit itself (dynamic registration must be
/// on in the WorkOS dashboard) and present AuthKit's tokens here: direct mode. With one (an
/// OAuth application in the dashboard whose redirect URI is `<your server's
/// origin>/oauth/callback`), the preset runs behind the OAuth proxy: clients register with
/// this server, users sign in at AuthKit as that application, and `resource` is forwarded so
/// AuthKit's tokens are bound to this server. The start-up log says which mode. The API key is
/// a management credential, not the application's secret: it is never sent to AuthKit.
///
/// Tokens must be bound to this server (`aud` or `resource`). `org_id` becomes
/// `organization_id`; `role` and `roles` become roles; `permissions` are kept (and, behind the
/// proxy, grant the scopes of the same name).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WorkOsProvider {
    /// The AuthKit host or its prefix.
    pub subdomain: Option<String>,
    /// A pre-registered client id: proxy mode.
    pub client_id: Option<String>,
    /// Its client secret, for a confidential application (redacted in `Debug`).
    pub client_secret: Option<crate::auth::verifier::Secret>,
    /// The WorkOS API key.
    pub api_key: Option<crate::auth::verifier::Secret>,
    /// Scopes advertised in the metadata.
    pub scopes: Option<Vec<String>>,
    /// `false` turns signature checks off (development only).
    pub verify_jwt: Option<bool>,
}

impl std::fmt::Debug for WorkOsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkOsProvider")
            .field("subdomain", &self.subdomain)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl WorkOsProvider {
    /// An AuthKit host (or prefix); unset settings come from the environment.
    pub fn new(subdomain: impl Into<String>) -> Self {
        WorkOsProvider {
            subdomain: Some(subdomain.into()),
            ..Default::default()
        }
    }

    /// Everything from `MCP_USE_OAUTH_WORKOS_*`.
    pub fn from_env() -> Result<Self, ProviderError> {
        Self::default().resolve()
    }

    /// A pre-registered client: the preset runs behind the OAuth proxy.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The pre-registered client's secret (a confidential application).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(crate::auth::verifier::Secret::new(secret));
        self
    }

    /// Fills unset settings from the environment and checks them; errors name the variable.
    pub fn resolve(mut self) -> Result<Self, ProviderError> {
        let var = "MCP_USE_OAUTH_WORKOS_SUBDOMAIN";
        let sub = preset::required(
            self.subdomain.take(),
            var,
            "set it to your AuthKit domain, e.g. my-company.authkit.app",
        )?;
        let host = if sub.contains("://") || sub.contains('.') {
            sub
        } else {
            format!("{sub}.authkit.app")
        };
        self.subdomain = Some(preset::host_or_url(var, &host)?);
        if self.client_id.is_none() {
            self.client_id = super::env("MCP_USE_OAUTH_WORKOS_CLIENT_ID");
        }
        if self.client_secret.is_none() {
            self.client_secret = super::env("MCP_USE_OAUTH_WORKOS_CLIENT_SECRET")
                .map(crate::auth::verifier::Secret::new);
        }
        if self.api_key.is_none() {
            self.api_key =
                super::env("MCP_USE_OAUTH_WORKOS_API_KEY").map(crate::auth::verifier::Secret::new);
        }
        if self.scopes.is_none() {
            self.scopes = preset::scopes_from("MCP_USE_OAUTH_WORKOS_SCOPES")?;
        }
        if self.verify_jwt.is_none() {
            self.verify_jwt = Some(preset::verify_jwt("MCP_USE_OAUTH_WORKOS_VERIFY_JWT")?);
        }
        Ok(self)
    }

    /// Proxy mode: the OAuth proxy in front of AuthKit, as the pre-registered application.
    /// The proxy's settings in front of AuthKit (proxy mode), from these settings and the
    /// environment; each missing or malformed variable is named.
    #[cfg(feature = "authorization-server")]
    pub fn into_proxy(self) -> Result<super::ProxyProvider, ProviderError> {
        let mut s = self.resolve()?;
        let client_id = super::preset::required(
            s.client_id.take(),
            "MCP_USE_OAUTH_WORKOS_CLIENT_ID",
            "set it to your WorkOS OAuth application's client id (WorkOS dashboard > Applications)",
        )?;
        let issuer = s.subdomain.unwrap_or_default();
        let mut p = super::ProxyProvider::new(
            format!("{issuer}/oauth2/authorize"),
            format!("{issuer}/oauth2/token"),
            issuer.clone(),
            client_id,
        )
        .jwks_url(format!("{issuer}/oauth2/jwks"))
        .forward_resource(true)
        .scopes(s.scopes.unwrap_or_else(|| {
            ["email", "offline_access", "openid", "profile"]
                .map(String::from)
                .to_vec()
        }));
        if let Some(secret) = s.client_secret {
            p = p.client_secret(secret.expose());
        }
        p.roles_claim = Some(super::proxy::RolesClaim::Named("role".into()));
        p.common_from_env("workos")
    }

    /// The server's OAuth configuration.
    pub fn into_oauth(self, client: reqwest::Client) -> Result<OAuth, ProviderError> {
        let p = self.resolve()?;
        #[cfg(feature = "authorization-server")]
        if p.client_id.is_some() {
            tracing::info!(
                target: "mcp_runtime::auth",
                "WorkOS in proxy mode: MCP_USE_OAUTH_WORKOS_CLIENT_ID is set, so MCP clients register with this server and sign in at AuthKit as that application"
            );
            return p.into_proxy()?.resolve()?.into_oauth();
        }
        #[cfg(not(feature = "authorization-server"))]
        if p.client_id.is_some() {
            return Err(ProviderError::Setup(
                "MCP_USE_OAUTH_WORKOS_CLIENT_ID selects proxy mode, which needs the runtime's `proxy` feature".into(),
            ));
        }
        tracing::info!(
            target: "mcp_runtime::auth",
            "WorkOS in direct mode: clients register with AuthKit (set MCP_USE_OAUTH_WORKOS_CLIENT_ID for proxy mode)"
        );
        let issuer = p.subdomain.unwrap_or_default();
        let mut a = Assembly::new(
            issuer.clone(),
            format!("{issuer}/oauth2/jwks"),
            Arc::new(|claims| {
                let mut user = UserInfo::from_claims(claims);
                extend_unique(&mut user.roles, roles_of(claims.get("role")));
                user
            }),
        );
        a.scopes = p.scopes.unwrap_or_else(|| {
            ["email", "offline_access", "openid", "profile"]
                .map(String::from)
                .to_vec()
        });
        a.verify_jwt = p.verify_jwt.unwrap_or(true);
        a.userinfo = Some(format!("{issuer}/oauth2/userinfo"));
        Ok(a.into_oauth(client))
    }
}
