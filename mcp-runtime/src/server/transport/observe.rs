//! The endpoint's observability hooks: the `mcp.request` span's fields and the metrics'
//! method and refusal counts (feature `metrics`).

use actix_web::HttpRequest;

use crate::server::Inner;
pub(crate) use crate::server::protocol::trace::in_span;

/// Notes the request's JSON-RPC method for the metrics (feature `metrics`).
#[inline]
pub(crate) fn note_method(req: &HttpRequest, inner: &Inner, method: &str) {
    in_span("method", method);
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
/// DEBUG as tower-http's request spans): the fields `http_method`, `method` (the JSON-RPC
/// method), `tool`, `subject` and `status`; never a token. A disabled span when no subscriber
/// wants it: `tracing-subscriber`'s fmt layer formats every span's fields, which would cost
/// about 40 % more instructions per request under a plain `RUST_LOG=info`.
pub(crate) fn request_span(req: &HttpRequest) -> tracing::Span {
    use tracing::field::Empty;
    tracing::debug_span!(
        target: "mcp_runtime::request",
        "mcp.request",
        http_method = req.method().as_str(),
        method = Empty,
        tool = Empty,
        subject = Empty,
        status = Empty,
    )
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
    metrics.request(method, res.status().as_u16());
}
