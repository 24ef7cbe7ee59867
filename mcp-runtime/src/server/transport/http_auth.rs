//! The OAuth side of the endpoint (feature `oauth`): authentication, the 401/403 challenges
//! and the discovery documents.

use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::common::{not_mounted, server};
use crate::auth::config::AuthState;
use crate::auth::{Auth, AuthError, http};
use crate::server::Inner;
use crate::server::jsonrpc::{self, RpcError, code};

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
        .authenticate_request(
            req.headers(),
            req.query_string(),
            state.resource(),
            req.method().as_str(),
            state.resource(),
        )
        .await
    {
        Ok(auth) => Ok(Some(auth)),
        // No credentials at all, on a server with public items: admitted as anonymous; each
        // item that is not public answers the 401 challenge itself. A token that fails is
        // refused as ever (never downgraded to anonymous).
        Err(AuthError::MissingToken) if inner.catalog.load().has_public() => Ok(None),
        Err(e) => {
            tracing::debug!(target: "mcp_runtime::auth", status = e.status(), "refused: {e}");
            super::observe::note_refusal(
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

/// The metadata URL to name in this request's challenges.
fn metadata_url(req: &HttpRequest, inner: &Inner, state: &AuthState) -> String {
    http::metadata_url(req, state.resource(), inner.public_url.is_some())
}

/// 401 (or 400/503) with `WWW-Authenticate` and a JSON-RPC error body.
fn auth_refusal(
    req: &HttpRequest,
    inner: &Inner,
    state: &AuthState,
    e: &AuthError,
) -> HttpResponse {
    let body = jsonrpc::error_body(
        &Value::Null,
        &RpcError::new(code::INVALID_REQUEST, e.to_string()),
    );
    http::refusal(
        e,
        &state.baseline_scopes,
        &metadata_url(req, inner, state),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// 403 `insufficient_scope`: the client may step up by asking for `scopes`; or, for a caller
/// that sent no token (admitted because the server has public items), 401 with the challenge
/// to sign in for them (and the scopes needed to connect).
pub(crate) fn forbidden(
    req: &HttpRequest,
    inner: &Inner,
    id: &Value,
    scopes: &[String],
    message: &str,
    anonymous: bool,
) -> HttpResponse {
    if anonymous && let Some(state) = &inner.auth {
        super::observe::note_refusal(inner, "missing_token");
        let mut wanted: Vec<String> = state.baseline_scopes.clone();
        for s in scopes {
            if !wanted.contains(s) {
                wanted.push(s.clone());
            }
        }
        let body = jsonrpc::error_body(id, &RpcError::new(code::INVALID_REQUEST, message));
        return http::refusal(
            &AuthError::MissingToken,
            &wanted,
            &metadata_url(req, inner, state),
            String::from_utf8_lossy(&body).into_owned(),
        );
    }
    super::observe::note_refusal(inner, "insufficient_scope");
    let body = jsonrpc::error_body(id, &RpcError::new(code::INVALID_REQUEST, message));
    let metadata = inner
        .auth
        .as_ref()
        .map(|state| metadata_url(req, inner, state));
    http::insufficient_scope(
        scopes,
        message,
        metadata.as_deref(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// `GET /.well-known/oauth-protected-resource[/mcp]` (RFC 9728), readable by browser clients.
pub(crate) async fn resource_metadata(req: HttpRequest) -> HttpResponse {
    let Some(state) = server(&req).and_then(|i| i.auth.clone()) else {
        return not_mounted();
    };
    http::document(serde_json::to_vec(&state.metadata()).unwrap_or_default())
}

/// The provider's authorization server metadata, when configured.
pub(crate) async fn authorization_server_metadata(req: HttpRequest) -> HttpResponse {
    let Some(body) = server(&req)
        .and_then(|i| i.auth.as_ref())
        .and_then(|a| a.as_metadata.clone())
    else {
        return not_mounted();
    };
    http::document(body)
}

/// CORS preflight for the discovery documents.
pub(crate) async fn preflight() -> HttpResponse {
    http::cors(HttpResponse::NoContent().finish())
}
