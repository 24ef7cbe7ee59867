//! The fields the protocol records on a request's `mcp.request` span (the transport opens
//! it: `server::transport::observe`).

/// Records a field of the request's `mcp.request` span. Asks the subscriber only when it
/// wants the span at all, so a filtered-out span costs a load and a compare.
#[inline]
pub(crate) fn in_span(field: &str, value: &str) {
    if tracing::enabled!(target: "mcp_runtime::request", tracing::Level::DEBUG) {
        tracing::Span::current().record(field, value);
    }
}
