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
        #[cfg(feature = "opentelemetry")]
        crate::model::trace_context::otel::rename(&span, method.to_owned());
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

/// W3C trace context on the way in (feature `opentelemetry`): the request span's parent is the
/// caller's span, from the `traceparent` header or, without one, from
/// `params._meta.traceparent` (MCP's SEP-414). An OpenTelemetry span takes its parent and its
/// name when it starts (when it is first entered), so a `POST`'s span waits for the body: the
/// handler names it `{method} {target}`, gives it its parent, and only then enters it.
#[cfg(feature = "opentelemetry")]
mod propagation {
    use std::borrow::Cow;

    use actix_web::HttpMessage as _;
    use actix_web::HttpRequest;
    use actix_web::dev::ServiceRequest;

    use crate::model::trace_context::otel::adopt;

    /// A request span waiting for the body before it is entered; whether a header named its
    /// parent already.
    #[derive(Clone)]
    struct Deferred(tracing::Span, bool);

    /// Gives `span` its parent from the headers; true when the handler must enter it itself,
    /// after reading the body (a `POST`).
    pub(crate) fn adopt_headers(req: &ServiceRequest, span: &tracing::Span) -> bool {
        if span.is_disabled() {
            return false;
        }
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        span.record("otel.name", req.method().as_str());
        if let Some(traceparent) = header("traceparent") {
            // Entered at once: admission (and the JWKS fetch it may make) is in the trace,
            // and the span is renamed once the message is parsed.
            adopt(span, traceparent, header("tracestate"));
            return false;
        }
        if req.method() != actix_web::http::Method::POST {
            return false;
        }
        // The parent may be in the body: the span starts once it is read (admission runs
        // before it, outside the trace).
        req.extensions_mut().insert(Deferred(span.clone(), false));
        true
    }

    /// The span the wrap held back for this request, if it did.
    pub(crate) fn deferred_span(req: &HttpRequest) -> Option<(tracing::Span, bool)> {
        req.extensions_mut()
            .remove::<Deferred>()
            .map(|d| (d.0, d.1))
    }

    /// Names `span` from the message (`{method} {target}`) and, unless a header gave it one,
    /// gives it the parent `params._meta.traceparent` names. One borrowed parse, only when an
    /// OpenTelemetry layer records the span.
    pub(crate) fn name_and_parent(span: &tracing::Span, text: &str, has_parent: bool) {
        #[derive(serde::Deserialize)]
        struct Message<'a> {
            #[serde(borrow)]
            method: Option<Cow<'a, str>>,
            #[serde(borrow)]
            params: Option<Params<'a>>,
        }
        #[derive(serde::Deserialize)]
        struct Params<'a> {
            #[serde(borrow)]
            name: Option<Cow<'a, str>>,
            #[serde(borrow)]
            uri: Option<Cow<'a, str>>,
            #[serde(rename = "_meta", borrow)]
            meta: Option<Meta<'a>>,
        }
        #[derive(serde::Deserialize)]
        struct Meta<'a> {
            #[serde(borrow)]
            traceparent: Option<Cow<'a, str>>,
            #[serde(borrow)]
            tracestate: Option<Cow<'a, str>>,
        }
        // A batch (2025-03-26) or a malformed message keeps the HTTP method as its name.
        let Ok(message) = serde_json::from_str::<Message<'_>>(text) else {
            return;
        };
        let Some(method) = message.method.as_deref() else {
            return;
        };
        let target = message.params.as_ref().and_then(|p| match method {
            "tools/call" | "prompts/get" => p.name.as_deref(),
            "resources/read" | "resources/subscribe" | "resources/unsubscribe" => p.uri.as_deref(),
            _ => None,
        });
        match target {
            Some(target) => span.record("otel.name", format!("{method} {target}")),
            None => span.record("otel.name", method),
        };
        if !has_parent
            && let Some(meta) = message.params.as_ref().and_then(|p| p.meta.as_ref())
            && let Some(traceparent) = meta.traceparent.as_deref()
        {
            adopt(span, traceparent, meta.tracestate.as_deref());
        }
    }
}

#[cfg(feature = "opentelemetry")]
pub(crate) use propagation::{adopt_headers, deferred_span, name_and_parent};
