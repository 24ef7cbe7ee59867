//! W3C Trace Context (`traceparent`, `tracestate`): how a request names the trace and the span
//! it continues, in an HTTP header or (MCP's SEP-414) in `params._meta`. Parsed strictly, as a
//! value a client controls: a malformed one is ignored, never half-used.

/// A `traceparent` value: the trace, the caller's span in it, and the trace flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceParent {
    pub(crate) trace_id: [u8; 16],
    pub(crate) parent_id: [u8; 8],
    pub(crate) flags: u8,
}

impl TraceParent {
    /// Parses `00-<32 hex>-<16 hex>-<2 hex>` (lowercase; neither id all zeros). A later
    /// version is read by its first four fields, as the specification asks; `ff` is invalid.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let bytes = value.as_bytes();
        if bytes.len() < 55 {
            return None;
        }
        let version = hex::<1>(&value[0..2])?[0];
        if version == 0xff || (version == 0 && bytes.len() != 55) {
            return None;
        }
        if version != 0 && bytes.len() > 55 && bytes[55] != b'-' {
            return None;
        }
        if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        let trace_id = hex::<16>(&value[3..35])?;
        let parent_id = hex::<8>(&value[36..52])?;
        let flags = hex::<1>(&value[53..55])?[0];
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            parent_id,
            flags,
        })
    }

    /// The header value (version 00).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn to_header(self) -> String {
        let mut out = String::with_capacity(55);
        out.push_str("00-");
        push_hex(&mut out, &self.trace_id);
        out.push('-');
        push_hex(&mut out, &self.parent_id);
        out.push('-');
        push_hex(&mut out, &[self.flags]);
        out
    }
}

/// `N` bytes from exactly `2N` lowercase hex digits.
fn hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = digit(s[2 * i])? << 4 | digit(s[2 * i + 1])?;
    }
    Some(out)
}

#[cfg_attr(not(feature = "oauth"), allow(dead_code))]
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
}

/// The OpenTelemetry side: a span's parent from a `traceparent`, and the `traceparent` of a
/// span for an outgoing request.
pub(crate) mod otel {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    use super::TraceParent;

    /// Makes the caller's span (`traceparent`, with its `tracestate`) the parent of `span`,
    /// which must not have been entered yet. A malformed value changes nothing.
    pub(crate) fn adopt(span: &tracing::Span, traceparent: &str, tracestate: Option<&str>) {
        if span.is_disabled() {
            return;
        }
        let Some(parent) = TraceParent::parse(traceparent) else {
            return;
        };
        let state = tracestate
            .and_then(|s| s.parse::<TraceState>().ok())
            .unwrap_or_default();
        let context = SpanContext::new(
            TraceId::from_bytes(parent.trace_id),
            SpanId::from_bytes(parent.parent_id),
            TraceFlags::new(parent.flags),
            true,
            state,
        );
        let cx = opentelemetry::Context::new().with_remote_span_context(context);
        // Without an OpenTelemetry layer in the subscriber there is nothing to link.
        let _ = span.set_parent(cx);
    }

    /// Renames `span`'s OpenTelemetry span once it has started (`tracing-opentelemetry` reads
    /// `otel.name` only before), e.g. `tools/call get-weather` once the call is parsed.
    pub(crate) fn rename(span: &tracing::Span, name: String) {
        if span.is_disabled() {
            return;
        }
        span.context().span().update_name(name);
    }

    /// The `traceparent` (and `tracestate`) naming `span`, for an outgoing request; `None`
    /// when no OpenTelemetry layer records it.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn traceparent_of(span: &tracing::Span) -> Option<(String, Option<String>)> {
        if span.is_disabled() {
            return None;
        }
        let cx = span.context();
        let sc = cx.span().span_context().clone();
        if !sc.is_valid() {
            return None;
        }
        let header = TraceParent {
            trace_id: sc.trace_id().to_bytes(),
            parent_id: sc.span_id().to_bytes(),
            flags: sc.trace_flags().to_u8(),
        }
        .to_header();
        let state = sc.trace_state().header();
        Some((header, (!state.is_empty()).then_some(state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_parsed_strictly_and_written_back() {
        let v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let p = TraceParent::parse(v).expect("valid");
        assert_eq!(p.flags, 1);
        assert_eq!(p.to_header(), v);
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47é6-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
        // A later version is read by its first four fields.
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future";
        assert_eq!(TraceParent::parse(later).map(|p| p.flags), Some(1));
    }
}
