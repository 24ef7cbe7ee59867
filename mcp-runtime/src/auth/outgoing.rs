//! The calls the server makes to identity providers (JWKS, discovery, userinfo, introspection,
//! upstream tokens), each in a client span named by OpenTelemetry's HTTP conventions (target
//! `mcp_runtime::request`, level DEBUG, as the request spans) and, with the `opentelemetry`
//! feature, carrying its `traceparent`, so a trace shows where a slow sign-in spent its time.
//! The span has the URL without its query (a query may carry a secret), never a header.

use tracing::Instrument as _;
use tracing::field::Empty;

/// Sends `request` in a client span; the status (and a failure's kind) is recorded on it.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
    let (client, request) = request.build_split();
    #[cfg_attr(not(feature = "opentelemetry"), allow(unused_mut))]
    let mut request = request?;
    let span = {
        let url = request.url();
        tracing::debug_span!(
            target: "mcp_runtime::request",
            "http.client",
            otel.name = request.method().as_str(),
            otel.kind = "client",
            otel.status_code = Empty,
            http.request.method = request.method().as_str(),
            server.address = url.host_str().unwrap_or(""),
            url.full = format_args!("{}://{}{}", url.scheme(), url.authority(), url.path()),
            http.response.status_code = Empty,
            error.type = Empty,
        )
    };
    #[cfg(feature = "opentelemetry")]
    if let Some((traceparent, tracestate)) =
        crate::model::trace_context::otel::traceparent_of(&span)
    {
        let headers = request.headers_mut();
        if let Ok(v) = reqwest::header::HeaderValue::from_str(&traceparent) {
            headers.insert("traceparent", v);
        }
        if let Some(v) = tracestate.and_then(|s| reqwest::header::HeaderValue::from_str(&s).ok()) {
            headers.insert("tracestate", v);
        }
    }
    let result = client.execute(request).instrument(span.clone()).await;
    if !span.is_disabled() {
        match &result {
            Ok(resp) => {
                let status = resp.status().as_u16();
                span.record("http.response.status_code", status);
                if status >= 400 {
                    span.record("error.type", status.to_string());
                    span.record("otel.status_code", "ERROR");
                }
            }
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connect"
                } else {
                    "request"
                };
                span.record("error.type", kind);
                span.record("otel.status_code", "ERROR");
            }
        }
    }
    result
}
