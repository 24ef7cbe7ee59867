//! Token verifiers: JWT (JWKS or HS256 secret), RFC 7662 introspection, custom, and the
//! development-only switch that skips verification.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde_json::{Map, Value};

use super::AuthError;
use super::jwks::JwksCache;
use super::jws::{self, ClaimRules, HmacKeys};
use super::jwt;

/// A verified token's payload.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verified {
    /// The claims.
    pub claims: Map<String, Value>,
    /// `exp`, seconds since the epoch.
    pub expires_at: Option<u64>,
}

impl Verified {
    /// Wraps claims, reading `exp`.
    pub fn from_claims(claims: Map<String, Value>) -> Self {
        // A NumericDate may have a fraction (RFC 7519 §2); the cache must still stop at it.
        let expires_at = claims.get("exp").and_then(|v| {
            v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            })
        });
        Verified { claims, expires_at }
    }
}

/// Turns a bearer token into verified claims.
///
/// `resource` is this server's canonical MCP URL: a verifier with no audience of its own must
/// require it as the token's audience (RFC 8707), never accept tokens for any audience.
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token`.
    fn verify<'a>(
        &'a self,
        token: &'a str,
        resource: &'a str,
    ) -> BoxFuture<'a, Result<Verified, AuthError>>;

    /// A line for the start-up log: what this verifier trusts.
    fn describe(&self) -> String;

    /// Whether this verifier skips verification (see [`dangerous`]).
    fn is_dangerous(&self) -> bool {
        false
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

enum Keys {
    Jwks(Arc<JwksCache>),
    Secret(HmacKeys),
    /// HMAC with a shared secret, every other accepted algorithm from the JWKS (Supabase).
    Both(HmacKeys, Arc<JwksCache>),
}

/// Verifies JWT access tokens: signature (keys from a JWKS, or an HS256 secret), `iss`, `aud`,
/// `exp` (required) and `nbf`, with a small leeway.
///
/// The algorithm is pinned by configuration and by the key, never taken from the token alone;
/// `jku`, `jwk`, `x5u` and `x5c` in the header are ignored; unknown `crit` parameters are refused.
pub struct JwtVerifier {
    keys: Keys,
    issuer: Option<String>,
    /// More accepted spellings of the issuer (Google's ID tokens say `accounts.google.com` or
    /// `https://accounts.google.com`).
    other_issuers: Vec<String>,
    /// An issuer known only once the server is bound (the embedded development server).
    late_issuer: Option<Arc<OnceLock<String>>>,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: u64,
    opaque_hint: Option<String>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl JwtVerifier {
    /// Tokens signed with the keys published at `jwks_url` (RS256 and ES256 by default).
    pub fn jwks(jwks: Arc<JwksCache>) -> Self {
        JwtVerifier {
            keys: Keys::Jwks(jwks),
            issuer: None,
            other_issuers: Vec::new(),
            late_issuer: None,
            audiences: Vec::new(),
            algorithms: vec![Algorithm::RS256, Algorithm::ES256],
            leeway: 30,
            opaque_hint: None,
        }
    }

    /// Tokens signed with a shared HS256 secret (e.g. Supabase's legacy JWT secret).
    pub fn hs256(secret: impl AsRef<[u8]>) -> Self {
        JwtVerifier {
            keys: Keys::Secret(HmacKeys::new(secret.as_ref())),
            issuer: None,
            other_issuers: Vec::new(),
            late_issuer: None,
            audiences: Vec::new(),
            algorithms: vec![Algorithm::HS256],
            leeway: 30,
            opaque_hint: None,
        }
    }

    /// HS256 tokens checked with a shared secret and asymmetric ones (RS256, ES256 by default)
    /// with the keys at a JWKS: Supabase's legacy and current signing keys side by side.
    pub fn jwks_and_hs256(jwks: Arc<JwksCache>, secret: impl AsRef<[u8]>) -> Self {
        let mut v = JwtVerifier::jwks(jwks.clone());
        v.keys = Keys::Both(HmacKeys::new(secret.as_ref()), jwks);
        v.algorithms = vec![Algorithm::HS256, Algorithm::RS256, Algorithm::ES256];
        v
    }

    /// What to say when a token is not a JWT at all (e.g. Auth0's opaque tokens, issued when
    /// the client asked for no audience).
    pub fn opaque_token_hint(mut self, hint: impl Into<String>) -> Self {
        self.opaque_hint = Some(hint.into());
        self
    }

    /// Requires this `iss`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Also accepts this `iss` (another spelling of the same issuer).
    pub fn also_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.other_issuers.push(issuer.into());
        self
    }

    /// Requires the `iss` that `issuer` holds once it is set (tokens are refused before).
    #[cfg_attr(not(feature = "authorization-server"), allow(dead_code))]
    pub(crate) fn late_issuer(mut self, issuer: Arc<OnceLock<String>>) -> Self {
        self.late_issuer = Some(issuer);
        self
    }

    /// Requires one of these `aud` values (default: the server's resource URL).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The algorithms accepted (default RS256 and ES256 for JWKS, HS256 for a secret).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = super::Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().map(super::Algorithm::jwt).collect();
        self
    }

    /// Clock leeway for `exp` and `nbf`, in seconds (default 30).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The JWKS cache, if this verifier uses one.
    pub fn jwks_cache(&self) -> Option<&Arc<JwksCache>> {
        match &self.keys {
            Keys::Jwks(c) | Keys::Both(_, c) => Some(c),
            Keys::Secret(_) => None,
        }
    }

    async fn verify_jwt(&self, token: &str, resource: &str) -> Result<Verified, AuthError> {
        let parts = match (jws::split(token), &self.opaque_hint) {
            (Ok(parts), _) => parts,
            (Err(_), Some(hint)) => {
                return Err(AuthError::invalid(format!(
                    "the token is not a JWT: {hint}"
                )));
            }
            (Err(e), _) => return Err(e),
        };
        let mut header_buf = [0u8; 256];
        let header = jwt::header_of(parts.header, &mut header_buf)?;
        let alg = header.algorithm()?;
        if !self.algorithms.contains(&alg) {
            return Err(AuthError::invalid(format!(
                "the token is signed with {alg:?}, which this server does not accept (accepted: {:?})",
                self.algorithms
            )));
        }
        let issuer = match &self.late_issuer {
            Some(late) => Some(late.get().map(String::as_str).ok_or_else(|| {
                AuthError::invalid("the authorization server has not issued tokens yet")
            })?),
            None => self.issuer.as_deref(),
        };
        // Decoded before any key is looked up: a malformed signature costs no key set fetch.
        let mut signature_buf = [0u8; jws::MAX_SIGNATURE];
        let signature = parts.signature(&mut signature_buf)?;
        match &self.keys {
            Keys::Secret(secret) => secret.verify(alg, parts.message, &signature)?,
            Keys::Both(secret, _) if alg.family() == AlgorithmFamily::Hmac => {
                secret.verify(alg, parts.message, &signature)?
            }
            Keys::Jwks(cache) | Keys::Both(_, cache) => cache
                .key(header.kid.as_deref(), alg)
                .await?
                .verify(alg, parts.message, &signature)?,
        }
        let claims = parts.claims()?;
        ClaimRules {
            issuer,
            other_issuers: &self.other_issuers,
            audiences: &self.audiences,
            leeway: self.leeway,
            now: now_secs(),
        }
        .check(&claims)?;
        self.bind(claims, resource)
    }

    /// The RFC 8707 binding when no audience is configured: the token must name this server.
    fn bind(&self, claims: Map<String, Value>, resource: &str) -> Result<Verified, AuthError> {
        if self.audiences.is_empty() && !bound_to(&claims, resource) {
            return Err(AuthError::invalid(format!(
                "the token is not for this server: `aud` (or `resource`) must be {resource} (RFC 8707)"
            )));
        }
        Ok(Verified::from_claims(claims))
    }
}

