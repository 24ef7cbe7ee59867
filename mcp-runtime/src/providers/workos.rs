//! WorkOS AuthKit (mcp-use's `oauthWorkOSProvider`), direct mode:
//! `MCP_USE_OAUTH_WORKOS_SUBDOMAIN`.

use std::sync::Arc;

use super::ProviderError;
use super::preset::{self, Assembly, extend_unique, roles_of};
use crate::auth::{OAuth, UserInfo};

/// WorkOS AuthKit: tokens from `https://<subdomain>.authkit.app`, keys at
/// `<issuer>/oauth2/jwks`; clients register dynamically with AuthKit (direct mode).
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | AuthKit host | `MCP_USE_OAUTH_WORKOS_SUBDOMAIN` | required: `my-company.authkit.app`, or `my-company` |
/// | client id | `MCP_USE_OAUTH_WORKOS_CLIENT_ID` | none: with one, `registration_endpoint` is not advertised |
/// | API key | `MCP_USE_OAUTH_WORKOS_API_KEY` | none (kept for mcp-use compatibility; never logged) |
/// | scopes | `MCP_USE_OAUTH_WORKOS_SCOPES` | `email offline_access openid profile` |
/// | verification | `MCP_USE_OAUTH_WORKOS_VERIFY_JWT` | `true` |
///
/// Tokens must be bound to this server (`aud` or `resource`). `org_id` becomes
/// `organization_id`; `role` and `roles` become roles; `permissions` are kept.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WorkOsProvider {
    /// The AuthKit host or its prefix.
    pub subdomain: Option<String>,
    /// A pre-registered client id.
    pub client_id: Option<String>,
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

    /// A pre-registered client: dynamic registration is not advertised.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
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

    /// The server's OAuth configuration.
    pub fn into_oauth(self, client: reqwest::Client) -> Result<OAuth, ProviderError> {
        let p = self.resolve()?;
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
        a.strip_registration = p.client_id.is_some();
        a.verify_jwt = p.verify_jwt.unwrap_or(true);
        a.userinfo = Some(format!("{issuer}/oauth2/userinfo"));
        Ok(a.into_oauth(client))
    }
}
