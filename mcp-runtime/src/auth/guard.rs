//! The resource server's gate: bearer extraction (RFC 6750 §2.1), verification through the
//! cache, and the `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9728 §5.1, MCP step-up).

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use serde_json::{Map, Value};

use super::cache::TokenCache;
use super::{AccessToken, Auth, AuthData, AuthError, TokenVerifier, UserInfo, scopes_from_claims};

/// Maps verified claims to the caller's [`UserInfo`] (mcp-use's `getUserInfo`).
pub type UserMapper = Arc<dyn Fn(&Map<String, Value>) -> UserInfo + Send + Sync>;

/// The longest bearer token accepted, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Authenticates requests: one per server.
pub struct Gate {
    verifier: Arc<dyn TokenVerifier>,
    cache: TokenCache,
    map_user: UserMapper,
    max_token_bytes: usize,
    userinfo: Option<super::userinfo::UserInfoEnricher>,
    hierarchy: super::scope::ScopeHierarchy,
    /// The resource this gate serves and its RFC 9728 metadata URL, made once.
    metadata_url: std::sync::OnceLock<(String, Arc<str>)>,
    /// The OAuth proxy that issued the tokens, for their upstream grants.
    #[cfg(feature = "authorization-server")]
    upstream: Option<Arc<dyn super::embedded::EmbeddedIssuer>>,
    /// The grants the embedded authorization server revoked: their tokens are refused.
    #[cfg(feature = "authorization-server")]
    revocations: Option<Arc<super::revocations::Revocations>>,
    /// The DPoP proofs already used (RFC 9449 §11.1).
    dpop_replays: super::dpop::Replays,
    /// Server nonces DPoP proofs must carry, when asked for (`OAuth::dpop_nonces`).
    dpop_nonces: Option<super::dpop::Nonces>,
    /// Whether only DPoP-bound tokens are accepted (`OAuth::require_dpop`).
    dpop_required: bool,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("verifier", &self.verifier.describe())
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate around `verifier`, caching up to `cache_capacity` verified tokens for at most
    /// `cache_ttl` (and never past a token's `exp`).
    pub fn new(
        verifier: Arc<dyn TokenVerifier>,
        map_user: UserMapper,
        cache_capacity: usize,
        cache_ttl: Duration,
    ) -> Self {
        Gate {
            verifier,
            cache: TokenCache::new(cache_capacity, cache_ttl),
            map_user,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            userinfo: None,
            hierarchy: super::scope::ScopeHierarchy::new(),
            metadata_url: std::sync::OnceLock::new(),
            #[cfg(feature = "authorization-server")]
            upstream: None,
            #[cfg(feature = "authorization-server")]
            revocations: None,
            dpop_replays: super::dpop::Replays::default(),
            dpop_nonces: None,
            dpop_required: false,
        }
    }

    /// Refuses the tokens of the grants in `revocations`.
    #[cfg(feature = "authorization-server")]
    pub(crate) fn with_revocations(
        mut self,
        revocations: Option<Arc<super::revocations::Revocations>>,
    ) -> Self {
        self.revocations = revocations;
        self
    }

    /// The refusal of a token whose grant was revoked, if it is one.
    #[inline]
    fn revoked(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        #[cfg(feature = "authorization-server")]
        if self.revocations.as_ref().is_some_and(|r| r.revoked(claims)) {
            return Err(AuthError::invalid(
                "the token's grant was revoked (a code or refresh token of it was used twice); \
                 sign in again",
            ));
        }
        let _ = claims;
        Ok(())
    }

    /// Scopes that imply others: expanded once per verified token (the cache keeps the result).
    pub(crate) fn with_hierarchy(mut self, hierarchy: super::scope::ScopeHierarchy) -> Self {
        self.hierarchy = hierarchy;
        self
    }

    /// Fills missing email and name from the provider's userinfo endpoint.
    /// Links tokens' `gid` claims to the authorization server that keeps their upstream
    /// tokens.
    #[cfg(feature = "authorization-server")]
    pub(crate) fn with_upstream(
        mut self,
        server: Option<Arc<dyn super::embedded::EmbeddedIssuer>>,
    ) -> Self {
        self.upstream = server;
        self
    }

    /// Accepts DPoP-bound tokens only.
    pub(crate) fn with_dpop_required(mut self, yes: bool) -> Self {
        self.dpop_required = yes;
        self
    }

    /// Whether only DPoP-bound tokens are accepted.
    pub(crate) fn dpop_required(&self) -> bool {
        self.dpop_required
    }

    /// Requires DPoP proofs to carry a nonce of this server's.
    pub(crate) fn with_dpop_nonces(mut self, nonces: Option<super::dpop::Nonces>) -> Self {
        self.dpop_nonces = nonces;
        self
    }

