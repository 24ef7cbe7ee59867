//! DPoP at the resource server (RFC 9449 §7): a token bound to a key (`cnf.jkt`) is accepted
//! only as `Authorization: DPoP`, with a `DPoP` proof made for this request by that key: the
//! proof's signature checked with the key it carries (asymmetric algorithms only, never the
//! private part), its `htm` and `htu` this request's, its `iat` recent, its `ath` the token's
//! hash, the key's thumbprint the token's `cnf.jkt`, and its `jti` never seen before (on this
//! replica, for as long as its `iat` could pass). A bound token presented as `Bearer` is
//! refused: whoever copied it has no key.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::AuthError;
use super::jws::{self, PublicKey};

/// The algorithms a proof may be signed with (asymmetric only).
pub const DPOP_ALGORITHMS: [&str; 6] = ["ES256", "ES384", "RS256", "PS256", "EdDSA", "RS384"];
/// How far a proof's `iat` may lie in the past.
const MAX_AGE: u64 = 300;
/// How far in the future (clock skew).
const MAX_AHEAD: u64 = 60;
/// At most this many proofs remembered (each for `MAX_AGE + MAX_AHEAD`).
const MAX_REMEMBERED: usize = 200_000;

fn refuse(msg: impl Into<String>) -> AuthError {
    AuthError::InvalidDpopProof(msg.into())
}

/// At most this many clients' keys kept parsed.
const MAX_KEYS: usize = 10_000;
/// How long a server nonce is good for (the current window and the one before).
const NONCE_WINDOW: u64 = 300;

/// Server nonces (RFC 9449 §8, §9): a MAC of the current five-minute window under a key of
/// this process, so that a proof must be made after the server spoke; one from the previous
/// window is still accepted. Nothing is stored.
pub(crate) struct Nonces {
    key: aws_lc_rs::hmac::Key,
}

impl Nonces {
    pub(crate) fn new() -> Result<Self, AuthError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret)
            .map_err(|_| AuthError::Unavailable("no random source for DPoP nonces".into()))?;
        Ok(Nonces {
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
        })
    }

    fn of_window(&self, window: u64) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.key, &window.to_be_bytes());
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..18])
    }

    /// The nonce to hand out now.
    pub(crate) fn current(&self, now: u64) -> String {
        self.of_window(now / NONCE_WINDOW)
    }

    /// Whether a proof's nonce is one this server handed out lately.
    pub(crate) fn valid(&self, nonce: &str, now: u64) -> bool {
        let w = now / NONCE_WINDOW;
        [w, w.saturating_sub(1)].iter().any(|w| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                self.of_window(*w).as_bytes(),
                nonce.as_bytes(),
            )
            .is_ok()
        })
    }

    /// `Ok` for a proof carrying a good nonce, else the refusal that hands out one.
    pub(crate) fn require(&self, proof_nonce: Option<&str>, now: u64) -> Result<(), AuthError> {
        match proof_nonce {
            Some(n) if self.valid(n, now) => Ok(()),
            _ => Err(AuthError::UseDpopNonce(self.current(now))),
        }
    }
}

/// The proofs already used, by a hash of their key and `jti`, until they could no longer pass;
/// and the keys proofs carried, parsed once (by their thumbprint: a client signs every proof
/// with the same key, which is not parsed again for each request).
#[derive(Default)]
pub(crate) struct Replays {
    seen: Mutex<HashMap<[u8; 16], u64>>,
    keys: Mutex<HashMap<String, std::sync::Arc<PublicKey>>>,
}

