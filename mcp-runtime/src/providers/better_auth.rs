//! Better Auth (mcp-use's `oauthBetterAuthProvider`): `MCP_USE_OAUTH_BETTER_AUTH_URL`.

use std::sync::Arc;

use super::ProviderError;
use super::preset::{self, Assembly};
use crate::auth::{OAuth, UserInfo};

/// Better Auth (its OIDC provider and JWT plugins): tokens from the auth URL, keys at
/// `<url>/jwks`.
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | auth URL | `MCP_USE_OAUTH_BETTER_AUTH_URL` | required, e.g. `https://app.example.com/api/auth` |
/// | scopes | `MCP_USE_OAUTH_BETTER_AUTH_SCOPES` | `openid profile email` |
/// | verification | `MCP_USE_OAUTH_BETTER_AUTH_VERIFY_JWT` | `true` |
///
/// Tokens must be bound to this server (`aud` or `resource`). Standard OIDC claims, `roles`
/// and `permissions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BetterAuthProvider {
    /// The auth URL (the issuer).
    pub url: Option<String>,
    /// Scopes advertised in the metadata.
    pub scopes: Option<Vec<String>>,
    /// `false` turns signature checks off (development only).
    pub verify_jwt: Option<bool>,
}

impl BetterAuthProvider {
    /// An auth URL; unset settings come from the environment.
    pub fn new(url: impl Into<String>) -> Self {
        BetterAuthProvider {
            url: Some(url.into()),
            ..Default::default()
        }
    }

    /// Everything from `MCP_USE_OAUTH_BETTER_AUTH_*`.
    pub fn from_env() -> Result<Self, ProviderError> {
        Self::default().resolve()
    }

    /// Fills unset settings from the environment and checks them; errors name the variable.
    pub fn resolve(mut self) -> Result<Self, ProviderError> {
        let var = "MCP_USE_OAUTH_BETTER_AUTH_URL";
        let url = preset::required(
            self.url.take(),
            var,
            "set it to your Better Auth URL, e.g. https://app.example.com/api/auth",
        )?;
        self.url = Some(super::check_url(var, url.trim_end_matches('/'))?);
        if self.scopes.is_none() {
            self.scopes = preset::scopes_from("MCP_USE_OAUTH_BETTER_AUTH_SCOPES")?;
        }
        if self.verify_jwt.is_none() {
            self.verify_jwt = Some(preset::verify_jwt("MCP_USE_OAUTH_BETTER_AUTH_VERIFY_JWT")?);
        }
        Ok(self)
    }

    /// The server's OAuth configuration.
    pub fn into_oauth(self, client: reqwest::Client) -> Result<OAuth, ProviderError> {
        let p = self.resolve()?;
        let issuer = p.url.unwrap_or_default();
        let mut a = Assembly::new(
            issuer.clone(),
            format!("{issuer}/jwks"),
            Arc::new(UserInfo::from_claims),
        );
        a.algorithms = vec![
            crate::auth::Algorithm::EdDSA,
            crate::auth::Algorithm::ES256,
            crate::auth::Algorithm::RS256,
        ];
        a.scopes = p
            .scopes
            .unwrap_or_else(|| ["openid", "profile", "email"].map(String::from).to_vec());
        a.verify_jwt = p.verify_jwt.unwrap_or(true);
        a.userinfo = Some(format!("{issuer}/oauth2/userinfo"));
        Ok(a.into_oauth(client))
    }
}
