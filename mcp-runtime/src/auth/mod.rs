//! OAuth 2.1 resource server: bearer tokens, their verification, and the caller's identity.
//!
//! Every request to the MCP endpoint carries `Authorization: Bearer <token>` (RFC 6750 §2.1;
//! tokens in the query string are refused). A [`TokenVerifier`] turns the token into claims;
//! the claims become an [`Auth`], which tools take as a parameter and which scope guards check.
//!
//! The caller's types ([`Auth`], [`UserInfo`], [`ScopeError`]) are always here; verification,
//! discovery and the rest come with the `oauth` feature (on by default).

#[cfg(feature = "oauth")]
mod algorithm;
#[cfg(feature = "oauth")]
pub mod cache;
#[cfg(feature = "oauth")]
pub mod config;
#[cfg(feature = "oauth")]
pub(crate) mod dpop;
#[cfg(feature = "authorization-server")]
pub(crate) mod embedded;
#[cfg(feature = "oauth")]
pub mod guard;
#[cfg(feature = "oauth")]
pub(crate) mod http;
#[cfg(feature = "oauth")]
pub mod jwks;
#[cfg(feature = "oauth")]
pub(crate) mod jws;
#[cfg(feature = "oauth")]
pub mod jwt;
#[cfg(feature = "oauth")]
pub mod metadata;
#[cfg(feature = "oauth")]
pub(crate) mod outgoing;
#[cfg(feature = "oauth")]
pub mod relay;
#[cfg(feature = "authorization-server")]
pub(crate) mod revocations;
#[cfg(feature = "oauth")]
pub mod routes;
pub mod scope;
#[cfg(feature = "oauth")]
pub mod userinfo;
#[cfg(feature = "oauth")]
pub mod verifier;

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde_json::{Map, Value};

#[cfg(feature = "oauth")]
pub use algorithm::{Algorithm, UnknownAlgorithm};
#[cfg(feature = "oauth")]
pub use config::{IntoOAuth, OAuth};
pub use scope::{ScopeHierarchy, ScopeRefusal, is_scope_token, scopes_from_claims};
#[cfg(feature = "oauth")]
pub use verifier::{TokenVerifier, Verified};

/// An access token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn new(token: &str) -> Self {
        AccessToken(token.to_owned())
    }
    /// The token itself, e.g. to call an upstream API on the user's behalf.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Who the caller is, mapped from the token's claims.
///
/// `#[non_exhaustive]`: start from [`UserInfo::new`] or [`UserInfo::from_claims`] and set the
/// fields, e.g. in a mapper given to `OAuth::user_info`:
///
/// ```
/// use mcp_runtime::auth::UserInfo;
/// let mut user = UserInfo::new("user-1");
/// user.roles = vec!["admin".into()];
/// assert_eq!(user.user_id, "user-1");
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// `sub`.
    pub user_id: String,
    /// `email`.
    pub email: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `preferred_username` or `username`.
    pub username: Option<String>,
    /// `nickname`.
    pub nickname: Option<String>,
    /// `picture`.
    pub picture: Option<String>,
    /// `roles` (or a provider's role claim).
    pub roles: Vec<String>,
    /// `permissions` (or a provider's permission claim).
    pub permissions: Vec<String>,
    /// `org_id` or `organization_id`.
    pub organization_id: Option<String>,
}

impl UserInfo {
    /// A user known only by its id (`sub`).
    pub fn new(user_id: impl Into<String>) -> Self {
        UserInfo {
            user_id: user_id.into(),
            ..Default::default()
        }
    }

    /// The default mapping of standard OIDC claims (what mcp-use's `getUserInfo` does).
    pub fn from_claims(claims: &Map<String, Value>) -> Self {
        // One pass over the claims (every never-seen token comes here), not a lookup per field.
        let mut user = UserInfo::default();
        let (mut preferred, mut username, mut org_id, mut organization_id) =
            (None, None, None, None);
        for (key, value) in claims {
            let text = || value.as_str().map(str::to_owned);
            match key.as_str() {
                "sub" => user.user_id = text().unwrap_or_default(),
                "email" => user.email = text(),
                "name" => user.name = text(),
                "preferred_username" => preferred = text(),
                "username" => username = text(),
                "nickname" => user.nickname = text(),
                "picture" => user.picture = text(),
                "roles" => user.roles = string_list(Some(value)),
                "permissions" => user.permissions = string_list(Some(value)),
                "org_id" => org_id = text(),
                "organization_id" => organization_id = text(),
                _ => {}
            }
        }
        user.username = preferred.or(username);
        user.organization_id = org_id.or(organization_id);
        user
    }
}

