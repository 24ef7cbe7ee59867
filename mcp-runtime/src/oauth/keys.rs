//! Signing: RS256 JWT access tokens with the core's key, which the store keeps so that tokens
//! outlive a restart.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AuthServer;
use super::params::random_token;
use crate::store::{Space, Store, block_on};

/// The signing key as stored: its `kid` and its PKCS#8 DER.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    pkcs8: String,
}

/// The store's signing key, or a new one, saved to the store. Runs at start-up. Replicas that
/// share a store and start together agree on one key: the first to save its key wins, and the
/// others load it.
pub(super) fn load_or_create(store: &dyn Store) -> Result<(KeyPair, String), String> {
    if let Some(found) = load(store)? {
        return Ok(found);
    }
    let key = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| "cannot generate an RSA signing key".to_owned())?;
    let der = key
        .as_der()
        .map_err(|_| "cannot encode the signing key".to_owned())?;
    let stored = StoredKey {
        kid: random_token(12),
        pkcs8: URL_SAFE_NO_PAD.encode(der.as_ref()),
    };
    let bytes = serde_json::to_vec(&stored).map_err(|e| e.to_string())?;
    if block_on(store.put_new(Space::Keys, "signing", bytes, None)).map_err(|e| e.to_string())? {
        return Ok((key, stored.kid));
    }
    // Another replica saved its key first: use that one.
    load(store)?.ok_or_else(|| "the signing key vanished from the store while starting".to_owned())
}

/// The stored signing key, if there is one.
fn load(store: &dyn Store) -> Result<Option<(KeyPair, String)>, String> {
    let Some(raw) = block_on(store.get(Space::Keys, "signing")).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let stored: StoredKey = serde_json::from_slice(&raw)
        .map_err(|e| format!("the stored signing key is unreadable: {e}"))?;
    let der = URL_SAFE_NO_PAD
        .decode(&stored.pkcs8)
        .map_err(|e| format!("the stored signing key is unreadable: {e}"))?;
    let key = KeyPair::from_pkcs8(&der)
        .map_err(|e| format!("the stored signing key is rejected: {e}"))?;
    Ok(Some((key, stored.kid)))
}

impl AuthServer {
    pub(super) fn sign(&self, claims: &Value) -> Option<String> {
        let msg = format!(
            "{}.{}",
            self.header_b64,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, msg.as_bytes(), &mut sig)
            .ok()?;
        Some(format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::JwkSet;
    use serde_json::{Value, json};

    use super::super::AuthServer;
    use super::super::params::unix_now;
    use crate::providers::DevProvider;

    #[test]
    fn signed_tokens_verify_with_the_published_key() {
        let dev = AuthServer::new(
            super::super::Identity::Dev(DevProvider::new()),
            std::time::Duration::from_secs(60),
            None,
        )
        .expect("key");
        let _ = dev.issuer.set("http://127.0.0.1:1".into());
        let token = dev
            .sign(&json!({"iss": "http://127.0.0.1:1", "aud": "http://127.0.0.1:1/mcp", "exp": unix_now() + 60, "sub": "u"}))
            .expect("signed");
        let set: JwkSet = serde_json::from_slice(&dev.jwks_body).expect("jwks");
        let key = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).expect("key");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&["http://127.0.0.1:1/mcp"]);
        let data = jsonwebtoken::decode::<Value>(&token, &key, &v).expect("verifies");
        assert_eq!(data.claims["sub"], "u");
        assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
    }
}
