//! OAuth error bodies (RFC 6749 §5.2) and the headers every answer carries.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde_json::json;

pub(super) fn no_store(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    b
}

pub(super) fn cors(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "authorization, content-type, mcp-protocol-version",
        ));
    b
}

pub(super) fn oauth_error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    no_store(HttpResponse::build(status))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .content_type("application/json")
        .body(json!({"error": code, "error_description": description}).to_string())
}

pub(super) fn token_error(code: &str, description: &str) -> HttpResponse {
    oauth_error(StatusCode::BAD_REQUEST, code, description)
}

/// 401 `invalid_client`, with a Basic challenge when Basic was tried (RFC 6749 §5.2).
pub(super) fn client_error(via_basic: bool, description: &str) -> HttpResponse {
    let mut resp = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    if via_basic {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    resp
}

pub(super) fn not_started() -> HttpResponse {
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the development authorization server learns its address when the server starts; \
         start it with serve()/start(), or set MCP_URL (or `public_url`) when you mount it yourself",
    )
}

/// A cookie's value from the request's `Cookie` headers.
pub(super) fn cookie(req: &actix_web::HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Adds a `Set-Cookie` header (one per cookie).
pub(super) fn set_cookie(resp: &mut HttpResponse, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `scheme://authority` of a URL.
pub(super) fn origin(url: &str) -> String {
    crate::auth::metadata::split_origin(url).0.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(origin("http://127.0.0.1:3000/mcp"), "http://127.0.0.1:3000");
        assert_eq!(origin("https://a.example"), "https://a.example");
    }
}
