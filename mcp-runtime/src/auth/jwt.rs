//! JWT plumbing: reading the JOSE header without trusting it, and the unverified payload
//! (for the explicitly dangerous verifier).

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use super::AuthError;

/// The header fields the verifier looks at. `jku`, `jwk`, `x5u` and `x5c` are deliberately not
/// read: keys come only from the configured issuer.
#[derive(Debug)]
pub(crate) struct JoseHeader<'a> {
    alg: Option<Cow<'a, str>>,
    pub(crate) kid: Option<Cow<'a, str>>,
}

/// The header read in place (no allocation; fails on a string with escapes). Named as the
/// header in serde's messages, which reach the client.
#[derive(Deserialize)]
#[serde(rename = "JoseHeader")]
struct InPlace<'a> {
    #[serde(borrow)]
    alg: Option<&'a str>,
    #[serde(borrow)]
    kid: Option<&'a str>,
    crit: Option<IgnoredAny>,
}

/// The header read into strings of its own (any valid JSON).
#[derive(Deserialize)]
#[serde(rename = "JoseHeader")]
struct Copied {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<IgnoredAny>,
}

impl JoseHeader<'_> {
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

    fn into_owned(self) -> JoseHeader<'static> {
        JoseHeader {
            alg: self.alg.map(|a| Cow::Owned(a.into_owned())),
            kid: self.kid.map(|k| Cow::Owned(k.into_owned())),
        }
    }
}

/// The JOSE header of a compact JWS. Refuses `crit` (no extension is understood here).
pub(crate) fn header(token: &str) -> Result<JoseHeader<'static>, AuthError> {
    let mut buf = [0u8; 256];
    header_of(super::jws::split(token)?.header, &mut buf).map(JoseHeader::into_owned)
}

/// The JOSE header from its base64url text (the first part of a compact JWS), decoded into
/// `buf` when it fits.
pub(crate) fn header_of<'b>(
    encoded: &str,
    buf: &'b mut [u8; 256],
) -> Result<JoseHeader<'b>, AuthError> {
    let bytes = super::jws::decode(encoded, buf)
        .map_err(|_| AuthError::invalid("the token header is not base64url"))?;
    match bytes {
        Cow::Borrowed(bytes) => parse(utf8(bytes)?),
        Cow::Owned(bytes) => parse(utf8(&bytes)?).map(JoseHeader::into_owned),
    }
}

// UTF-8 first: serde skips the fields it ignores without checking their text (RFC 7515 §4 and
// RFC 8259 §8.1: the header is UTF-8 JSON, all of it). Found by fuzz/jwt_claims.
fn utf8(bytes: &[u8]) -> Result<&str, AuthError> {
    std::str::from_utf8(bytes).map_err(|_| AuthError::invalid("the token header is not UTF-8 JSON"))
}

fn parse(text: &str) -> Result<JoseHeader<'_>, AuthError> {
    // An object (RFC 7515 §4): serde's derive would also read an array as the struct.
    if !text.trim_start().starts_with('{') {
        return Err(AuthError::invalid("the token header is not a JSON object"));
    }
    let crit_refused = || {
        AuthError::invalid("the token header has `crit` extensions this server does not understand")
    };
    if let Ok(h) = serde_json::from_str::<InPlace<'_>>(text) {
        if h.crit.is_some() {
            return Err(crit_refused());
        }
        return Ok(JoseHeader {
            alg: h.alg.map(Cow::Borrowed),
            kid: h.kid.map(Cow::Borrowed),
        });
    }
    // Escaped strings, or not a header at all: the copying parse decides, and explains.
    let h: Copied = serde_json::from_str(text)
        .map_err(|e| AuthError::invalid(format!("the token header is not a JSON object: {e}")))?;
    if h.crit.is_some() {
        return Err(crit_refused());
    }
    Ok(JoseHeader {
        alg: h.alg.map(Cow::Owned),
        kid: h.kid.map(Cow::Owned),
    })
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
        // An array with the right values in the right order is still not a header.
        assert_eq!(
            header(&t(r#"["RS256","k1",null]"#)).err(),
            Some(AuthError::invalid("the token header is not a JSON object"))
        );
        // serde's own message says what is wrong.
        let not_object = header(&t(r#"{"alg":1}"#))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            not_object.contains("the token header is not a JSON object")
                && not_object.contains("invalid type: integer `1`, expected a string"),
            "{not_object}"
        );
        // Escaped strings are read too (the copying parse), and duplicates refused there.
        let escaped = header(&t(r#"{"alg":"RS\u0032\u0035\u0036","kid":"a\/b"}"#)).expect("parses");
        assert_eq!(
            (escaped.algorithm().ok(), escaped.kid.as_deref()),
            (Some(Algorithm::RS256), Some("a/b"))
        );
        assert!(header(&t(r#"{"alg":"RS\u0032\u0035\u0036","alg":"HS256"}"#)).is_err());
        assert!(header(&t(r#"{"alg":"RS256","crit":["b64"],"kid":"\u006b"}"#)).is_err());
        let big = format!(
            r#"{{"alg":"ES256","kid":"k","x5c":["{}"]}}"#,
            "A".repeat(400)
        );
        assert_eq!(
            header(&t(&big)).expect("a large header").algorithm().ok(),
            Some(Algorithm::ES256)
        );
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
