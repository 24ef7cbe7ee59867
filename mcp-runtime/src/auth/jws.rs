//! Compact JWS signatures checked against keys parsed once, and the JWT claim rules.
//!
//! A JWKS key becomes an aws-lc [`ParsedPublicKey`](sig::ParsedPublicKey) when the key set
//! is fetched (an RSA key without `alg` is parsed again for another algorithm on the first token
//! that uses it), so a never-seen token costs one signature check, not a key import and a
//! Montgomery set-up besides. The signature check itself is aws-lc's. The algorithm is the one
//! the verifier accepts and the key allows, never the token's word alone.

use std::sync::OnceLock;

use aws_lc_rs::{hmac, signature as sig};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use serde_json::{Map, Value};

use super::AuthError;

/// Key material in a JWK: base64url, padded or not.
const JWK_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

fn rsa_parameters(alg: Algorithm) -> Option<(usize, &'static sig::RsaParameters)> {
    let params: &'static sig::RsaParameters = match alg {
        Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    };
    Some((RSA_ALGORITHMS.iter().position(|a| *a == alg)?, params))
}

fn invalid_signature() -> AuthError {
    AuthError::invalid("the token's signature is invalid")
}

fn wrong_key(alg: Algorithm) -> AuthError {
    AuthError::invalid(format!(
        "the token's algorithm ({alg:?}) does not match its key"
    ))
}

/// A public key from a key set, ready to verify.
pub(crate) enum PublicKey {
    /// RSA: parsed for each algorithm on first use (RS256 at once, which also checks the key).
    Rsa {
        n: Box<[u8]>,
        e: Box<[u8]>,
        parsed: Box<[OnceLock<Option<sig::ParsedPublicKey>>; 6]>,
    },
    /// ECDSA on P-256 (ES256) or P-384 (ES384): the curve names the one algorithm.
    Ec(Algorithm, sig::ParsedPublicKey),
    /// Ed25519 (EdDSA).
    Ed(sig::ParsedPublicKey),
}

impl PublicKey {
    /// The key a JWK describes, with the only algorithm it can verify when its kind fixes one
    /// (EC and OKP keys). An unusable key is an error that says why.
    pub(crate) fn from_jwk(jwk: &Jwk) -> Result<(Self, Option<Algorithm>), String> {
        let bytes = |what: &str, s: &str| {
            JWK_B64
                .decode(s)
                .map_err(|_| format!("its `{what}` is not base64url"))
        };
        match &jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                let n = bytes("n", &rsa.n)?.into_boxed_slice();
                let e = bytes("e", &rsa.e)?.into_boxed_slice();
                let parsed: Box<[OnceLock<Option<sig::ParsedPublicKey>>; 6]> = Box::default();
                let rs256 = sig::RsaPublicKeyComponents {
                    n: &n[..],
                    e: &e[..],
                }
                .to_parsed_public_key(&sig::RSA_PKCS1_2048_8192_SHA256)
                .map_err(|e| format!("not a valid RSA public key ({e})"))?;
                let _ = parsed[0].set(Some(rs256));
                Ok((PublicKey::Rsa { n, e, parsed }, None))
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                let (alg, algorithm, len): (_, &'static sig::EcdsaVerificationAlgorithm, _) =
                    match ec.curve {
                        EllipticCurve::P256 => {
                            (Algorithm::ES256, &sig::ECDSA_P256_SHA256_FIXED, 32)
                        }
                        EllipticCurve::P384 => {
                            (Algorithm::ES384, &sig::ECDSA_P384_SHA384_FIXED, 48)
                        }
                        ref other => return Err(format!("the curve {other:?} is not supported")),
                    };
                let (x, y) = (bytes("x", &ec.x)?, bytes("y", &ec.y)?);
                if x.len() != len || y.len() != len {
                    return Err(format!("its coordinates are not {len} bytes each"));
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                let key = sig::ParsedPublicKey::new(algorithm, point)
                    .map_err(|e| format!("not a point on the curve ({e})"))?;
                Ok((PublicKey::Ec(alg, key), Some(alg)))
            }
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                let key = sig::ParsedPublicKey::new(&sig::ED25519, bytes("x", &okp.x)?)
                    .map_err(|e| format!("not an Ed25519 public key ({e})"))?;
                Ok((PublicKey::Ed(key), Some(Algorithm::EdDSA)))
            }
            AlgorithmParameters::OctetKeyPair(okp) => {
                Err(format!("the curve {:?} is not supported", okp.curve))
            }
            _ => Err("it is not a public signature key".to_owned()),
        }
    }

    /// Checks `signature` over `message` (the token's `header.payload`) for `alg`.
    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), AuthError> {
        let key = match self {
            PublicKey::Rsa { n, e, parsed } => {
                let (index, params) = rsa_parameters(alg).ok_or_else(|| wrong_key(alg))?;
                parsed[index]
                    .get_or_init(|| {
                        sig::RsaPublicKeyComponents {
                            n: &n[..],
                            e: &e[..],
                        }
                        .to_parsed_public_key(params)
                        .ok()
                    })
                    .as_ref()
                    .ok_or_else(|| wrong_key(alg))?
            }
            PublicKey::Ec(own, key) if *own == alg => key,
            PublicKey::Ed(key) if alg == Algorithm::EdDSA => key,
            _ => return Err(wrong_key(alg)),
        };
        key.verify_sig(message, signature)
            .map_err(|_| invalid_signature())
    }
}

