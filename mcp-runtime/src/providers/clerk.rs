//! Clerk (mcp-use's `oauthClerkProvider`): `MCP_USE_OAUTH_CLERK_FRONTEND_API_URL`.

use std::sync::Arc;

use super::ProviderError;
use super::preset::{self, Assembly, claim_at, claim_str, extend_unique, roles_of};
use crate::auth::{OAuth, UserInfo, string_list};

/// Clerk: tokens from the Frontend API URL, keys at `<issuer>/.well-known/jwks.json`.
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | Frontend API | `MCP_USE_OAUTH_CLERK_FRONTEND_API_URL` | required, e.g. `https://clerk.example.com` |
/// | scopes | `MCP_USE_OAUTH_CLERK_SCOPES` | `openid profile email` |
/// | verification | `MCP_USE_OAUTH_CLERK_VERIFY_JWT` | `true` |
///
/// Tokens must be bound to this server (`aud` or `resource`). The organization (`org_id`,
/// `org_role`, `org_permissions`, or the compact `o.id`, `o.rol`, `o.per` of session tokens
/// v2) becomes `organization_id`, a role, and permissions that `has_scope` sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClerkProvider {
    /// The Frontend API URL.
    pub frontend_api_url: Option<String>,
    /// Scopes advertised in the metadata.
    pub scopes: Option<Vec<String>>,
    /// `false` turns signature checks off (development only).
    pub verify_jwt: Option<bool>,
}

impl ClerkProvider {
    /// A Frontend API URL; unset settings come from the environment.
    pub fn new(frontend_api_url: impl Into<String>) -> Self {
        ClerkProvider {
            frontend_api_url: Some(frontend_api_url.into()),
            ..Default::default()
        }
    }

    /// Everything from `MCP_USE_OAUTH_CLERK_*`.
    pub fn from_env() -> Result<Self, ProviderError> {
        Self::default().resolve()
    }

    /// Fills unset settings from the environment and checks them; errors name the variable.
    pub fn resolve(mut self) -> Result<Self, ProviderError> {
        let var = "MCP_USE_OAUTH_CLERK_FRONTEND_API_URL";
        let url = preset::required(
            self.frontend_api_url.take(),
            var,
            "set it to your Clerk Frontend API URL (Dashboard > API keys), e.g. https://clerk.example.com",
        )?;
        self.frontend_api_url = Some(preset::host_or_url(var, &url)?);
        if self.scopes.is_none() {
            self.scopes = preset::scopes_from("MCP_USE_OAUTH_CLERK_SCOPES")?;
        }
        if self.verify_jwt.is_none() {
            self.verify_jwt = Some(preset::verify_jwt("MCP_USE_OAUTH_CLERK_VERIFY_JWT")?);
        }
        Ok(self)
    }

    /// The server's OAuth configuration.
    pub fn into_oauth(self, client: reqwest::Client) -> Result<OAuth, ProviderError> {
        let p = self.resolve()?;
        let issuer = p.frontend_api_url.unwrap_or_default();
        let mut a = Assembly::new(
            issuer.clone(),
            format!("{issuer}/.well-known/jwks.json"),
            Arc::new(|claims| {
                let mut user = UserInfo::from_claims(claims);
                let compact = |k: &str| claim_at(claims, &["o", k]);
                if user.organization_id.is_none() {
                    user.organization_id =
                        compact("id").and_then(|v| v.as_str()).map(str::to_owned);
                }
                extend_unique(&mut user.roles, roles_of(claims.get("org_role")));
                extend_unique(&mut user.roles, roles_of(compact("rol")));
                extend_unique(
                    &mut user.permissions,
                    string_list(claims.get("org_permissions")),
                );
                if let Some(per) = compact("per").and_then(|v| v.as_str()) {
                    extend_unique(
                        &mut user.permissions,
                        per.split(',').filter(|p| !p.is_empty()).map(str::to_owned),
                    );
                }
                if user.username.is_none() {
                    user.username = claim_str(claims, "username");
                }
                user
            }),
        );
        a.scopes = p
            .scopes
            .unwrap_or_else(|| ["openid", "profile", "email"].map(String::from).to_vec());
        a.verify_jwt = p.verify_jwt.unwrap_or(true);
        a.userinfo = Some(format!("{issuer}/oauth/userinfo"));
        Ok(a.into_oauth(client))
    }
}
