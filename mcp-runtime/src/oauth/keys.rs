//! Signing: RS256 JWT access tokens with the core's keys, which the store keeps so that tokens
//! outlive a restart and every replica on a shared store signs and verifies alike.
//!
//! The store holds a key *ring* (`signing`): each key has the moment it starts signing. The
//! newest key whose moment has come signs; every key is published in the JWKS. A rotation
//! ([`rotate_signing_key`]) adds a key that starts signing later (after verifiers have fetched
//! the new JWKS) and drops keys older than the one signing now; replicas read the ring again
//! every 30 seconds, and at the JWKS and token endpoints (at most once a second).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::params::random_token;
use super::seal::Sealer;
use crate::store::{Space, Store, StoreError, block_on, get_or_put_new};

/// How often a replica reads the key ring again on its own.
pub(super) const RELOAD_EVERY: Duration = Duration::from_secs(30);

/// A signing key as stored: its `kid`, its PKCS#8 DER, and when it starts signing
/// (milliseconds since the epoch; 0 for always).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
pub(super) struct StoredKey {
    kid: String,
    pkcs8: String,
    #[serde(default)]
    from: u64,
}

/// The ring as stored (a single key was stored before rotations existed, and still reads).
#[derive(Serialize, Deserialize)]
struct StoredRing {
    keys: Vec<StoredKey>,
}

/// One key, ready to sign.
pub(super) struct SigningKey {
    pub(super) key: KeyPair,
    pub(super) from: u64,
    /// `base64url(header)`, the same for every token of this key.
    pub(super) header_b64: String,
}

