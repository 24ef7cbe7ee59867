//! What every handler of the endpoint shares: the header names, refusals before any JSON-RPC
//! processing, and the server an endpoint belongs to.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::server::Inner;
use crate::server::jsonrpc::{self, RpcError};

/// The session header.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The protocol version header.
pub const VERSION_HEADER: &str = "mcp-protocol-version";

// The same names, parsed once: looking a header up by `&str` parses (and, for a non-standard
// name, allocates) the name on every request.
pub(crate) static SESSION_NAME: HeaderName = HeaderName::from_static(SESSION_HEADER);
pub(crate) static VERSION_NAME: HeaderName = HeaderName::from_static(VERSION_HEADER);
pub(crate) static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A refusal before any JSON-RPC processing: an HTTP status plus a JSON-RPC error body.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) error: Box<RpcError>,
}

impl From<Refusal> for HttpResponse {
    fn from(r: Refusal) -> Self {
        let mut resp = HttpResponse::build(r.status)
            .content_type(APPLICATION_JSON.clone())
            .body(jsonrpc::error_body(&Value::Null, &r.error));
        if r.status == StatusCode::METHOD_NOT_ALLOWED {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
        }
        resp
    }
}

pub(crate) fn refusal(status: StatusCode, code: i32, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        error: Box::new(RpcError::new(code, message)),
    }
}

pub(crate) fn refuse(status: StatusCode, code: i32, message: impl Into<String>) -> HttpResponse {
    refusal(status, code, message).into()
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The server this endpoint belongs to, borrowed from the app data: a `web::Data` parameter
/// would clone its `Arc`, whose count every worker thread shares, on every request.
pub(crate) fn server(req: &HttpRequest) -> Option<&Inner> {
    req.app_data::<web::Data<Inner>>()
        .map(|data| data.get_ref())
}

/// The endpoint was mounted without its server (not through `McpServer::configure`).
pub(crate) fn not_mounted() -> HttpResponse {
    tracing::error!(target: "mcp_runtime::server", "the MCP endpoint is mounted without its server");
    HttpResponse::InternalServerError().finish()
}

/// Keep-alive period for GET streams.
pub(crate) const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);