/// Whether the claims name `resource` as their audience (`aud`, a string or an array) or as
/// their `resource`.
pub(crate) fn bound_to(claims: &Map<String, Value>, resource: &str) -> bool {
    let names = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s == resource,
        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(resource)),
        _ => false,
    };
    !resource.is_empty() && (names(claims.get("aud")) || names(claims.get("resource")))
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(
        &'a self,
        token: &'a str,
        resource: &'a str,
    ) -> BoxFuture<'a, Result<Verified, AuthError>> {
        Box::pin(self.verify_jwt(token, resource))
    }

    fn describe(&self) -> String {
        let keys = match &self.keys {
            Keys::Jwks(c) => format!("keys from {}", c.url()),
            Keys::Secret(_) => "a shared secret".to_owned(),
            Keys::Both(_, c) => format!("a shared secret (HS256) and keys from {}", c.url()),
        };
        format!(
            "JWT ({:?}) with {keys}, issuer {}, audience {}",
            self.algorithms,
            match &self.late_issuer {
                Some(late) => late.get().map_or("(set at start-up)", String::as_str),
                None => self.issuer.as_deref().unwrap_or("(any)"),
            },
            if self.audiences.is_empty() {
                "this server's resource URL".to_owned()
            } else {
                self.audiences.join(" or ")
            }
        )
    }
}

/// A secret that never shows in logs or `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// RFC 7662 token introspection, for opaque tokens.
#[derive(Debug)]
pub struct IntrospectionVerifier {
    endpoint: String,
    client_id: String,
    client_secret: Secret,
    audiences: Vec<String>,
    client: reqwest::Client,
}