impl Replays {
    /// The parsed key of `jwk`, whose thumbprint is `thumb`.
    fn key(
        &self,
        thumb: &str,
        jwk: &Map<String, Value>,
    ) -> Result<std::sync::Arc<PublicKey>, AuthError> {
        let lock = || {
            self.keys
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(k) = lock().get(thumb) {
            return Ok(k.clone());
        }
        let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(Value::Object(jwk.clone()))
            .map_err(|_| refuse("the DPoP proof's jwk is not a JSON Web Key"))?;
        let (key, _) = PublicKey::from_jwk(&parsed)
            .map_err(|e| refuse(format!("the DPoP proof's jwk is unusable: {e}")))?;
        let key = std::sync::Arc::new(key);
        let mut keys = lock();
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(thumb.to_owned(), key.clone());
        Ok(key)
    }

    /// Records a proof; `Err` for one seen before.
    fn remember(&self, jkt: &str, jti: &str, now: u64) -> Result<(), AuthError> {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            format!("{jkt}\n{jti}").as_bytes(),
        );
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest.as_ref()[..16]);
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.get(&key).is_some_and(|until| *until >= now) {
            return Err(refuse(
                "the DPoP proof was used before (its jti): make a new proof for each request",
            ));
        }
        if seen.len() >= MAX_REMEMBERED {
            seen.retain(|_, until| *until >= now);
            if seen.len() >= MAX_REMEMBERED {
                return Err(AuthError::Unavailable(
                    "too many DPoP proofs to remember right now; try again shortly".into(),
                ));
            }
        }
        seen.insert(key, now + MAX_AGE + MAX_AHEAD);
        Ok(())
    }
}

/// Checks `proof` for a request with `method` to `url` presenting `token`, bound to `jkt`
/// (and carrying a recent nonce of this server's, with `nonces`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn check(
    proof: &str,
    method: &str,
    url: &str,
    token: &str,
    jkt: &str,
    now: u64,
    replays: &Replays,
    nonces: Option<&Nonces>,
) -> Result<(), AuthError> {
    let (key, nonce) = proof_key(proof, method, url, Some(token), now, replays)?;
    if key != jkt {
        return Err(refuse(
            "the DPoP proof is signed by another key than the one the token is bound to",
        ));
    }
    if let Some(n) = nonces {
        n.require(nonce.as_deref(), now)?;
    }
    replays.remember(&key, &proof_jti(proof)?, now)
}

/// Checks a proof at the token endpoint (no token yet): the thumbprint of its key, to bind
/// the tokens to, once its `jti` is remembered.
#[cfg(feature = "authorization-server")]
pub(crate) fn check_token_request(
    proof: &str,
    url: &str,
    now: u64,
    replays: &Replays,
    nonces: Option<&Nonces>,
) -> Result<String, AuthError> {
    let (key, nonce) = proof_key(proof, "POST", url, None, now, replays)?;
    if let Some(n) = nonces {
        n.require(nonce.as_deref(), now)?;
    }
    replays.remember(&key, &proof_jti(proof)?, now)?;
    Ok(key)
}

fn proof_jti(proof: &str) -> Result<String, AuthError> {
    let parts = jws::split(proof).map_err(|_| refuse("the DPoP proof is not a JWT"))?;
    let claims = parts
        .claims()
        .map_err(|_| refuse("the DPoP proof's payload is not a JSON object"))?;
    claims
        .get("jti")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| refuse("the DPoP proof needs a jti"))
}