    pub(crate) fn with_userinfo(mut self, u: Option<super::userinfo::UserInfoEnricher>) -> Self {
        self.userinfo = u;
        self
    }

    /// The metadata URL of `resource` (the server's one resource: made on the first token,
    /// not for every one).
    fn metadata_url(&self, resource: &str) -> Arc<str> {
        let make =
            || Arc::from(super::metadata::ResourceMetadata::well_known_url(resource).as_str());
        match self.metadata_url.get() {
            Some((r, url)) if r == resource => url.clone(),
            Some(_) => make(),
            None => {
                let url: Arc<str> = make();
                let _ = self.metadata_url.set((resource.to_owned(), url.clone()));
                url
            }
        }
    }

    /// What the verifier trusts, for the start-up log.
    pub fn describe(&self) -> String {
        self.verifier.describe()
    }

    /// Authenticates a `POST` to `resource` from its headers and query string (see
    /// [`authenticate_request`](Self::authenticate_request)).
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        query: &str,
        resource: &str,
    ) -> Result<Auth, AuthError> {
        self.authenticate_request(headers, query, resource, "POST", resource)
            .await
    }

    /// Authenticates a request with `method` to `url` from its headers and query string: a
    /// bearer token, or a DPoP-bound one (`Authorization: DPoP`) with its proof for this
    /// method and URL (RFC 9449).
    pub async fn authenticate_request(
        &self,
        headers: &HeaderMap,
        query: &str,
        resource: &str,
        method: &str,
        url: &str,
    ) -> Result<Auth, AuthError> {
        let (dpop, token) = credentials(headers, query, self.max_token_bytes)?;
        let auth = self.verified(token, resource).await?;
        self.check_binding(&auth, dpop, headers, token, method, url)?;
        Ok(auth)
    }

    /// The binding rule of RFC 9449 §7.1: a token bound to a key (`cnf.jkt`) only as DPoP,
    /// with a proof by that key for this request; DPoP only for a bound token.
    fn check_binding(
        &self,
        auth: &Auth,
        dpop: bool,
        headers: &HeaderMap,
        token: &str,
        method: &str,
        url: &str,
    ) -> Result<(), AuthError> {
        let jkt = auth
            .claims
            .get("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(Value::as_str);
        match (dpop, jkt) {
            (false, _) if self.dpop_required => Err(AuthError::InvalidDpopProof(
                "this server accepts DPoP-bound tokens only: ask for one (a DPoP proof at the \
                 token endpoint) and present it as `Authorization: DPoP` with a proof"
                    .into(),
            )),
            (false, None) => Ok(()),
            (false, Some(_)) => Err(AuthError::invalid(
                "this token is bound to a key (DPoP): present it as `Authorization: DPoP` with a \
                 proof",
            )),
            (true, None) => Err(AuthError::invalid(
                "this token is not bound to a key: present it as `Authorization: Bearer`",
            )),
            (true, Some(jkt)) => {
                let mut proofs = headers.get_all("dpop");
                let (Some(proof), None) = (proofs.next(), proofs.next()) else {
                    return Err(AuthError::InvalidDpopProof(
                        "send exactly one DPoP proof header with a DPoP token".into(),
                    ));
                };
                let proof = proof.to_str().map_err(|_| {
                    AuthError::InvalidDpopProof("the DPoP proof is not ASCII".into())
                })?;
                super::dpop::check(
                    proof,
                    method,
                    url,
                    token,
                    jkt,
                    super::verifier::now_secs(),
                    &self.dpop_replays,
                    self.dpop_nonces.as_ref(),
                )
            }
        }
    }

    /// The caller a token names: from the cache, or verified now.
    async fn verified(&self, token: &str, resource: &str) -> Result<Auth, AuthError> {
        let key = self.cache.key(token);
        // A cached token is byte-for-byte one that passed every check before.
        if let Some(hit) = self.cache.get(key, token) {
            self.revoked(&hit.claims)?;
            return Ok(Auth(hit));
        }
        check_token68(token)?;
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let verified = self.verifier.verify(token, resource).await;
        #[cfg(feature = "metrics")]
        crate::metrics::verification(verified.is_ok(), started.elapsed());
        let verified = verified?;
        self.revoked(&verified.claims)?;
        let scopes = scopes_from_claims(&verified.claims);
        let mut user = (self.map_user)(&verified.claims);
        if let Some(u) = &self.userinfo {
            u.enrich(&mut user, token).await;
        }
        let permissions = if user.permissions.is_empty() {
            super::string_list(verified.claims.get("permissions"))
        } else {
            user.permissions.clone()
        };
        let implied_scopes = if self.hierarchy.is_empty() {
            Vec::new()
        } else {
            self.hierarchy
                .implied_by(scopes.iter().chain(&permissions).map(String::as_str))
        };
        let data = Arc::new(AuthData {
            user,
            access_token: AccessToken::new(token),
            scopes,
            permissions,
            implied_scopes,
            #[cfg(feature = "authorization-server")]
            upstream: self.upstream.as_ref().and_then(|server| {
                let grant = verified.claims.get("gid")?.as_str()?.to_owned();
                Some(super::UpstreamGrant {
                    server: server.clone(),
                    grant,
                })
            }),
            claims: verified.claims,
            expires_at: verified.expires_at,
            resource_metadata: Some(self.metadata_url(resource)),
        });
        self.cache.insert(key, data.clone());
        Ok(Auth(data))
    }
}