/// A shared secret (HS256, HS384, HS512), with the HMAC keys derived once.
pub(crate) struct HmacKeys {
    keys: [hmac::Key; 3],
}

impl HmacKeys {
    pub(crate) fn new(secret: &[u8]) -> Self {
        HmacKeys {
            keys: [
                hmac::Key::new(hmac::HMAC_SHA256, secret),
                hmac::Key::new(hmac::HMAC_SHA384, secret),
                hmac::Key::new(hmac::HMAC_SHA512, secret),
            ],
        }
    }

    /// Checks the MAC in constant time.
    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), AuthError> {
        let key = match alg {
            Algorithm::HS256 => &self.keys[0],
            Algorithm::HS384 => &self.keys[1],
            Algorithm::HS512 => &self.keys[2],
            _ => return Err(wrong_key(alg)),
        };
        hmac::verify(key, message, signature).map_err(|_| invalid_signature())
    }
}

/// Decodes base64url without padding into `buf` when it fits (no allocation for the parts of
/// an ordinary token), else into a new vector.
pub(crate) fn decode<'b>(
    encoded: &str,
    buf: &'b mut [u8],
) -> Result<std::borrow::Cow<'b, [u8]>, base64::DecodeError> {
    // The decoded length, rounded up to whole bytes of the last group.
    if encoded.len() * 3 / 4 <= buf.len() {
        match URL_SAFE_NO_PAD.decode_slice(encoded, buf) {
            Ok(n) => Ok(std::borrow::Cow::Borrowed(&buf[..n])),
            Err(base64::DecodeSliceError::DecodeError(e)) => Err(e),
            // Cannot happen (the buffer holds the longest decoding); decode the slow way.
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                URL_SAFE_NO_PAD.decode(encoded).map(std::borrow::Cow::Owned)
            }
        }
    } else {
        URL_SAFE_NO_PAD.decode(encoded).map(std::borrow::Cow::Owned)
    }
}

/// A compact JWS split in three (base64url text; nothing decoded yet).
pub(crate) struct Parts<'a> {
    /// The header's text.
    pub(crate) header: &'a str,
    /// What is signed: `header.payload`.
    pub(crate) message: &'a [u8],
    payload: &'a str,
    signature: &'a str,
}

/// Splits a compact JWS: exactly three parts, found in one pass.
pub(crate) fn split(token: &str) -> Result<Parts<'_>, AuthError> {
    let malformed =
        || AuthError::invalid("the token is not a JWT (three base64url parts separated by dots)");
    let (message, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
    let (header, payload) = message.split_once('.').ok_or_else(malformed)?;
    if payload.contains('.') {
        return Err(malformed());
    }
    Ok(Parts {
        header,
        message: message.as_bytes(),
        payload,
        signature,
    })
}