impl IntrospectionVerifier {
    /// Introspects at `endpoint`, authenticating as a confidential client (HTTP Basic).
    pub fn new(
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
        client: reqwest::Client,
    ) -> Self {
        IntrospectionVerifier {
            endpoint: endpoint.into(),
            client_id: client_id.into(),
            client_secret,
            audiences: Vec::new(),
            client,
        }
    }

    /// Requires one of these audiences (default: the server's resource URL).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    async fn introspect(&self, token: &str, resource: &str) -> Result<Verified, AuthError> {
        let resp = super::outgoing::send(
            self.client
                .post(&self.endpoint)
                .basic_auth(&self.client_id, Some(self.client_secret.expose()))
                .form(&[("token", token), ("token_type_hint", "access_token")]),
        )
        .await
        .map_err(|e| {
            AuthError::Unavailable(format!(
                "token introspection at {} failed: {e}",
                self.endpoint
            ))
        })?;
        if !resp.status().is_success() {
            return Err(AuthError::Unavailable(format!(
                "token introspection at {} answered HTTP {}",
                self.endpoint,
                resp.status()
            )));
        }
        let claims: Map<String, Value> = resp.json().await.map_err(|e| {
            AuthError::Unavailable(format!("token introspection returned invalid JSON: {e}"))
        })?;
        if claims.get("active") != Some(&Value::Bool(true)) {
            return Err(AuthError::invalid(
                "the token is not active (revoked, expired or unknown)",
            ));
        }
        let verified = Verified::from_claims(claims);
        if verified.expires_at.is_some_and(|exp| exp <= now_secs()) {
            return Err(AuthError::invalid("the token expired"));
        }
        let wanted: Vec<&str> = if self.audiences.is_empty() {
            vec![resource]
        } else {
            self.audiences.iter().map(String::as_str).collect()
        };
        let aud = super::string_list(verified.claims.get("aud"));
        if !aud.iter().any(|a| wanted.contains(&a.as_str())) {
            return Err(AuthError::invalid(format!(
                "the token is not for this server: `aud` must include {}",
                wanted.join(" or ")
            )));
        }
        Ok(verified)
    }
}

impl TokenVerifier for IntrospectionVerifier {
    fn verify<'a>(
        &'a self,
        token: &'a str,
        resource: &'a str,
    ) -> BoxFuture<'a, Result<Verified, AuthError>> {
        Box::pin(self.introspect(token, resource))
    }
    fn describe(&self) -> String {
        format!("RFC 7662 introspection at {}", self.endpoint)
    }
}

/// A verifier from an async closure (mcp-use's `verifyToken`): it gets the token and returns
/// the claims, or a message saying why the token is refused.
pub struct CustomVerifier<F> {
    f: F,
}

impl<F> std::fmt::Debug for CustomVerifier<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomVerifier")
    }
}

impl<F, Fut> CustomVerifier<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Map<String, Value>, String>> + Send + 'static,
{
    /// Wraps the closure.
    pub fn new(f: F) -> Self {
        CustomVerifier { f }
    }
}

impl<F, Fut> TokenVerifier for CustomVerifier<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Map<String, Value>, String>> + Send + 'static,
{
    fn verify<'a>(
        &'a self,
        token: &'a str,
        _resource: &'a str,
    ) -> BoxFuture<'a, Result<Verified, AuthError>> {
        let fut = (self.f)(token.to_owned());
        Box::pin(async move {
            let claims = fut.await.map_err(AuthError::InvalidToken)?;
            let v = Verified::from_claims(claims);
            if v.expires_at.is_some_and(|exp| exp <= now_secs()) {
                return Err(AuthError::invalid("the token expired"));
            }
            Ok(v)
        })
    }
    fn describe(&self) -> String {
        "a custom verifier".to_owned()
    }
}

/// Switches that weaken security, for development only.
pub mod dangerous {
    use super::*;

    /// Accepts any well-formed JWT **without checking its signature**, issuer or audience
    /// (mcp-use's `verifyJwt: false`); only `exp` is still enforced. The server logs a warning
    /// at start-up and refuses to start in a release build unless `MCP_USE_OAUTH_ALLOW_UNVERIFIED`
    /// is `true`.
    #[derive(Debug, Default, Clone, Copy)]
    pub struct UnverifiedJwt;

    impl TokenVerifier for UnverifiedJwt {
        fn verify<'a>(
            &'a self,
            token: &'a str,
            _resource: &'a str,
        ) -> BoxFuture<'a, Result<Verified, AuthError>> {
            Box::pin(async move {
                let claims = jwt::payload_unverified(token)?;
                let v = Verified::from_claims(claims);
                if v.expires_at.is_some_and(|exp| exp <= now_secs()) {
                    return Err(AuthError::invalid("the token expired"));
                }
                Ok(v)
            })
        }
        fn is_dangerous(&self) -> bool {
            true
        }
        fn describe(&self) -> String {
            "NO VERIFICATION (dangerous::UnverifiedJwt: signatures, issuer and audience are not checked)".to_owned()
        }
    }
}
