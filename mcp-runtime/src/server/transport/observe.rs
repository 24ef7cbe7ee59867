//! The endpoint's observability hooks: the `mcp.request` span's fields and the metrics'
//! method and refusal counts (feature `metrics`).

use actix_web::HttpRequest;

use crate::server::Inner;
pub(crate) use crate::server::protocol::trace::in_span;

/// Notes the request's JSON-RPC method: the span's `mcp.method.name` and name, and the
/// metrics' label (feature `metrics`).
#[inline]
pub(crate) fn note_method(req: &HttpRequest, inner: &Inner, method: &str) {
    if crate::server::protocol::trace::enabled() {
        let span = tracing::Span::current();
        span.record("mcp.method.name", method);
        span.record("otel.name", method);
    }
    #[cfg(feature = "metrics")]
    if inner.metrics.is_some() {
        use actix_web::HttpMessage as _;
        req.extensions_mut()
            .insert(crate::metrics::MethodLabel(crate::metrics::method_label(
                method,
            )));
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (req, inner, method);
}

/// The `mcp.request` span of a request to the endpoint (target `mcp_runtime::request`, level
/// DEBUG as tower-http's request spans), with the attributes of OpenTelemetry's semantic
/// conventions for MCP servers: `otel.name` (`{mcp.method.name} {target}`, the span's name
/// for `tracing-opentelemetry`), `otel.kind` (`server`), `mcp.method.name`,
/// `mcp.session.id`, `mcp.protocol.version`, `jsonrpc.request.id`, `gen_ai.tool.name` and
/// `gen_ai.operation.name` (tools), `gen_ai.prompt.name`, `mcp.resource.uri`, `error.type`,
/// `http.request.method`, `http.response.status_code`, and `enduser.id` (the caller's `sub`,
/// personal data: only with `trace_subject`); never a token. A disabled span when no
/// subscriber wants it: `tracing-subscriber`'s fmt layer formats every span's fields, which
/// would cost about 40 % more instructions per request under a plain `RUST_LOG=info`.
pub(crate) fn request_span(req: &HttpRequest) -> tracing::Span {
    use tracing::field::Empty;
    tracing::debug_span!(
        target: "mcp_runtime::request",
        "mcp.request",
        otel.name = Empty,
        otel.kind = "server",
        otel.status_code = Empty,
        mcp.method.name = Empty,
        mcp.session.id = Empty,
        mcp.protocol.version = Empty,
        jsonrpc.request.id = Empty,
        gen_ai.tool.name = Empty,
        gen_ai.operation.name = Empty,
        gen_ai.prompt.name = Empty,
        mcp.resource.uri = Empty,
        error.type = Empty,
        http.request.method = req.method().as_str(),
        http.response.status_code = Empty,
        network.protocol.name = "http",
        enduser.id = Empty,
    )
}

/// Notes the JSON-RPC request id on the span (`jsonrpc.request.id`).
#[inline]
pub(crate) fn note_id(id: &serde_json::Value) {
    if crate::server::protocol::trace::enabled() {
        let span = tracing::Span::current();
        match id {
            serde_json::Value::String(s) => span.record("jsonrpc.request.id", s.as_str()),
            other => span.record("jsonrpc.request.id", other.to_string()),
        };
    }
}

/// Notes the session and the protocol version on the span.
#[inline]
pub(crate) fn note_session(session: Option<&str>, version: &str) {
    if crate::server::protocol::trace::enabled() {
        let span = tracing::Span::current();
        if let Some(id) = session {
            span.record("mcp.session.id", id);
        }
        span.record("mcp.protocol.version", version);
    }
}

/// Notes the response's status on the span; a 4xx or 5xx is its `error.type` (a tool's
/// failure, answered with 200, names its own).
#[inline]
pub(crate) fn note_status(span: &tracing::Span, status: u16) {
    if span.is_disabled() {
        return;
    }
    span.record("http.response.status_code", status);
    if status >= 400 {
        span.record("error.type", status.to_string());
        span.record("otel.status_code", "ERROR");
    }
}

/// Counts a refusal before dispatch (feature `metrics`).
#[inline]
pub(crate) fn note_refusal(inner: &Inner, reason: &'static str) {
    #[cfg(feature = "metrics")]
    if let Some(m) = &inner.metrics {
        m.refusal(reason);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (inner, reason);
}

#[cfg(feature = "metrics")]
use crate::metrics::MethodLabel;

#[cfg(feature = "metrics")]
/// `GET /metrics` on the endpoint's listener: the Origin check of the endpoint, then the
/// exposition.
pub(crate) async fn metrics_endpoint(
    req: HttpRequest,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> actix_web::HttpResponse {
    if let Some(inner) = super::common::server(&req)
        && let Err(refused) = super::origin::check_origin(&req, inner)
    {
        return refused.into();
    }
    exposition(&metrics)
}

#[cfg(feature = "metrics")]
/// `GET /metrics` on the metrics listener (`metrics_listener`, `MCP_METRICS_ADDR`): no `Host`
/// or `Origin` check, as a scraper reaches a pod by its address; nothing else is served there.
pub(crate) fn metrics_app(
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> impl FnOnce(&mut actix_web::web::ServiceConfig) + Clone {
    move |cfg| {
        cfg.route(
            "/metrics",
            actix_web::web::get().to(move || {
                let metrics = metrics.clone();
                async move { exposition(&metrics) }
            }),
        );
    }
}

#[cfg(feature = "metrics")]
fn exposition(metrics: &crate::metrics::Metrics) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::HeaderValue::from_static(
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
        ))
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            actix_web::http::header::HeaderValue::from_static("no-store"),
        ))
        .body(metrics.render())
}

#[cfg(feature = "metrics")]
/// Counts a response of the MCP endpoint: by the JSON-RPC method the handler noted (else the
/// HTTP method) and the status.
pub(crate) fn count_response<B>(res: &actix_web::dev::ServiceResponse<B>) {
    let req = res.request();
    let Some(metrics) = super::common::server(req).and_then(|i| i.metrics.as_ref()) else {
        return;
    };
    let label = {
        use actix_web::HttpMessage as _;
        req.extensions().get::<MethodLabel>().copied()
    };
    let method = match label {
        Some(MethodLabel(m)) => m,
        None => match *req.method() {
            actix_web::http::Method::GET => "GET",
            actix_web::http::Method::DELETE => "DELETE",
            actix_web::http::Method::POST => "POST",
            actix_web::http::Method::OPTIONS => "OPTIONS",
            _ => "other",
        },
    };
    let status = res.status().as_u16();
    metrics.request(method, status);
    let started = {
        use actix_web::HttpMessage as _;
        req.extensions().get::<Started>().copied()
    };
    if let Some(Started(at)) = started {
        metrics.operation(method, error_type(status), at.elapsed());
    }
}

/// When a request reached the endpoint, for `mcp_server_operation_duration_seconds`.
#[cfg(feature = "metrics")]
#[derive(Clone, Copy)]
pub(crate) struct Started(pub(crate) std::time::Instant);

/// A status as the `error_type` label: the 4xx and 5xx statuses, else empty.
#[cfg(feature = "metrics")]
fn error_type(status: u16) -> &'static str {
    const NAMED: [(u16, &str); 11] = [
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (406, "406"),
        (413, "413"),
        (415, "415"),
        (429, "429"),
        (500, "500"),
        (503, "503"),
    ];
    match NAMED.iter().find(|(s, _)| *s == status) {
        Some((_, name)) => name,
        None if (400..500).contains(&status) => "4xx",
        None if status >= 500 => "5xx",
        None => "",
    }
}
