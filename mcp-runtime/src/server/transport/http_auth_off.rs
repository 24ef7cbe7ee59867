//! Without the `oauth` feature no server authenticates: the endpoint's OAuth glue reduced to
//! what the handlers call.

use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use crate::auth::Auth;
use crate::server::Inner;
use crate::server::jsonrpc::{self, RpcError, code};

/// Without the `oauth` feature, no server authenticates.
#[cfg(not(feature = "oauth"))]
pub(crate) async fn authenticate(
    _req: &HttpRequest,
    _inner: &Inner,
) -> Result<Option<Auth>, HttpResponse> {
    Ok(None)
}

/// 403 `insufficient_scope` (only servers with OAuth have scope guards).
#[cfg(not(feature = "oauth"))]
pub(crate) fn forbidden(
    _req: &HttpRequest,
    _inner: &Inner,
    id: &Value,
    _scopes: &[String],
    message: &str,
    _anonymous: bool,
) -> HttpResponse {
    HttpResponse::Forbidden()
        .content_type("application/json")
        .body(jsonrpc::error_body(
            id,
            &RpcError::new(code::INVALID_REQUEST, message),
        ))
}