/// The bearer token of a request: exactly one `Authorization: Bearer` header (scheme
/// case-insensitive), a token68 value, never the query string.
#[cfg(test)]
pub(crate) fn bearer<'h>(
    headers: &'h HeaderMap,
    query: &str,
    max: usize,
) -> Result<&'h str, AuthError> {
    let token = bearer_unchecked(headers, query, max)?;
    check_token68(token)?;
    Ok(token)
}

/// [`bearer`] without the character check, which a token found in the cache has passed.
#[cfg(test)]
fn bearer_unchecked<'h>(
    headers: &'h HeaderMap,
    query: &str,
    max: usize,
) -> Result<&'h str, AuthError> {
    match credentials(headers, query, max)? {
        (false, token) => Ok(token),
        (true, _) => Err(AuthError::MissingToken),
    }
}

/// The token of a request and whether it came as DPoP (`Authorization: DPoP`) rather than
/// Bearer: exactly one `Authorization` header, never the query string.
fn credentials<'h>(
    headers: &'h HeaderMap,
    query: &str,
    max: usize,
) -> Result<(bool, &'h str), AuthError> {
    if !query.is_empty()
        && query
            .split('&')
            .any(|p| p.split('=').next() == Some("access_token"))
    {
        return Err(AuthError::InvalidRequest(
            "access tokens in the query string are not accepted (RFC 6750 §2.3, MCP): send them in the Authorization header"
                .into(),
        ));
    }
    let mut values = headers.get_all(actix_web::http::header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Err(AuthError::MissingToken);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest(
            "more than one Authorization header".into(),
        ));
    }
    // UTF-8 validation has a fast ASCII path; the token68 check then refuses anything else.
    let value = std::str::from_utf8(value.as_bytes())
        .map_err(|_| AuthError::invalid("the Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    if !dpop && !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::invalid("the Bearer token is empty"));
    }
    if token.len() > max {
        return Err(AuthError::invalid(format!(
            "the token is longer than {max} bytes"
        )));
    }
    Ok((dpop, token))
}

/// The bytes of token68 (RFC 6750 §2.1), `=` padding aside.
/// Whether `b` may appear in a token68 before its trailing `=`s: a letter, a digit or one of
/// `- . _ ~ + /`.
#[inline(always)]
fn token68_char(b: u8) -> bool {
    // Non-short-circuiting, so a chunk is checked without branches (and vectorized):
    // `-` `.` `/` and the digits are one range (0x2D..=0x39), the letters one range once
    // folded to lower case.
    (b.wrapping_sub(b'-') < 13)
        | ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
}

/// A bearer token is token68 (RFC 6750 §2.1). Every token not in the cache passes here, so
/// it is checked 32 bytes at a time, counting bad bytes without a branch per byte (the loop
/// over a fixed-size chunk vectorizes).
fn check_token68(token: &str) -> Result<(), AuthError> {
    let body = token.trim_end_matches('=').as_bytes();
    let mut chunks = body.chunks_exact(32);
    let mut bad = 0u8;
    for chunk in &mut chunks {
        let mut acc = 0u8;
        for &b in chunk {
            acc |= u8::from(!token68_char(b));
        }
        bad |= acc;
    }
    for &b in chunks.remainder() {
        bad |= u8::from(!token68_char(b));
    }
    if bad == 0 {
        Ok(())
    } else {
        Err(AuthError::invalid(
            "the token contains characters a bearer token cannot have",
        ))
    }
}

/// Escapes a value for a quoted-string auth-param.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `WWW-Authenticate` value for a refused request (RFC 6750 §3, RFC 9728 §5.1).
///
/// `scope` names what to ask for: the baseline needed to connect for 401s, the tool's scopes
/// for a 403 `insufficient_scope` (MCP step-up).
pub fn challenge(
    error: Option<&str>,
    description: Option<&str>,
    scope: &[String],
    resource_metadata: Option<&str>,
) -> String {
    let mut parts = Vec::new();
    if let Some(url) = resource_metadata {
        parts.push(format!("resource_metadata={}", quoted(url)));
    }
    if let Some(e) = error {
        parts.push(format!("error={}", quoted(e)));
    }
    if let Some(d) = description {
        // error_description: printable ASCII except `"` and `\` (RFC 6750 §3).
        let clean: String = d
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\')
            .collect();
        parts.push(format!("error_description={}", quoted(&clean)));
    }
    if !scope.is_empty() {
        parts.push(format!("scope={}", quoted(&scope.join(" "))));
    }
    format!("Bearer {}", parts.join(", "))
}