/// The keys in use: the one signing now, the ones published.
pub(super) struct KeyRing {
    pub(super) keys: Vec<SigningKey>,
    pub(super) stored: Vec<StoredKey>,
    /// The JWKS document: every key.
    pub(super) jwks_body: Bytes,
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl KeyRing {
    pub(super) fn new(stored: Vec<StoredKey>) -> Result<Self, String> {
        let mut keys = Vec::new();
        let mut jwks = Vec::new();
        for k in &stored {
            let der = URL_SAFE_NO_PAD
                .decode(&k.pkcs8)
                .map_err(|e| format!("the stored signing key is unreadable: {e}"))?;
            let key = KeyPair::from_pkcs8(&der)
                .map_err(|e| format!("the stored signing key is rejected: {e}"))?;
            let public = key.public_key();
            jwks.push(json!({
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": k.kid,
                "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            }));
            let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": k.kid});
            keys.push(SigningKey {
                key,
                from: k.from,
                header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
            });
        }
        if keys.is_empty() {
            return Err("the stored signing key ring is empty".into());
        }
        Ok(KeyRing {
            keys,
            stored,
            jwks_body: Bytes::from(json!({ "keys": jwks }).to_string()),
        })
    }

    /// The key that signs at `now`: the newest whose moment has come (else the earliest).
    pub(super) fn signing(&self, now: u64) -> &SigningKey {
        let started = self
            .keys
            .iter()
            .filter(|k| k.from <= now)
            .max_by_key(|k| k.from);
        started
            .or_else(|| self.keys.iter().min_by_key(|k| k.from))
            .unwrap_or(&self.keys[0])
    }
}

fn new_key(from: u64) -> Result<StoredKey, String> {
    let key = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| "cannot generate an RSA signing key".to_owned())?;
    let der = key
        .as_der()
        .map_err(|_| "cannot encode the signing key".to_owned())?;
    Ok(StoredKey {
        kid: random_token(12),
        pkcs8: URL_SAFE_NO_PAD.encode(der.as_ref()),
        from,
    })
}

/// The ring as stored under `MCP_STORE_ENCRYPTION_KEY`: the plain ring, sealed.
#[derive(Serialize, Deserialize)]
struct SealedRing {
    sealed: String,
}

/// The associated data of a sealed ring.
const LABEL: &[u8] = b"mcp-runtime signing keys";

/// Whether a stored ring is sealed.
pub(super) fn is_sealed(raw: &[u8]) -> bool {
    serde_json::from_slice::<SealedRing>(raw).is_ok()
}

/// The stored ring: sealed (opened with `sealer`), or plain (as stored without a key, and
/// before keys were sealed).
pub(super) fn read(raw: &[u8], sealer: Option<&Sealer>) -> Result<Vec<StoredKey>, String> {
    if let Ok(SealedRing { sealed }) = serde_json::from_slice::<SealedRing>(raw) {
        let sealer = sealer.ok_or(
            "the stored signing keys are encrypted: set MCP_STORE_ENCRYPTION_KEY, the same as \
             on the replicas that stored them",
        )?;
        let plain = URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()
            .and_then(|b| sealer.open(LABEL, &b))
            .ok_or(
                "the stored signing keys do not open with this MCP_STORE_ENCRYPTION_KEY (every \
                 replica needs the same one)",
            )?;
        return read_plain(&plain);
    }
    read_plain(raw)
}

fn read_plain(raw: &[u8]) -> Result<Vec<StoredKey>, String> {
    if let Ok(ring) = serde_json::from_slice::<StoredRing>(raw) {
        return Ok(ring.keys);
    }
    serde_json::from_slice::<StoredKey>(raw)
        .map(|k| vec![k])
        .map_err(|e| format!("the stored signing key is unreadable: {e}"))
}

/// The ring to store: sealed when there is a key.
fn encode(keys: &[StoredKey], sealer: Option<&Sealer>) -> Result<Vec<u8>, String> {
    let plain = serde_json::to_vec(&StoredRing {
        keys: keys.to_vec(),
    })
    .map_err(|e| e.to_string())?;
    let Some(sealer) = sealer else {
        return Ok(plain);
    };
    let sealed = sealer
        .seal(LABEL, &plain)
        .ok_or("no randomness to encrypt the signing keys")?;
    serde_json::to_vec(&SealedRing {
        sealed: URL_SAFE_NO_PAD.encode(sealed),
    })
    .map_err(|e| e.to_string())
}

/// The store's key ring, or a new one, saved to the store. Runs at start-up. Replicas that
/// share a store and start together agree on one key: the first to save its ring wins, and
/// the others load it.
pub(super) fn load_or_create(
    store: &dyn Store,
    sealer: Option<&Sealer>,
) -> Result<KeyRing, StoreError> {
    let raw = get_or_put_new(store, Space::Keys, "signing", || {
        encode(&[new_key(0)?], sealer)
    })?;
    let keys = read(&raw, sealer).map_err(StoreError::new)?;
    if sealer.is_some() && !is_sealed(&raw) {
        // Stored before there was a key: sealed now, and only sealed rings are taken from
        // the store from now on.
        tracing::warn!(target: "mcp_runtime::auth", "the signing keys were stored in the clear; storing them encrypted with MCP_STORE_ENCRYPTION_KEY");
        let sealed = encode(&keys, sealer).map_err(StoreError::new)?;
        block_on(store.put(Space::Keys, "signing", sealed, None))?;
    }
    KeyRing::new(keys).map_err(StoreError::new)
}

/// Starts a rotation of the embedded authorization server's signing key in `store` (the one
/// every replica shares): a new key is published at once and starts signing after
/// `publish_for`; keys older than the one signing now are dropped. Returns the new key's
/// `kid`.
///
/// `publish_for` must cover how long verifiers cache the JWKS (this server sends
/// `max-age=3600`) plus the 30 seconds replicas take to read the ring again, so that no token
/// is signed with a key a verifier has not seen. Tokens signed by the previous key keep
/// verifying until the next rotation drops it, so rotate no more often than `publish_for`
/// plus the access-token lifetime. Run one rotation at a time.
///
/// `encryption_key` is the replicas' `MCP_STORE_ENCRYPTION_KEY`, when they have one: the ring
/// is stored encrypted with it (and one stored in the clear is encrypted from now on).
pub async fn rotate_signing_key(
    store: &dyn Store,
    encryption_key: Option<&[u8; 32]>,
    publish_for: Duration,
) -> Result<String, StoreError> {
    let sealer = encryption_key
        .map(Sealer::new)
        .transpose()
        .map_err(StoreError::new)?;
    let now = now_ms();
    let mut keys = match store.get(Space::Keys, "signing").await? {
        Some(raw) => read(&raw, sealer.as_ref()).map_err(StoreError::new)?,
        None => Vec::new(),
    };
    // The key signing now, and any still to come, stay; older ones go.
    let current = keys.iter().filter(|k| k.from <= now).map(|k| k.from).max();
    keys.retain(|k| current.is_none_or(|c| k.from >= c));
    let from = now.saturating_add(u64::try_from(publish_for.as_millis()).unwrap_or(u64::MAX));
    let next = new_key(from).map_err(StoreError::new)?;
    let kid = next.kid.clone();
    keys.push(next);
    store
        .put(
            Space::Keys,
            "signing",
            encode(&keys, sealer.as_ref()).map_err(StoreError::new)?,
            None,
        )
        .await?;
    Ok(kid)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::JwkSet;
    use serde_json::{Value, json};

    use super::super::AuthServer;
    use super::super::params::unix_now;

    #[test]
    fn signed_tokens_verify_with_the_published_key() {
        let dev = AuthServer::new(
            super::super::Identity::Dev(Box::default()),
            std::time::Duration::from_secs(60),
            None,
            None,
        )
        .expect("key");
        let _ = dev.issuer.set("http://127.0.0.1:1".into());
        let token = dev
            .sign(&json!({"iss": "http://127.0.0.1:1", "aud": "http://127.0.0.1:1/mcp", "exp": unix_now() + 60, "sub": "u"}))
            .expect("signed");
        let set: JwkSet = serde_json::from_slice(&dev.jwks_body()).expect("jwks");
        let key = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).expect("key");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&["http://127.0.0.1:1/mcp"]);
        let data = jsonwebtoken::decode::<Value>(&token, &key, &v).expect("verifies");
        assert_eq!(data.claims["sub"], "u");
        assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
    }

    #[test]
    fn rings_read_the_old_single_key_and_sign_with_the_newest_started_key() {
        use super::*;
        let a = new_key(0).expect("key");
        let legacy = serde_json::to_vec(&json!({"kid": a.kid, "pkcs8": a.pkcs8})).expect("json");
        let read_back = read(&legacy, None).expect("a single key still reads");
        assert_eq!(read_back.len(), 1);
        assert_eq!(
            (read_back[0].kid.as_str(), read_back[0].from),
            (a.kid.as_str(), 0)
        );
        let b = new_key(1_000).expect("key");
        let c = new_key(u64::MAX).expect("key");
        let ring = KeyRing::new(vec![a.clone(), b.clone(), c.clone()]).expect("ring");
        let header = |k: &SigningKey| k.header_b64.clone();
        let kid_of = |h: String| {
            let raw = URL_SAFE_NO_PAD.decode(h).expect("b64");
            serde_json::from_slice::<Value>(&raw).expect("json")["kid"].clone()
        };
        assert_eq!(kid_of(header(ring.signing(500))), json!(a.kid));
        assert_eq!(kid_of(header(ring.signing(2_000))), json!(b.kid));
        let jwks: Value = serde_json::from_slice(&ring.jwks_body).expect("jwks");
        assert_eq!(
            jwks["keys"].as_array().map(Vec::len),
            Some(3),
            "every key is published"
        );
        // Only future keys: the earliest signs.
        let future = KeyRing::new(vec![c]).expect("ring");
        assert_eq!(future.signing(0).from, u64::MAX);
    }

    #[tokio::test]
    async fn a_rotation_keeps_the_current_key_and_drops_older_ones() {
        use super::*;
        let store = crate::store::MemoryStore::new();
        let first = rotate_signing_key(&store, None, Duration::ZERO)
            .await
            .expect("rotates");
        let second = rotate_signing_key(&store, None, Duration::ZERO)
            .await
            .expect("rotates");
        let kids = || async {
            let raw = store.get(Space::Keys, "signing").await.expect("get");
            let ring = read(&raw.expect("ring"), None).expect("ring");
            ring.into_iter().map(|k| k.kid).collect::<Vec<String>>()
        };
        assert_eq!(kids().await, [first.clone(), second.clone()]);
        let later = rotate_signing_key(&store, None, Duration::from_secs(3600))
            .await
            .expect("rotates");
        assert_eq!(
            kids().await,
            [second, later],
            "the first key is gone, the current one stays"
        );
    }

    #[tokio::test]
    async fn with_an_encryption_key_the_ring_is_stored_sealed() {
        use super::*;
        let key = [7u8; 32];
        let sealer = Sealer::new(&key).expect("key");
        let a = new_key(0).expect("key");
        let sealed = encode(std::slice::from_ref(&a), Some(&sealer)).expect("encodes");
        let text = String::from_utf8_lossy(&sealed);
        assert!(text.starts_with(r#"{"sealed":""#), "{text}");
        assert!(!text.contains(&a.pkcs8) && !text.contains(&a.kid), "{text}");
        // (StoredKey has no Debug: it holds a private key.)
        assert!(read(&sealed, Some(&sealer)).expect("opens") == [a.clone()]);
        let missing = read(&sealed, None).err().expect("needs the key");
        assert!(
            missing.contains("set MCP_STORE_ENCRYPTION_KEY"),
            "{missing}"
        );
        let other = Sealer::new(&[8u8; 32]).expect("key");
        let wrong = read(&sealed, Some(&other)).err().expect("another key");
        assert!(
            wrong.contains("do not open with this MCP_STORE_ENCRYPTION_KEY"),
            "{wrong}"
        );
        // A ring stored in the clear still reads, and a rotation stores it sealed.
        let store = crate::store::MemoryStore::new();
        let plain = encode(std::slice::from_ref(&a), None).expect("encodes");
        store
            .put(Space::Keys, "signing", plain, None)
            .await
            .expect("put");
        let next = rotate_signing_key(&store, Some(&key), Duration::ZERO)
            .await
            .expect("rotates");
        let raw = store
            .get(Space::Keys, "signing")
            .await
            .expect("get")
            .expect("ring");
        assert!(!String::from_utf8_lossy(&raw).contains("pkcs8"));
        let kids: Vec<String> = read(&raw, Some(&sealer))
            .expect("opens")
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, [a.kid.clone(), next]);
        // A server starting with a key on a ring stored in the clear seals it at once.
        let store = std::sync::Arc::new(crate::store::MemoryStore::new());
        let plain = encode(std::slice::from_ref(&a), None).expect("encodes");
        store
            .put(Space::Keys, "signing", plain, None)
            .await
            .expect("put");
        let dev = std::thread::spawn({
            let store = store.clone();
            move || {
                AuthServer::new(
                    super::super::Identity::Dev(Box::default()),
                    Duration::from_secs(60),
                    Some(store),
                    Some(&key),
                )
            }
        })
        .join()
        .expect("thread")
        .expect("starts");
        let raw = store
            .get(Space::Keys, "signing")
            .await
            .expect("get")
            .expect("ring");
        assert!(is_sealed(&raw), "sealed at start-up");
        // From then on a ring in the clear written to the store is refused, not adopted.
        let intruder = new_key(0).expect("key");
        let forged = encode(std::slice::from_ref(&intruder), None).expect("encodes");
        dev.adopt_ring(Ok(Some(forged)));
        let published: Value = serde_json::from_slice(&dev.jwks_body()).expect("jwks");
        assert_eq!(published["keys"][0]["kid"], json!(a.kid));
        assert_eq!(published["keys"].as_array().map(Vec::len), Some(1));
    }
}