/// The longest signature: RSA-8192.
pub(crate) const MAX_SIGNATURE: usize = 1024;

impl Parts<'_> {
    /// The decoded signature, into `buf`; refused before any key is looked up when it is not
    /// base64url or longer than any key's signature.
    pub(crate) fn signature<'b>(
        &self,
        buf: &'b mut [u8; MAX_SIGNATURE],
    ) -> Result<std::borrow::Cow<'b, [u8]>, AuthError> {
        if self.signature.len() > MAX_SIGNATURE.div_ceil(3) * 4 {
            return Err(invalid_signature());
        }
        decode(self.signature, buf)
            .map_err(|_| AuthError::invalid("the token's signature is not base64url"))
    }

    /// The claims: a JSON object (read only once the signature held).
    pub(crate) fn claims(&self) -> Result<Map<String, Value>, AuthError> {
        let mut buf = [0u8; 1536];
        let bytes = decode(self.payload, &mut buf).map_err(|_| {
            AuthError::invalid("the token is malformed: the payload is not base64url")
        })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            AuthError::invalid(format!(
                "the token is malformed: the payload is not a JSON object ({e})"
            ))
        })
    }
}

/// The registered-claim rules a verifier applies after the signature.
pub(crate) struct ClaimRules<'a> {
    /// The expected `iss` (required when set).
    pub(crate) issuer: Option<&'a str>,
    /// More accepted spellings of it.
    pub(crate) other_issuers: &'a [String],
    /// The accepted `aud` values (required when not empty).
    pub(crate) audiences: &'a [String],
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub(crate) leeway: u64,
    /// Now, in seconds since the epoch.
    pub(crate) now: u64,
}

/// A NumericDate (RFC 7519 §2): a non-negative number of seconds, fractions allowed.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, AuthError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let seconds = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            // Saturating float-to-int: a date beyond u64 is "never".
            .map(|f| f as u64)
    });
    seconds.map(Some).ok_or_else(|| {
        AuthError::invalid(format!(
            "the token's `{name}` claim is not a number of seconds"
        ))
    })
}

impl ClaimRules<'_> {
    /// `exp` (required), `nbf`, `iss` and `aud`, with messages that say what is wrong.
    pub(crate) fn check(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        let exp = numeric_date(claims, "exp")?
            .ok_or_else(|| AuthError::invalid("the token has no `exp` claim"))?;
        if exp.saturating_add(self.leeway) < self.now {
            return Err(AuthError::invalid("the token expired"));
        }
        if numeric_date(claims, "nbf")?
            .is_some_and(|nbf| nbf > self.now.saturating_add(self.leeway))
        {
            return Err(AuthError::invalid(
                "the token is not valid yet (`nbf` is in the future)",
            ));
        }
        if let Some(expected) = self.issuer {
            match claims.get("iss") {
                None => return Err(AuthError::invalid("the token has no `iss` claim")),
                Some(Value::String(iss))
                    if iss == expected || self.other_issuers.iter().any(|o| o == iss) => {}
                Some(_) => {
                    return Err(AuthError::invalid(format!(
                        "the token was issued by another issuer; expected `iss` {expected}"
                    )));
                }
            }
        }
        if !self.audiences.is_empty() {
            let accepted = |a: &Value| {
                a.as_str()
                    .is_some_and(|a| self.audiences.iter().any(|x| x == a))
            };
            let ok = match claims.get("aud") {
                None => return Err(AuthError::invalid("the token has no `aud` claim")),
                Some(Value::Array(items)) => items.iter().any(accepted),
                Some(one) => accepted(one),
            };
            if !ok {
                return Err(AuthError::invalid(format!(
                    "the token is not for this server: `aud` must be {}",
                    self.audiences.join(" or ")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "jws_tests.rs"]
mod tests;