/// A claim that is a list of strings (an array, or one space-separated string).
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The authenticated caller of a request. Take it as a tool parameter (`auth: Auth`).
///
/// Cheap to clone; derefs to [`AuthData`].
#[derive(Clone)]
pub struct Auth(pub(crate) Arc<AuthData>);

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<AuthData> for Auth {
    fn from(data: AuthData) -> Self {
        Auth(Arc::new(data))
    }
}

impl Deref for Auth {
    type Target = AuthData;
    fn deref(&self) -> &AuthData {
        &self.0
    }
}

/// What is known about the caller. `#[non_exhaustive]`; [`AuthData::new`] builds one, e.g. to
/// call a tool that takes [`Auth`] from a unit test.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthData {
    /// The user, mapped from the claims.
    pub user: UserInfo,
    /// The bearer token (redacted in `Debug`).
    pub access_token: AccessToken,
    /// Granted scopes, from `scope` (space-separated) or `scp` (array or string).
    pub scopes: Vec<String>,
    /// Permissions from the token (e.g. Auth0's `permissions`), also in `user.permissions`.
    pub permissions: Vec<String>,
    /// The scopes the granted scopes and permissions imply through the server's
    /// [`ScopeHierarchy`] (`OAuth::scope_hierarchy`), beyond those
    /// granted; empty without a hierarchy. Scope checks count them as granted.
    pub implied_scopes: Vec<String>,
    /// The whole verified payload.
    pub claims: Map<String, Value>,
    /// `exp`, seconds since the epoch, when the token has one.
    pub expires_at: Option<u64>,
    /// The OAuth proxy's upstream grant of this token, for [`AuthData::upstream_token`].
    #[cfg(feature = "authorization-server")]
    pub(crate) upstream: Option<UpstreamGrant>,
    /// The server's RFC 9728 metadata URL, named in a [`ScopeError`]'s step-up challenge.
    pub(crate) resource_metadata: Option<Arc<str>>,
}

/// Where the OAuth proxy keeps a token's upstream tokens.
#[cfg(feature = "authorization-server")]
#[derive(Clone)]
pub(crate) struct UpstreamGrant {
    pub(crate) server: Arc<dyn embedded::EmbeddedIssuer>,
    pub(crate) grant: String,
}

#[cfg(feature = "authorization-server")]
impl fmt::Debug for UpstreamGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamGrant")
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

/// A scope check failed; [`AuthData::require_scope`] and friends return it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing required scope: {}", .missing.join(" "))]
#[non_exhaustive]
pub struct ScopeError {
    /// The scopes that would have sufficed (all of them, or any one for `require_any_scope`).
    pub missing: Vec<String>,
    /// Where the server's protected-resource metadata is, for the 403's challenge.
    pub(crate) resource_metadata: Option<Arc<str>>,
}

impl AuthData {
    /// A caller with these scopes and no token or claims (for tests, and for custom
    /// authentication code that maps its own credentials).
    pub fn new(user: UserInfo, scopes: Vec<String>) -> Self {
        AuthData {
            user,
            access_token: AccessToken(String::new()),
            scopes,
            permissions: Vec::new(),
            implied_scopes: Vec::new(),
            claims: Map::new(),
            expires_at: None,
            #[cfg(feature = "authorization-server")]
            upstream: None,
            resource_metadata: None,
        }
    }

    /// With the OAuth proxy (`oauth = "proxy"`): the identity provider's access token for this
    /// caller's sign-in, to call the provider's API on the user's behalf. It never leaves the
    /// server otherwise (clients hold this server's own tokens). `Ok(None)` for tokens the
    /// proxy did not issue, or when the upstream tokens are gone (expired, or encrypted with
    /// another process's key: set `MCP_STORE_ENCRYPTION_KEY`).
    #[cfg(feature = "authorization-server")]
    pub async fn upstream_token(&self) -> Result<Option<AccessToken>, crate::store::StoreError> {
        let Some(up) = &self.upstream else {
            return Ok(None);
        };
        Ok(up
            .server
            .upstream_access_token(&up.grant)
            .await?
            .map(AccessToken))
    }

