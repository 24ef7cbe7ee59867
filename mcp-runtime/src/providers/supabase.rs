//! Supabase Auth (mcp-use's `oauthSupabaseProvider`): `MCP_USE_OAUTH_SUPABASE_PROJECT_ID` (or
//! `MCP_USE_OAUTH_SUPABASE_URL`), optional `MCP_USE_OAUTH_SUPABASE_JWT_SECRET`.

use std::sync::Arc;

use super::ProviderError;
use super::preset::{self, Assembly, claim_at, claim_str, extend_unique, roles_of};
use crate::auth::verifier::Secret;
use crate::auth::{OAuth, UserInfo};

/// Supabase: tokens from `<project URL>/auth/v1` with `aud` = `authenticated`. Asymmetric
/// signing keys (ES256, RS256) come from `<issuer>/.well-known/jwks.json`; HS256 is accepted
/// only with the project's legacy JWT secret; nothing else is.
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | project | `MCP_USE_OAUTH_SUPABASE_PROJECT_ID` (→ `https://<id>.supabase.co`) or `MCP_USE_OAUTH_SUPABASE_URL` | one required |
/// | legacy secret | `MCP_USE_OAUTH_SUPABASE_JWT_SECRET` | none: HS256 refused |
/// | verification | `MCP_USE_OAUTH_SUPABASE_VERIFY_JWT` | `true` |
///
/// `role` becomes a role, `user_metadata.full_name`/`name` the name,
/// `user_metadata.avatar_url`/`picture` the picture; `aal` stays in `Auth.claims`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SupabaseProvider {
    /// The project URL (`https://<id>.supabase.co`).
    pub url: Option<String>,
    /// The project id (used when no URL is given).
    pub project_id: Option<String>,
    /// The legacy HS256 JWT secret.
    pub jwt_secret: Option<Secret>,
    /// `false` turns signature checks off (development only).
    pub verify_jwt: Option<bool>,
}

impl std::fmt::Debug for SupabaseProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupabaseProvider")
            .field("url", &self.url)
            .field("project_id", &self.project_id)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl SupabaseProvider {
    /// A project by id; unset settings come from the environment.
    pub fn new(project_id: impl Into<String>) -> Self {
        SupabaseProvider {
            project_id: Some(project_id.into()),
            ..Default::default()
        }
    }

    /// Everything from `MCP_USE_OAUTH_SUPABASE_*`.
    pub fn from_env() -> Result<Self, ProviderError> {
        Self::default().resolve()
    }

    /// Accepts HS256 tokens signed with the legacy secret.
    pub fn jwt_secret(mut self, secret: impl Into<String>) -> Self {
        self.jwt_secret = Some(Secret::new(secret));
        self
    }

    /// Fills unset settings from the environment and checks them; errors name the variable.
    pub fn resolve(mut self) -> Result<Self, ProviderError> {
        if self.url.is_none() && self.project_id.is_none() {
            self.url = super::env("MCP_USE_OAUTH_SUPABASE_URL");
            self.project_id = super::env("MCP_USE_OAUTH_SUPABASE_PROJECT_ID");
        }
        self.url = Some(match (self.url.take(), &self.project_id) {
            (Some(url), _) => {
                super::check_url("MCP_USE_OAUTH_SUPABASE_URL", url.trim_end_matches('/'))?
            }
            (None, Some(id)) => {
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err(ProviderError::Invalid {
                        var: "MCP_USE_OAUTH_SUPABASE_PROJECT_ID",
                        reason: format!(
                            "`{id}` is not a project id (letters and digits, from Project Settings)"
                        ),
                    });
                }
                format!("https://{id}.supabase.co")
            }
            (None, None) => {
                return Err(ProviderError::Missing {
                    var: "MCP_USE_OAUTH_SUPABASE_PROJECT_ID",
                    hint: "set it to your project's id (or MCP_USE_OAUTH_SUPABASE_URL to its URL)",
                });
            }
        });
        if self.jwt_secret.is_none() {
            self.jwt_secret = super::env("MCP_USE_OAUTH_SUPABASE_JWT_SECRET").map(Secret::new);
        }
        if self.verify_jwt.is_none() {
            self.verify_jwt = Some(preset::verify_jwt("MCP_USE_OAUTH_SUPABASE_VERIFY_JWT")?);
        }
        Ok(self)
    }

    /// The server's OAuth configuration.
    pub fn into_oauth(self, client: reqwest::Client) -> Result<OAuth, ProviderError> {
        let p = self.resolve()?;
        let issuer = format!("{}/auth/v1", p.url.unwrap_or_default());
        let mut a = Assembly::new(
            issuer.clone(),
            format!("{issuer}/.well-known/jwks.json"),
            Arc::new(|claims| {
                let mut user = UserInfo::from_claims(claims);
                extend_unique(&mut user.roles, roles_of(claims.get("role")));
                let meta = |k: &str| {
                    claim_at(claims, &["user_metadata", k])
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                };
                user.name = user
                    .name
                    .or_else(|| meta("full_name"))
                    .or_else(|| meta("name"));
                user.picture = user
                    .picture
                    .or_else(|| meta("avatar_url"))
                    .or_else(|| meta("picture"));
                if user.username.is_none() {
                    user.username = meta("user_name").or_else(|| claim_str(claims, "phone"));
                }
                user
            }),
        );
        a.audience = Some("authenticated".into());
        a.hs256_secret = p.jwt_secret.map(|s| s.expose().to_owned());
        a.verify_jwt = p.verify_jwt.unwrap_or(true);
        Ok(a.into_oauth(client))
    }
}
