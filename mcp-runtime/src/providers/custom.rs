//! The custom provider (mcp-use's `oauthCustomProvider`): any OAuth 2.1 / OIDC issuer whose
//! clients register and sign in directly (direct mode); this server only verifies the tokens.

use std::sync::Arc;

use super::{ProviderError, check_url, env};
use crate::auth::jwks::JwksCache;
use crate::auth::verifier::JwtVerifier;
use crate::auth::{OAuth, UserInfo};

/// The custom provider's settings. Explicit values beat the environment.
///
/// | setting | environment | default |
/// | --- | --- | --- |
/// | issuer | `MCP_USE_OAUTH_CUSTOM_ISSUER` | required |
/// | JWKS URL | `MCP_USE_OAUTH_CUSTOM_JWKS_URL` | discovered from the issuer's metadata |
/// | audience | `MCP_USE_OAUTH_CUSTOM_AUDIENCE` | this server's resource URL (RFC 8707) |
/// | authorization endpoint | `MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT` | from the issuer's metadata |
/// | token endpoint | `MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT` | from the issuer's metadata |
/// | userinfo endpoint | `MCP_USE_OAUTH_CUSTOM_USERINFO_ENDPOINT` | none |
/// | scopes | `MCP_USE_OAUTH_CUSTOM_SCOPES` (space or comma separated) | none |
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomProvider {
    /// The issuer (`iss` of its tokens).
    pub issuer: String,
    /// Where its signing keys are published.
    pub jwks_url: Option<String>,
    /// The audience its tokens carry for this server.
    pub audience: Option<String>,
    /// Its authorization endpoint.
    pub auth_endpoint: Option<String>,
    /// Its token endpoint.
    pub token_endpoint: Option<String>,
    /// Its userinfo endpoint.
    pub userinfo_endpoint: Option<String>,
    /// The scopes it offers (advertised in the protected resource metadata).
    pub scopes: Vec<String>,
}

impl CustomProvider {
    /// A provider for `issuer`; other settings from the environment where set.
    pub fn new(issuer: impl Into<String>) -> Self {
        CustomProvider {
            issuer: issuer.into(),
            ..Default::default()
        }
    }

    /// Everything from the environment (`MCP_USE_OAUTH_CUSTOM_*`); a missing issuer or a
    /// malformed value is an error naming the variable.
    pub fn from_env() -> Result<Self, ProviderError> {
        let issuer = env("MCP_USE_OAUTH_CUSTOM_ISSUER").ok_or(ProviderError::Missing {
            var: "MCP_USE_OAUTH_CUSTOM_ISSUER",
            hint: "set it to your authorization server's issuer URL, e.g. https://auth.example.com",
        })?;
        Self::new(issuer).resolve()
    }

    /// The JWKS URL (default: discovered from the issuer's metadata).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// The audience tokens must carry (default: this server's resource URL).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The scopes the provider offers.
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Fills unset values from the environment and validates everything.
    pub fn resolve(mut self) -> Result<Self, ProviderError> {
        self.issuer = check_url("MCP_USE_OAUTH_CUSTOM_ISSUER", &self.issuer)?;
        let url =
            |current: Option<String>, var: &'static str| -> Result<Option<String>, ProviderError> {
                match current.or_else(|| env(var)) {
                    Some(v) => check_url(var, &v).map(Some),
                    None => Ok(None),
                }
            };
        self.jwks_url = url(self.jwks_url.take(), "MCP_USE_OAUTH_CUSTOM_JWKS_URL")?;
        self.auth_endpoint = url(
            self.auth_endpoint.take(),
            "MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT",
        )?;
        self.token_endpoint = url(
            self.token_endpoint.take(),
            "MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT",
        )?;
        self.userinfo_endpoint = url(
            self.userinfo_endpoint.take(),
            "MCP_USE_OAUTH_CUSTOM_USERINFO_ENDPOINT",
        )?;
        if self.audience.is_none() {
            self.audience = env("MCP_USE_OAUTH_CUSTOM_AUDIENCE");
        }
        if self.scopes.is_empty()
            && let Some(s) = env("MCP_USE_OAUTH_CUSTOM_SCOPES")
        {
            self.scopes = s
                .split([' ', ','])
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect();
        }
        for s in &self.scopes {
            if !crate::auth::is_scope_token(s) {
                return Err(ProviderError::Invalid {
                    var: "MCP_USE_OAUTH_CUSTOM_SCOPES",
                    reason: format!("`{s}` is not a valid scope"),
                });
            }
        }
        Ok(self)
    }

    /// The server's OAuth configuration: JWT verification against the issuer's keys, with
    /// `iss` and the audience (or this server's resource URL) required.
    pub fn into_oauth(self, client: reqwest::Client) -> OAuth {
        let jwks = match &self.jwks_url {
            Some(url) => JwksCache::new(url.clone(), client.clone()),
            None => JwksCache::discover(self.issuer.clone(), client.clone()),
        };
        let mut verifier = JwtVerifier::jwks(Arc::new(jwks)).issuer(self.issuer.clone());
        if let Some(aud) = &self.audience {
            verifier = verifier.audience(aud.clone());
        }
        let mut oauth = OAuth::new(verifier, self.issuer.clone());
        if let (Some(auth), Some(token)) = (&self.auth_endpoint, &self.token_endpoint) {
            let mut m = serde_json::json!({
                "issuer": self.issuer,
                "authorization_endpoint": auth,
                "token_endpoint": token,
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
            });
            if let Some(u) = &self.userinfo_endpoint {
                m["userinfo_endpoint"] = u.clone().into();
            }
            if let Some(j) = &self.jwks_url {
                m["jwks_uri"] = j.clone().into();
            }
            if !self.scopes.is_empty() {
                m["scopes_supported"] = self.scopes.clone().into();
            }
            oauth = oauth.authorization_server_metadata(m);
        }
        if let Some(u) = &self.userinfo_endpoint {
            oauth = oauth.userinfo_endpoint(u.clone(), client.clone());
        }
        oauth
            .scopes_supported(self.scopes)
            .user_info(UserInfo::from_claims)
    }
}