/// Everything about a proof but its use: the signature by the key it carries, the request it
/// names, its age, the token it comes with (`ath`, when there is one); the key's thumbprint.
fn proof_key(
    proof: &str,
    method: &str,
    url: &str,
    token: Option<&str>,
    now: u64,
    replays: &Replays,
) -> Result<(String, Option<String>), AuthError> {
    let parts = jws::split(proof).map_err(|_| refuse("the DPoP proof is not a JWT"))?;
    let mut buf = [0u8; 2048];
    let header_bytes = jws::decode(parts.header, &mut buf)
        .map_err(|_| refuse("the DPoP proof's header is not base64url"))?;
    let header: Map<String, Value> = serde_json::from_slice(&header_bytes)
        .map_err(|_| refuse("the DPoP proof's header is not a JSON object"))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(refuse("the DPoP proof's typ must be dpop+jwt"));
    }
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !DPOP_ALGORITHMS.contains(&alg_name) {
        return Err(refuse(format!(
            "the DPoP proof's alg must be one of {}",
            DPOP_ALGORITHMS.join(", ")
        )));
    }
    let alg: jsonwebtoken::Algorithm = alg_name
        .parse()
        .map_err(|_| refuse("the DPoP proof's alg is unknown"))?;
    let Some(jwk) = header.get("jwk").and_then(Value::as_object) else {
        return Err(refuse("the DPoP proof carries no jwk"));
    };
    if jwk.contains_key("d") || jwk.contains_key("p") || jwk.contains_key("k") {
        return Err(refuse("the DPoP proof's jwk must be a public key"));
    }
    let thumb = thumbprint(jwk).ok_or_else(|| refuse("the DPoP proof's jwk is incomplete"))?;
    let key = replays.key(&thumb, jwk)?;
    let mut sig_buf = [0u8; jws::MAX_SIGNATURE];
    let signature = parts
        .signature(&mut sig_buf)
        .map_err(|_| refuse("the DPoP proof's signature is malformed"))?;
    key.verify(alg, parts.message, &signature)
        .map_err(|_| refuse("the DPoP proof's signature does not verify with its jwk"))?;
    let claims = parts
        .claims()
        .map_err(|_| refuse("the DPoP proof's payload is not a JSON object"))?;
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| (1..=256).contains(&j.len()))
        .ok_or_else(|| refuse("the DPoP proof needs a jti (1 to 256 characters)"))?;
    if claims.get("htm").and_then(Value::as_str) != Some(method) {
        return Err(refuse(format!(
            "the DPoP proof's htm must be this request's method, {method}"
        )));
    }
    let htu = claims.get("htu").and_then(Value::as_str).unwrap_or("");
    if htu.contains(['?', '#']) || !same_target(htu, url) {
        return Err(refuse(format!(
            "the DPoP proof's htu must be this request's URL, {url} (no query or fragment)"
        )));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or_else(|| refuse("the DPoP proof needs an iat"))?;
    if iat + MAX_AGE < now || iat > now + MAX_AHEAD {
        return Err(refuse(
            "the DPoP proof's iat is not recent: make a new proof for each request",
        ));
    }
    if let Some(token) = token {
        let ath = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            token.as_bytes(),
        ));
        if claims.get("ath").and_then(Value::as_str) != Some(ath.as_str()) {
            return Err(refuse(
                "the DPoP proof's ath must be the SHA-256 of the access token it comes with",
            ));
        }
    }
    let _ = jti;
    let nonce = claims
        .get("nonce")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((thumb, nonce))
}

/// The RFC 7638 thumbprint of a public JWK: SHA-256 of its required members, in order.
pub(crate) fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    let canonical = match s("kty")? {
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            Value::from(s("crv")?),
            Value::from(s("x")?),
            Value::from(s("y")?)
        ),
        "RSA" => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            Value::from(s("e")?),
            Value::from(s("n")?)
        ),
        "OKP" => format!(
            r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
            Value::from(s("crv")?),
            Value::from(s("x")?)
        ),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        canonical.as_bytes(),
    )))
}

/// Whether `htu` names `url`: scheme and host in any case, a default port or none, one
/// trailing slash or none.
fn same_target(htu: &str, url: &str) -> bool {
    match (url::Url::parse(htu), url::Url::parse(url)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
                && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_follow_rfc_7638() {
        // RFC 7638 §3.1's example key.
        let jwk: Map<String, Value> = serde_json::from_str(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .expect("json");
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert!(thumbprint(&Map::new()).is_none());
    }

    #[test]
    fn targets_compare_as_urls() {
        assert!(same_target(
            "https://MCP.example:443/mcp/",
            "https://mcp.example/mcp"
        ));
        assert!(!same_target(
            "https://mcp.example/other",
            "https://mcp.example/mcp"
        ));
        assert!(!same_target(
            "http://mcp.example/mcp",
            "https://mcp.example/mcp"
        ));
    }
}
