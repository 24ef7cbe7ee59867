//! A cached JSON Web Key Set, fetched from the issuer.
//!
//! - Keys are kept for the response's `Cache-Control: max-age` (default 10 minutes, clamped to
//!   30 s ..= 24 h) and refetched after that.
//! - A token signed with an unknown `kid` triggers one refetch (key rotation), at most once per
//!   cooldown and single-flight: a burst of unknown kids costs one fetch, not one per token.
//! - When the issuer is unreachable, the keys already fetched stay in use.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};

use super::AuthError;
use super::jws::PublicKey;

const DEFAULT_TTL: Duration = Duration::from_secs(600);
const MIN_TTL: Duration = Duration::from_secs(30);
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// The least time between two fetches caused by unknown key ids.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);

/// Which algorithms a key can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    Rsa,
    Ec,
    Okp,
}

impl KeyFamily {
    pub(crate) fn of(alg: Algorithm) -> Option<Self> {
        use Algorithm::*;
        match alg {
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => Some(KeyFamily::Rsa),
            ES256 | ES384 => Some(KeyFamily::Ec),
            EdDSA => Some(KeyFamily::Okp),
            _ => None,
        }
    }
}

pub(crate) struct CachedKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    family: KeyFamily,
    key: PublicKey,
}

struct KeySet {
    keys: Arc<[CachedKey]>,
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
    generation: u64,
}

impl Default for KeySet {
    fn default() -> Self {
        KeySet {
            keys: Arc::from(Vec::new()),
            fresh_until: None,
            last_attempt: None,
            generation: 0,
        }
    }
}

impl KeySet {
    /// The key for `kid` able to verify `alg`. Without a `kid`, the only key of that family.
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<usize> {
        let family = KeyFamily::of(alg)?;
        let usable = |k: &CachedKey| k.family == family && k.alg.is_none_or(|a| a == alg);
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .position(|k| k.kid.as_deref() == Some(kid) && usable(k)),
            None => {
                let mut candidates = self.keys.iter().enumerate().filter(|(_, k)| usable(k));
                match (candidates.next(), candidates.next()) {
                    (Some((i, _)), None) => Some(i),
                    _ => None,
                }
            }
        }
    }
}

/// The cached key set of one issuer.
pub struct JwksCache {
    url: String,
    /// Where `url` comes from when it must be discovered: the issuer whose metadata names it.
    discover_from: Option<String>,
    discovered: RwLock<Option<String>>,
    client: reqwest::Client,
    set: RwLock<Arc<KeySet>>,
    refresh: tokio::sync::Mutex<()>,
    cooldown: Duration,
    fetches: AtomicU64,
    /// A key set given up front ([`JwksCache::fixed`]): never fetched.
    fixed: bool,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A key found in the cache, usable to verify one token.
pub(crate) struct KeyRef {
    set: Arc<KeySet>,
    index: usize,
}

impl KeyRef {
    /// Checks a token's signature with this key (parsed when the set was fetched).
    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), AuthError> {
        self.set.keys[self.index]
            .key
            .verify(alg, message, signature)
    }
}

impl JwksCache {
    /// A cache for the key set at `url`; nothing is fetched until a token needs a key (or
    /// [`prefetch`](Self::prefetch) is called), so start-up never blocks on the issuer.
    pub fn new(url: impl Into<String>, client: reqwest::Client) -> Self {
        JwksCache {
            url: url.into(),
            discover_from: None,
            discovered: RwLock::new(None),
            client,
            set: RwLock::new(Arc::new(KeySet::default())),
            refresh: tokio::sync::Mutex::new(()),
            cooldown: DEFAULT_COOLDOWN,
            fetches: AtomicU64::new(0),
            fixed: false,
        }
    }

    /// A fixed key set, never fetched: keys held in process (the embedded development
    /// authorization server) or pinned by configuration, given as a JWKS document (RFC 7517
    /// §5, JSON). Tokens are verified exactly as with fetched keys; keys this crate cannot use
    /// (unknown `kty`, `use` other than `sig`) are skipped, as in a fetched set.
    pub fn fixed(jwks: &[u8]) -> Result<Self, serde_json::Error> {
        Ok(Self::from_set(&serde_json::from_slice(jwks)?))
    }

    /// [`fixed`](Self::fixed), from a parsed set.
    pub(crate) fn from_set(set: &JwkSet) -> Self {
        let mut cache = JwksCache::new("(fixed key set)", reqwest::Client::new());
        cache.fixed = true;
        let keys = usable_keys(set);
        *cache.set.get_mut().unwrap_or_else(PoisonError::into_inner) = Arc::new(KeySet {
            keys: Arc::from(keys),
            fresh_until: None,
            last_attempt: None,
            generation: 1,
        });
        cache
    }

