//! Request parameters, redirects and the small primitives every endpoint uses.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::pages::{PLAIN, error_page};
use super::responses::no_store;

/// Query or form parameters; a parameter given twice is refused (RFC 6749 §3.1).
pub(super) fn parse_params(raw: &[u8]) -> Result<HashMap<String, String>, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw)
        .map_err(|e| format!("the parameters are not URL-encoded: {e}"))?;
    let mut out = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        if out.contains_key(&k) {
            return Err(format!("parameter `{k}` is given more than once"));
        }
        out.insert(k, v);
    }
    Ok(out)
}

pub(super) fn pct_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
        .ok()
        .and_then(|mut v| v.pop())
        .map_or_else(|| s.to_owned(), |(_, v)| v)
}

pub(super) fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

pub(super) fn sha256(s: impl AsRef<[u8]>) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_ref());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// `n` random bytes, base64url.
pub(super) fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS random source does not fail on supported platforms; if it ever did, a zeroed
    // buffer must not become a guessable secret, so fall back to aws-lc's generator.
    if getrandom::fill(&mut buf).is_err() {
        let _ = aws_lc_rs::rand::fill(&mut buf);
    }
    URL_SAFE_NO_PAD.encode(buf)
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A redirect to the client with `params`, `state` and `iss` (RFC 9207).
pub(super) fn redirect_with(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> HttpResponse {
    let Ok(mut url) = reqwest::Url::parse(redirect_uri) else {
        return error_page(
            &PLAIN,
            StatusCode::BAD_REQUEST,
            "the redirect URI is invalid",
        );
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
        q.append_pair("iss", issuer);
    }
    no_store(HttpResponse::Found())
        .insert_header((header::LOCATION, url.as_str()))
        .finish()
}

/// Whether the request's `Content-Type` is `media_type` (parameters such as `charset` aside).
pub(super) fn has_media_type(req: &actix_web::HttpRequest, media_type: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(media_type))
}

/// The store key of a bearer credential: its hash.
pub(super) fn hashed(credential: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(credential))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_parameters_are_refused() {
        assert!(parse_params(b"a=1&b=2").is_ok());
        let e = parse_params(b"code=1&code=2").expect_err("duplicate");
        assert_eq!(e, "parameter `code` is given more than once");
    }
}
