//! The HTTP answers of authentication, built in one place for the MCP endpoint, the user's
//! routes and the discovery documents: 401/400/503 with an RFC 6750 challenge, 403
//! `insufficient_scope` with the scopes to step up to (both naming the RFC 9728 metadata
//! URL, with quoted and escaped parameters), and CORS for documents browser clients read.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use super::metadata::{ResourceMetadata, split_origin};
use super::{AuthError, guard};

/// The protected-resource metadata URL to name in a challenge: from the public URL when the
/// server has one; otherwise for the host the client used (a loopback name, checked before
/// this runs) and the path it asked for.
pub(crate) fn metadata_url(req: &HttpRequest, resource: &str, public: bool) -> String {
    if public {
        return ResourceMetadata::well_known_url(resource);
    }
    let scheme = resource.split_once("://").map_or("http", |(s, _)| s);
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            split_origin(resource)
                .0
                .split_once("://")
                .map_or("", |(_, h)| h)
                .to_owned()
        });
    format!(
        "{scheme}://{host}/.well-known/oauth-protected-resource{}",
        req.path()
    )
}

/// A refused authentication (401, or 400/503): the status the error knows, its challenge
/// (naming `baseline`, the scopes needed to connect), and `body` (JSON).
pub(crate) fn refusal(
    e: &AuthError,
    baseline: &[String],
    metadata_url: &str,
    body: String,
) -> HttpResponse {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut resp = HttpResponse::build(status)
        .content_type("application/json")
        .body(body);
    if let Some(v) = guard::refusal_challenge(e, baseline, metadata_url) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if let AuthError::UseDpopNonce(nonce) = e
        && let Ok(v) = header::HeaderValue::from_str(nonce)
    {
        resp.headers_mut()
            .insert(header::HeaderName::from_static("dpop-nonce"), v);
    }
    resp
}

/// 403 `insufficient_scope`: the client may sign in again asking for `scopes` (MCP step-up).
pub(crate) fn insufficient_scope(
    scopes: &[String],
    message: &str,
    metadata_url: Option<&str>,
    body: String,
) -> HttpResponse {
    let mut resp = HttpResponse::Forbidden()
        .content_type("application/json")
        .body(body);
    let challenge = guard::challenge(
        Some("insufficient_scope"),
        Some(message),
        scopes,
        metadata_url,
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// The OAuth error body of a user route's refusal: `{error, error_description}`.
pub(crate) fn oauth_error_body(code: &str, description: &str) -> String {
    serde_json::json!({"error": code, "error_description": description}).to_string()
}

/// CORS for the discovery documents: readable from any origin.
pub(crate) fn cors(mut resp: HttpResponse) -> HttpResponse {
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("mcp-protocol-version"),
    );
    resp
}

/// A discovery document (JSON), cacheable for an hour, readable from any origin.
pub(crate) fn document(body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    cors(
        HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(body),
    )
}