    /// Replaces a fixed key set (the embedded authorization server's, after a key rotation).
    #[cfg(feature = "authorization-server")]
    pub(crate) fn replace_fixed(&self, set: &JwkSet) {
        let mut current = self.set.write().unwrap_or_else(PoisonError::into_inner);
        let generation = current.generation + 1;
        *current = Arc::new(KeySet {
            keys: Arc::from(usable_keys(set)),
            fresh_until: None,
            last_attempt: None,
            generation,
        });
    }

    /// A cache whose key set URL is the `jwks_uri` of `issuer`'s metadata
    /// (`/.well-known/openid-configuration`, else `/.well-known/oauth-authorization-server`),
    /// looked up on first use.
    pub fn discover(issuer: impl Into<String>, client: reqwest::Client) -> Self {
        let issuer = issuer.into();
        let mut cache = JwksCache::new(format!("(discovered from {issuer})"), client);
        cache.discover_from = Some(issuer);
        cache
    }

    /// Sets the least time between refetches caused by unknown key ids, and the wait after a
    /// failed fetch (default 30 s).
    pub fn with_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The key set's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many fetches were attempted (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn current(&self) -> Arc<KeySet> {
        self.set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Fetches the key set now; errors are logged, and the keys already held stay.
    pub async fn prefetch(&self) {
        let seen = self.current().generation;
        let _ = self.refresh(seen, false).await;
    }

    /// The key for a token's `kid` and `alg`.
    pub(crate) async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<KeyRef, AuthError> {
        let set = self.current();
        if self.fixed {
            return match set.find(kid, alg) {
                Some(index) => Ok(KeyRef { set, index }),
                None => Err(unknown_key(kid, alg)),
            };
        }
        let stale = set.fresh_until.is_none_or(|t| Instant::now() >= t);
        if !stale && let Some(index) = set.find(kid, alg) {
            return Ok(KeyRef { set, index });
        }
        // Expired, empty, or an unknown kid: refetch (single-flight, cooldown for unknown kids).
        let refreshed = self.refresh(set.generation, !stale).await;
        let set = self.current();
        if let Some(index) = set.find(kid, alg) {
            return Ok(KeyRef { set, index });
        }
        match refreshed {
            Err(e) if set.keys.is_empty() => Err(AuthError::Unavailable(format!(
                "cannot verify tokens: the issuer's keys at {} could not be fetched ({e})",
                self.url
            ))),
            // No keys because the last fetch failed, and the cooldown holds off the next one:
            // the issuer is unreachable, not the token's key unknown.
            _ if set.keys.is_empty() => Err(AuthError::Unavailable(format!(
                "cannot verify tokens: the issuer's keys at {} could not be fetched; the next \
                 attempt is within {} s",
                self.url,
                self.cooldown.as_secs().max(1)
            ))),
            _ => Err(unknown_key(kid, alg)),
        }
    }

