//! The fields the protocol records on a request's `mcp.request` span (the transport opens
//! it: `server::transport::observe`), named by OpenTelemetry's semantic conventions for MCP:
//! the span's OpenTelemetry name is `{mcp.method.name} {target}` (`otel.name`, which
//! `tracing-opentelemetry` uses as the span name), e.g. `tools/call get-weather`.

/// Records a field of the request's `mcp.request` span. Asks the subscriber only when it
/// wants the span at all, so a filtered-out span costs a load and a compare.
#[inline]
pub(crate) fn in_span(field: &str, value: &str) {
    if enabled() {
        tracing::Span::current().record(field, value);
    }
}

/// Whether a subscriber wants the request spans.
#[inline]
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: "mcp_runtime::request", tracing::Level::DEBUG)
}

/// The call's target: the span is named `{method} {target}` from now on, and the target is
/// recorded under `field` (`gen_ai.tool.name`, `gen_ai.prompt.name`, `mcp.resource.uri`).
#[inline]
pub(crate) fn target(method: &str, field: &str, target: &str) {
    if enabled() {
        let span = tracing::Span::current();
        span.record(field, target);
        let name = format!("{method} {target}");
        span.record("otel.name", name.as_str());
        #[cfg(feature = "opentelemetry")]
        crate::model::trace_context::otel::rename(&span, name);
        if field == "gen_ai.tool.name" {
            span.record("gen_ai.operation.name", "execute_tool");
        }
    }
}

/// The request's failure (`error.type`: a JSON-RPC error code, `tool_error`, or an HTTP
/// status), and the span's OpenTelemetry status.
#[inline]
pub(crate) fn failed(error_type: &str) {
    if enabled() {
        let span = tracing::Span::current();
        span.record("error.type", error_type);
        span.record("otel.status_code", "ERROR");
    }
}
