//! The OAuth side of the endpoint (feature `oauth`): authentication, the 401/403 challenges
//! and the discovery documents.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::Inner;
use super::http::{header_str, not_mounted, refuse, server};
use super::jsonrpc::{self, RpcError, code};
use crate::auth::config::AuthState;
use crate::auth::metadata::{ResourceMetadata, split_origin};
use crate::auth::{Auth, AuthError, guard};

/// Authenticates a request on a server with OAuth; `Ok(None)` on a server without.
pub(crate) async fn authenticate(
    req: &HttpRequest,
    inner: &Inner,
) -> Result<Option<Auth>, HttpResponse> {
    let Some(state) = &inner.auth else {
        return Ok(None);
    };
    match state
        .gate
        .authenticate(req.headers(), req.query_string(), state.resource())
        .await
    {
        Ok(auth) => Ok(Some(auth)),
        Err(e) => {
            tracing::debug!(target: "mcp_runtime::auth", status = e.status(), "refused: {e}");
            super::http::note_refusal(
                inner,
                match e {
                    AuthError::MissingToken => "missing_token",
                    AuthError::InvalidToken(_) => "invalid_token",
                    AuthError::InvalidRequest(_) => "invalid_auth_request",
                    _ => "auth_unavailable",
                },
            );
            Err(auth_refusal(req, inner, state, &e))
        }
    }
}

/// The protected resource metadata URL: from the public URL when there is one; on a
/// loopback server without one, for the loopback name the client used (its `Host` was checked
/// against the loopback names before this runs).
fn metadata_url(req: &HttpRequest, inner: &Inner, state: &AuthState) -> String {
    let resource = state.resource();
    if inner.public_url.is_some() {
        return ResourceMetadata::well_known_url(resource);
    }
    let scheme = resource.split_once("://").map_or("http", |(s, _)| s);
    let host = header_str(req.headers(), &header::HOST)
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

/// 401 (or 400/503) with `WWW-Authenticate` and a JSON-RPC error body.
fn auth_refusal(
    req: &HttpRequest,
    inner: &Inner,
    state: &AuthState,
    e: &AuthError,
) -> HttpResponse {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut resp = refuse(status, code::INVALID_REQUEST, e.to_string());
    if let Some(v) =
        guard::refusal_challenge(e, &state.baseline_scopes, &metadata_url(req, inner, state))
    {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// 403 `insufficient_scope`: the client may step up by asking for `scopes`.
pub(crate) fn forbidden(
    req: &HttpRequest,
    inner: &Inner,
    id: &Value,
    scopes: &[String],
    message: &str,
) -> HttpResponse {
    super::http::note_refusal(inner, "insufficient_scope");
    let err = RpcError::new(code::INVALID_REQUEST, message);
    let mut resp = HttpResponse::Forbidden()
        .content_type("application/json")
        .body(jsonrpc::error_body(id, &err));
    if let Some(state) = &inner.auth {
        let challenge = guard::challenge(
            Some("insufficient_scope"),
            Some(message),
            scopes,
            &metadata_url(req, inner, state),
        );
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
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

/// `GET /.well-known/oauth-protected-resource[/mcp]` (RFC 9728), readable by browser clients.
pub(crate) async fn resource_metadata(req: HttpRequest) -> HttpResponse {
    let Some(state) = server(&req).and_then(|i| i.auth.as_ref()) else {
        return not_mounted();
    };
    let body = serde_json::to_vec(&state.metadata()).unwrap_or_default();
    cors(
        HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(body),
    )
}

/// The provider's authorization server metadata, when configured.
pub(crate) async fn authorization_server_metadata(req: HttpRequest) -> HttpResponse {
    let Some(body) = server(&req)
        .and_then(|i| i.auth.as_ref())
        .and_then(|a| a.as_metadata.clone())
    else {
        return not_mounted();
    };
    cors(
        HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(body),
    )
}

/// CORS preflight for the discovery documents.
pub(crate) async fn preflight() -> HttpResponse {
    cors(HttpResponse::NoContent().finish())
}