/// The `WWW-Authenticate` header of a refused request: every 401, and every refusal with an
/// RFC 6750 error code (not a 503, which is the server's problem, not the token's).
pub(crate) fn refusal_challenge(
    e: &AuthError,
    baseline: &[String],
    resource_metadata: &str,
) -> Option<actix_web::http::header::HeaderValue> {
    if e.status() != 401 && e.oauth_code().is_none() {
        return None;
    }
    let message = e.to_string();
    let mut c = challenge(
        e.oauth_code(),
        e.oauth_code().map(|_| message.as_str()),
        baseline,
        Some(resource_metadata),
    );
    if matches!(
        e,
        AuthError::InvalidDpopProof(_) | AuthError::UseDpopNonce(_)
    ) {
        // RFC 9449 §7.1: the DPoP scheme's challenge, with the algorithms proofs may use.
        c = format!(
            "DPoP{}, algs={}",
            c.strip_prefix("Bearer").unwrap_or(&c),
            quoted(&super::dpop::DPOP_ALGORITHMS.join(" "))
        );
    }
    actix_web::http::header::HeaderValue::from_str(&c).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{AUTHORIZATION, HeaderValue};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn token68_is_checked_byte_for_byte_in_every_chunk() {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
        for b in 0..=255u8 {
            assert_eq!(token68_char(b), allowed(b), "byte {b}");
            // Before, inside and after the first 32-byte chunk, and in a short tail (every
            // byte an ASCII one here, so the token is the bytes themselves).
            if b.is_ascii() {
                for at in [0, 31, 32, 40, 70, 71] {
                    let mut token = vec![b'a'; 72];
                    token[at] = b;
                    let token = String::from_utf8(token).expect("ascii");
                    let expect = allowed(b) || (b == b'=' && at == 71);
                    assert_eq!(check_token68(&token).is_ok(), expect, "byte {b} at {at}");
                }
            }
        }
        // Beyond ASCII: whatever the position, refused.
        for at in [0, 33, 70] {
            let mut token = "a".repeat(72);
            token.insert(at, 'é');
            assert!(check_token68(&token).is_err(), "é at {at}");
        }
        assert!(check_token68("abc==").is_ok());
        assert!(check_token68("a=b").is_err());
        assert!(check_token68(&"x".repeat(1000)).is_ok());
    }

    #[test]
    fn extracts_bearer_tokens_strictly() {
        assert_eq!(
            bearer(&headers(&["Bearer abc.def-ghi"]), "", 100).ok(),
            Some("abc.def-ghi")
        );
        assert_eq!(
            bearer(&headers(&["bEaReR abc=="]), "", 100).ok(),
            Some("abc==")
        );
        assert_eq!(
            bearer(&headers(&[]), "", 100).err(),
            Some(AuthError::MissingToken)
        );
        assert_eq!(
            bearer(&headers(&["Basic dXNlcjpwdw=="]), "", 100).err(),
            Some(AuthError::MissingToken)
        );
        assert!(matches!(
            bearer(&headers(&["Bearer a", "Bearer b"]), "", 100),
            Err(AuthError::InvalidRequest(_))
        ));
        assert!(matches!(
            bearer(&headers(&["Bearer a"]), "x=1&access_token=a", 100),
            Err(AuthError::InvalidRequest(_))
        ));
        assert!(matches!(
            bearer(&headers(&["Bearer a\"b"]), "", 100),
            Err(AuthError::InvalidToken(_))
        ));
        assert!(matches!(
            bearer(&headers(&["Bearer aaaa"]), "", 3),
            Err(AuthError::InvalidToken(_))
        ));
    }

    #[test]
    fn challenges_follow_rfc_6750() {
        let c = challenge(
            None,
            None,
            &["openid".into()],
            Some("http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp"),
        );
        assert_eq!(
            c,
            r#"Bearer resource_metadata="http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp", scope="openid""#
        );
        let c = challenge(
            Some("insufficient_scope"),
            Some("needs \"admin\""),
            &["admin".into(), "write".into()],
            Some("u"),
        );
        assert_eq!(
            c,
            r#"Bearer resource_metadata="u", error="insufficient_scope", error_description="needs admin", scope="admin write""#
        );
    }
}
