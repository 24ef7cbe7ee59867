//! Signing: RS256 JWT access tokens with the core's key.

use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::AuthServer;

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
        let dev = AuthServer::new(DevProvider::new()).expect("key");
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
