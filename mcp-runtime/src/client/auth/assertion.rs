//! `private_key_jwt` (RFC 7523 §2.2): the client proves who it is with a short-lived JWT it
//! signs with its own private key, instead of sending a secret.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::client::ClientError;

/// How long an assertion is valid: long enough for the request, short enough that the
/// server's replay cache stays small.
const LIFETIME: u64 = 60;

enum Signer {
    Ecdsa(sig::EcdsaKeyPair),
    Ed25519(sig::Ed25519KeyPair),
    Rsa(sig::RsaKeyPair),
}

/// A client's private key, for `private_key_jwt` client authentication (and the public half
/// its operator registers). Read from PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`; an EC key
/// also as `-----BEGIN EC PRIVATE KEY-----`): EC P-256 (ES256), P-384 (ES384), Ed25519
/// (EdDSA) or RSA (RS256).
pub struct ClientKey {
    signer: Signer,
    alg: &'static str,
    kid: Option<String>,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ClientKey {
    /// Reads a private key in PEM. The error says what the text is not.
    pub fn from_pem(pem: &str) -> Result<Self, ClientError> {
        let label = pem
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
            .ok_or_else(|| {
                ClientError::Config(
                    "the client key is not PEM (`-----BEGIN PRIVATE KEY-----` …)".into(),
                )
            })?
            .to_owned();
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----") && !l.is_empty())
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|_| ClientError::Config("the client key's PEM body is not base64".into()))?;
        let key = match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8(&der),
            "EC PRIVATE KEY" => Self::from_ec(&der),
            "ENCRYPTED PRIVATE KEY" => Err(
                "the client key is encrypted; decrypt it first (`openssl pkcs8 -topk8 -nocrypt`)"
                    .to_owned(),
            ),
            other => Err(format!(
                "a `{other}` is not a private key this client reads; give PKCS#8 \
                 (`-----BEGIN PRIVATE KEY-----`, `openssl pkcs8 -topk8 -nocrypt`)"
            )),
        };
        key.map_err(ClientError::Config)
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        if let Ok(k) = Self::from_ec(der) {
            return Ok(k);
        }
        if let Ok(k) = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Ok(ClientKey {
                signer: Signer::Ed25519(k),
                alg: "EdDSA",
                kid: None,
            });
        }
        if let Ok(k) = sig::RsaKeyPair::from_pkcs8(der) {
            if k.public_modulus_len() < 256 {
                return Err("the RSA client key is shorter than 2048 bits".into());
            }
            return Ok(ClientKey {
                signer: Signer::Rsa(k),
                alg: "RS256",
                kid: None,
            });
        }
        Err("the client key is not an EC P-256, P-384, Ed25519 or RSA private key".into())
    }

    fn from_ec(der: &[u8]) -> Result<Self, String> {
        for (alg, name) in [
            (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, "ES256"),
            (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, "ES384"),
        ] {
            if let Ok(k) = sig::EcdsaKeyPair::from_private_key_der(alg, der) {
                return Ok(ClientKey {
                    signer: Signer::Ecdsa(k),
                    alg: name,
                    kid: None,
                });
            }
        }
        Err("the client key is not an EC P-256 or P-384 private key".into())
    }

    /// Names the key (`kid` in the assertions' header), as in the JWKS the server holds.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Signs with RS256's sibling PS256 (an RSA key only; others keep their algorithm).
    pub fn pss(mut self) -> Self {
        if matches!(self.signer, Signer::Rsa(_)) {
            self.alg = "PS256";
        }
        self
    }

    /// The JWS algorithm its assertions are signed with.
    pub fn algorithm(&self) -> &'static str {
        self.alg
    }

    /// The public half as a JWK, for the operator to register (`jwks` in
    /// `MCP_OAUTH_CLIENTS`, [`ServiceClient::with_jwks`]).
    ///
    /// [`ServiceClient::with_jwks`]: https://docs.rs/mcp-runtime/latest/mcp_runtime/providers/struct.ServiceClient.html
    pub fn public_jwk(&self) -> Value {
        let mut jwk = match &self.signer {
            Signer::Ecdsa(k) => {
                let point = k.public_key().as_ref();
                let n = (point.len() - 1) / 2;
                json!({
                    "kty": "EC",
                    "crv": if n == 32 { "P-256" } else { "P-384" },
                    "x": URL_SAFE_NO_PAD.encode(&point[1..=n]),
                    "y": URL_SAFE_NO_PAD.encode(&point[n + 1..]),
                })
            }
            Signer::Ed25519(k) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(k.public_key().as_ref()),
            }),
            Signer::Rsa(k) => {
                let public = k.public_key();
                let modulus = public.modulus();
                let exponent = public.exponent();
                json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(modulus.big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(exponent.big_endian_without_leading_zero()),
                })
            }
        };
        jwk["alg"] = self.alg.into();
        jwk["use"] = "sig".into();
        if let Some(kid) = &self.kid {
            jwk["kid"] = kid.clone().into();
        }
        jwk
    }

    /// A signed assertion naming `client_id` (as `iss` and `sub`) for `audience` (the
    /// authorization server's issuer), valid a minute, with a fresh `jti`.
    pub(crate) fn assertion(&self, client_id: &str, audience: &str) -> Result<String, ClientError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut header = json!({"alg": self.alg, "typ": "JWT"});
        if let Some(kid) = &self.kid {
            header["kid"] = kid.clone().into();
        }
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + LIFETIME,
            "jti": super::pkce::random(16)?,
        });
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let failed = |_| ClientError::auth("signing the client assertion failed");
        let rng = SystemRandom::new();
        let signature = match &self.signer {
            Signer::Ecdsa(k) => k
                .sign(&rng, message.as_bytes())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            Signer::Ed25519(k) => k.sign(message.as_bytes()).as_ref().to_vec(),
            Signer::Rsa(k) => {
                let mut out = vec![0u8; k.public_modulus_len()];
                let padding: &'static dyn sig::RsaEncoding = if self.alg == "PS256" {
                    &sig::RSA_PSS_SHA256
                } else {
                    &sig::RSA_PKCS1_SHA256
                };
                k.sign(padding, &rng, message.as_bytes(), &mut out)
                    .map_err(failed)?;
                out
            }
        };
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_are_not_private_keys_are_refused_by_name() {
        let e = ClientKey::from_pem("hello").expect_err("not pem");
        assert!(e.to_string().contains("not PEM"), "{e}");
        let e = ClientKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
            .expect_err("public");
        assert!(
            e.to_string().contains("`PUBLIC KEY` is not a private key"),
            "{e}"
        );
        let e = ClientKey::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
        )
        .expect_err("encrypted");
        assert!(e.to_string().contains("encrypted"), "{e}");
        let e = ClientKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
            .expect_err("garbage");
        assert!(e.to_string().contains("is not an EC P-256"), "{e}");
    }
}
