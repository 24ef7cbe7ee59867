//! JWT plumbing: reading the JOSE header without trusting it, and the unverified payload
//! (for the explicitly dangerous verifier).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::AuthError;

/// The header fields the verifier looks at. `jku`, `jwk`, `x5u` and `x5c` are deliberately not
/// read: keys come only from the configured issuer.
#[derive(Debug, Deserialize)]
pub(crate) struct JoseHeader {
    alg: Option<String>,
    pub(crate) kid: Option<String>,
    crit: Option<Value>,
}

impl JoseHeader {
    pub(crate) fn algorithm(&self) -> Result<Algorithm, AuthError> {
        let alg = self
            .alg
            .as_deref()
            .ok_or_else(|| AuthError::invalid("the token header has no `alg`"))?;
        if alg.eq_ignore_ascii_case("none") {
            return Err(AuthError::invalid(
                "unsigned tokens (`alg: none`) are not accepted",
            ));
        }
        alg.parse::<Algorithm>()
            .map_err(|_| AuthError::invalid(format!("unsupported token algorithm `{alg}`")))
    }
}

/// The JOSE header of a compact JWS. Refuses `crit` (no extension is understood here).
pub(crate) fn header(token: &str) -> Result<JoseHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::invalid(
            "the token is not a JWT (three base64url parts separated by dots)",
        ));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| AuthError::invalid("the token header is not base64url"))?;
    // UTF-8 first: serde skips the fields it ignores without checking their text (RFC 7515
    // §4 and RFC 8259 §8.1: the header is UTF-8 JSON, all of it). Found by fuzz/jwt_claims.
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| AuthError::invalid("the token header is not UTF-8 JSON"))?;
    let header: JoseHeader = serde_json::from_str(text)
        .map_err(|e| AuthError::invalid(format!("the token header is not a JSON object: {e}")))?;
    if header.crit.is_some() {
        return Err(AuthError::invalid(
            "the token header has `crit` extensions this server does not understand",
        ));
    }
    Ok(header)
}

/// The payload, **without verifying anything** (for `dangerous::UnverifiedJwt` only).
pub(crate) fn payload_unverified(token: &str) -> Result<Map<String, Value>, AuthError> {
    header(token)?;
    let payload = token.split('.').nth(1).unwrap_or("");
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| AuthError::invalid("the token payload is not base64url"))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| AuthError::invalid(format!("the token payload is not a JSON object: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn refuses_bad_headers() {
        let t = |h: &str| format!("{}.{}.sig", b64(h), b64("{}"));
        assert_eq!(
            header("abc").err(),
            Some(AuthError::invalid(
                "the token is not a JWT (three base64url parts separated by dots)"
            ))
        );
        assert!(header(&t(r#"{"alg":"RS256","crit":["exp"]}"#)).is_err());
        // Invalid UTF-8 in a field the verifier does not read (the fuzz target's crash input).
        let bad_typ = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(b"{\"alg\":\"HS256\",\"typ\":\"\xcaWT\"}"),
            b64("{}")
        );
        assert_eq!(
            header(&bad_typ).err(),
            Some(AuthError::invalid("the token header is not UTF-8 JSON"))
        );
        assert!(header(&t(r#"{"alg":"RS256","alg":"HS256"}"#)).is_err());
        let none = header(&t(r#"{"alg":"none"}"#)).expect("parses");
        assert_eq!(
            none.algorithm().err(),
            Some(AuthError::invalid(
                "unsigned tokens (`alg: none`) are not accepted"
            ))
        );
        let h = header(&t(
            r#"{"alg":"RS256","kid":"k1","jku":"https://evil.example/jwks"}"#,
        ))
        .expect("parses");
        assert_eq!(
            (h.algorithm().ok(), h.kid.as_deref()),
            (Some(Algorithm::RS256), Some("k1"))
        );
    }
}
