//! DPoP (RFC 9449), the client's side: a key made for this client, and a fresh proof for each
//! token request and each request to the MCP server, so that a stolen access token is useless
//! without the key.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::client::ClientError;

/// A P-256 key, generated for one `OAuth` and never written anywhere.
pub(crate) struct DpopKey {
    key: sig::EcdsaKeyPair,
    jwk: serde_json::Value,
}

impl DpopKey {
    pub(crate) fn generate() -> Result<Self, ClientError> {
        let rng = SystemRandom::new();
        let pkcs8 = sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| ClientError::auth("no DPoP key could be generated"))?;
        let key =
            sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .map_err(|_| ClientError::auth("the generated DPoP key does not load"))?;
        let point = key.public_key().as_ref();
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        Ok(DpopKey { key, jwk })
    }

    /// A proof for a request with `method` to `url` (its query and fragment dropped, RFC 9449
    /// §4.2); with `access_token`, its hash as `ath`; with the server's `nonce`.
    pub(crate) fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, ClientError> {
        let htu = match url::Url::parse(url) {
            Ok(mut u) => {
                u.set_query(None);
                u.set_fragment(None);
                u.to_string()
            }
            Err(_) => url.to_owned(),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let mut claims = json!({
            "jti": super::pkce::random(16)?,
            "htm": method,
            "htu": htu,
            "iat": now,
        });
        if let Some(t) = access_token {
            claims["ath"] = URL_SAFE_NO_PAD
                .encode(aws_lc_rs::digest::digest(
                    &aws_lc_rs::digest::SHA256,
                    t.as_bytes(),
                ))
                .into();
        }
        if let Some(n) = nonce {
            claims["nonce"] = n.into();
        }
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), message.as_bytes())
            .map_err(|_| ClientError::auth("signing a DPoP proof failed"))?;
        Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_are_fresh_and_name_the_request() {
        let k = DpopKey::generate().expect("key");
        let a = k
            .proof(
                "POST",
                "https://mcp.example/mcp?x=1#f",
                Some("tok"),
                Some("n1"),
            )
            .expect("proof");
        let b = k
            .proof("POST", "https://mcp.example/mcp", None, None)
            .expect("proof");
        let part = |jwt: &str, i: usize| -> serde_json::Value {
            serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(jwt.split('.').nth(i).expect("part"))
                    .expect("b64"),
            )
            .expect("json")
        };
        let (h, c) = (part(&a, 0), part(&a, 1));
        assert_eq!(h["typ"], "dpop+jwt");
        assert_eq!(h["jwk"]["crv"], "P-256");
        assert!(h["jwk"].get("d").is_none(), "no private part");
        assert_eq!(c["htu"], "https://mcp.example/mcp");
        assert_eq!(c["htm"], "POST");
        assert_eq!(c["nonce"], "n1");
        assert_eq!(
            c["ath"],
            URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                b"tok"
            ))
        );
        assert_ne!(c["jti"], part(&b, 1)["jti"], "a fresh jti each time");
        assert!(part(&b, 1).get("ath").is_none());
    }
}