    /// Refetches unless another task already did since generation `seen`, or (for unknown
    /// kids) the last attempt is younger than the cooldown.
    async fn refresh(&self, seen: u64, unknown_kid: bool) -> Result<(), String> {
        let _guard = self.refresh.lock().await;
        let set = self.current();
        if set.generation != seen {
            return Ok(());
        }
        if unknown_kid
            && set
                .last_attempt
                .is_some_and(|t| t.elapsed() < self.cooldown)
        {
            return Ok(());
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch().await;
        #[cfg(feature = "metrics")]
        crate::metrics::jwks_fetch(result.is_ok());
        let mut next = KeySet {
            keys: set.keys.clone(),
            fresh_until: set.fresh_until,
            last_attempt: Some(Instant::now()),
            generation: set.generation + 1,
        };
        let outcome = match result {
            Ok((keys, ttl)) => {
                tracing::debug!(target: "mcp_runtime::auth", url = %self.url, keys = keys.len(), ttl_s = ttl.as_secs(), "fetched JWKS");
                next.keys = Arc::from(keys);
                next.fresh_until = Some(Instant::now() + ttl);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::auth", url = %self.url, "JWKS fetch failed, keeping {} cached keys: {e}", set.keys.len());
                // The old keys stay; retry after the cooldown rather than on every request.
                next.fresh_until = Some(Instant::now() + self.cooldown.min(DEFAULT_TTL));
                Err(e)
            }
        };
        *self.set.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        outcome
    }

    /// The key set's URL, discovering it from the issuer's metadata when needed.
    async fn jwks_url(&self) -> Result<String, String> {
        let Some(issuer) = &self.discover_from else {
            return Ok(self.url.clone());
        };
        if let Some(url) = self
            .discovered
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Ok(url);
        }
        let base = issuer.trim_end_matches('/');
        let mut last = String::new();
        for doc in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let meta: serde_json::Value =
                match super::outgoing::send(self.client.get(format!("{base}{doc}"))).await {
                    Ok(r) if r.status().is_success() => match r.json().await {
                        Ok(v) => v,
                        Err(e) => {
                            last = format!("{base}{doc} is not JSON: {e}");
                            continue;
                        }
                    },
                    Ok(r) => {
                        last = format!("{base}{doc} answered HTTP {}", r.status());
                        continue;
                    }
                    Err(e) => {
                        last = format!("{base}{doc}: {e}");
                        continue;
                    }
                };
            if let Some(url) = meta.get("jwks_uri").and_then(serde_json::Value::as_str) {
                *self
                    .discovered
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Some(url.to_owned());
                return Ok(url.to_owned());
            }
            last = format!("{base}{doc} has no `jwks_uri`");
        }
        Err(format!("cannot discover the issuer's JWKS URL ({last})"))
    }

    async fn fetch(&self) -> Result<(Vec<CachedKey>, Duration), String> {
        let url = self.jwks_url().await?;
        let resp =
            super::outgoing::send(self.client.get(&url).header("accept", "application/json"))
                .await
                .map_err(|e| format!("request failed: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        let ttl = resp
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .map_or(DEFAULT_TTL, |t| t.clamp(MIN_TTL, MAX_TTL));
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("reading the body: {e}"))?;
        let set: JwkSet =
            serde_json::from_slice(&body).map_err(|e| format!("not a JWK Set: {e}"))?;
        Ok((usable_keys(&set), ttl))
    }
}

fn unknown_key(kid: Option<&str>, alg: Algorithm) -> AuthError {
    AuthError::invalid(match kid {
        Some(kid) => format!("the token is signed with an unknown key (`kid` {kid}) for {alg:?}"),
        None => format!("the token has no `kid` and the issuer has no single {alg:?} key"),
    })
}

/// The signature keys of a set that this crate can use; others are skipped.
fn usable_keys(set: &JwkSet) -> Vec<CachedKey> {
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            continue;
        }
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyFamily::Rsa,
            AlgorithmParameters::EllipticCurve(_) => KeyFamily::Ec,
            AlgorithmParameters::OctetKeyPair(_) => KeyFamily::Okp,
            // Symmetric keys never come from a public key set; unknown kinds are skipped.
            _ => continue,
        };
        let declared = match jwk.common.key_algorithm {
            None => None,
            Some(ka) => match key_algorithm(ka) {
                Some(a) => Some(a),
                None => continue,
            },
        };
        let kid = jwk.common.key_id.as_deref().unwrap_or("(none)");
        match PublicKey::from_jwk(jwk) {
            // An EC or OKP key serves the one algorithm its curve names; a declared `alg`
            // that says otherwise makes the key unusable rather than ambiguous.
            Ok((_, Some(implied))) if declared.is_some_and(|d| d != implied) => {
                tracing::debug!(target: "mcp_runtime::auth", kid, "skipping a JWK whose `alg` does not match its curve")
            }
            Ok((key, implied)) => keys.push(CachedKey {
                kid: jwk.common.key_id.clone(),
                alg: declared.or(implied),
                family,
                key,
            }),
            Err(e) => {
                tracing::debug!(target: "mcp_runtime::auth", kid, "skipping an unusable JWK: {e}")
            }
        }
    }
    keys
}

fn key_algorithm(ka: KeyAlgorithm) -> Option<Algorithm> {
    use Algorithm as A;
    Some(match ka {
        KeyAlgorithm::RS256 => A::RS256,
        KeyAlgorithm::RS384 => A::RS384,
        KeyAlgorithm::RS512 => A::RS512,
        KeyAlgorithm::PS256 => A::PS256,
        KeyAlgorithm::PS384 => A::PS384,
        KeyAlgorithm::PS512 => A::PS512,
        KeyAlgorithm::ES256 => A::ES256,
        KeyAlgorithm::ES384 => A::ES384,
        KeyAlgorithm::EdDSA => A::EdDSA,
        _ => return None,
    })
}

/// `max-age` from a `Cache-Control` header; `no-store`/`no-cache` mean the minimum.
fn max_age(cc: &str) -> Option<Duration> {
    let mut out = None;
    for d in cc.split(',').map(str::trim) {
        let lower = d.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            out = v
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_max_age() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
    }
}