    /// Whether the token grants `scope`: as a scope, a permission of that name, or implied by
    /// them through the server's scope hierarchy.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
            || self.permissions.iter().any(|p| p == scope)
            || self.implied_scopes.iter().any(|i| i == scope)
    }

    /// Requires every one of `scopes`.
    pub fn require_scope(&self, scopes: &[&str]) -> Result<(), ScopeError> {
        let missing: Vec<String> = scopes
            .iter()
            .filter(|s| !self.has_scope(s))
            .map(|s| (*s).to_owned())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ScopeError {
                missing,
                resource_metadata: self.resource_metadata.clone(),
            })
        }
    }

    /// Requires at least one of `scopes`.
    pub fn require_any_scope(&self, scopes: &[&str]) -> Result<(), ScopeError> {
        if scopes.is_empty() || scopes.iter().any(|s| self.has_scope(s)) {
            Ok(())
        } else {
            Err(ScopeError {
                missing: scopes.iter().map(|s| (*s).to_owned()).collect(),
                resource_metadata: self.resource_metadata.clone(),
            })
        }
    }
}

/// Why a request was not authenticated. Each variant knows its wire form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer` header (RFC 6750 §3.1: no error code).
    #[error("this MCP server requires an access token: send `Authorization: Bearer <token>`")]
    MissingToken,
    /// The token is malformed, expired, for another audience, badly signed, ...
    #[error("{0}")]
    InvalidToken(String),
    /// The request was malformed (e.g. a token in the query string, two Authorization headers).
    #[error("{0}")]
    InvalidRequest(String),
    /// Tokens cannot be verified right now (the issuer's keys are unreachable).
    #[error("{0}")]
    Unavailable(String),
    /// A DPoP-bound token came without a valid proof of possession (RFC 9449 §7.1).
    #[error("{0}")]
    InvalidDpopProof(String),
    /// The proof must carry this server's nonce, given here (RFC 9449 §9).
    #[error("send the DPoP proof again with the nonce in the DPoP-Nonce header")]
    UseDpopNonce(String),
}

impl AuthError {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::MissingToken
            | AuthError::InvalidToken(_)
            | AuthError::InvalidDpopProof(_)
            | AuthError::UseDpopNonce(_) => 401,
            AuthError::InvalidRequest(_) => 400,
            AuthError::Unavailable(_) => 503,
        }
    }

    /// The RFC 6750 `error` code, if any.
    pub fn oauth_code(&self) -> Option<&'static str> {
        match self {
            AuthError::MissingToken | AuthError::Unavailable(_) => None,
            AuthError::InvalidToken(_) => Some("invalid_token"),
            AuthError::InvalidRequest(_) => Some("invalid_request"),
            AuthError::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
            AuthError::UseDpopNonce(_) => Some("use_dpop_nonce"),
        }
    }

    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        AuthError::InvalidToken(msg.into())
    }
}

#[cfg(feature = "oauth")]
/// The HTTP client used for JWKS, discovery and introspection: rustls, and timeouts so that a
/// slow issuer cannot hold requests for long.
pub fn http_client() -> reqwest::Client {
    http_client_with(std::time::Duration::from_secs(10))
}

#[cfg(feature = "oauth")]
/// [`http_client`] with another overall timeout per request (connecting: 5 s at most).
pub(crate) fn http_client_with(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(std::time::Duration::from_secs(5)))
        .timeout(timeout)
        .user_agent(concat!("mcp-runtime/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(claims: Value) -> UserInfo {
        UserInfo::from_claims(claims.as_object().expect("an object"))
    }

    #[test]
    fn the_default_mapping_reads_standard_claims_with_their_fallbacks() {
        let u = user(json!({
            "sub": "u-1", "email": "ada@example.com", "name": "Ada", "nickname": "ada",
            "picture": "https://example.com/a.png", "username": "second",
            "preferred_username": "first", "roles": "admin editor",
            "permissions": ["read", 7, "write"], "organization_id": "second", "org_id": "first",
            "other": "ignored",
        }));
        let mut expected = UserInfo::new("u-1");
        expected.email = Some("ada@example.com".into());
        expected.name = Some("Ada".into());
        expected.nickname = Some("ada".into());
        expected.picture = Some("https://example.com/a.png".into());
        expected.username = Some("first".into());
        expected.roles = vec!["admin".into(), "editor".into()];
        expected.permissions = vec!["read".into(), "write".into()];
        expected.organization_id = Some("first".into());
        assert_eq!(u, expected);
        // A claim of the wrong type counts as absent; the fallbacks then apply.
        let u = user(json!({"sub": 5, "preferred_username": 1, "username": "u",
            "org_id": null, "organization_id": "o", "email": ["x"]}));
        assert_eq!(
            (
                u.user_id.as_str(),
                u.username.as_deref(),
                u.organization_id.as_deref(),
                u.email
            ),
            ("", Some("u"), Some("o"), None)
        );
        assert_eq!(user(json!({})), UserInfo::default());
    }
}
