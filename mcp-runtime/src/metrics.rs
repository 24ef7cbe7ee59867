//! Prometheus metrics (feature `metrics`): requests, refusals, tool calls, token verification
//! and JWKS fetches, served in the OpenMetrics text format that Prometheus scrapes.
//!
//! Each server has a registry of its own (two servers in one app count apart); verification
//! and JWKS fetches happen below any one server, so they are process-wide counters that every
//! server's registry includes.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// OpenTelemetry's `mcp.server.operation.duration` attributes, as Prometheus labels: the
/// JSON-RPC method (else the HTTP method) and the error type (a 4xx or 5xx status, else
/// empty).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    mcp_method_name: &'static str,
    error_type: &'static str,
}

/// Session lengths: from a second to about a day and a half.
fn session_lengths() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 18))
}

/// `method` and `status` of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    status: u16,
}
type Labels1 = [(&'static str, &'static str); 1];
type ToolLabels = [(&'static str, &'static str); 2];

/// Latency buckets from 100 µs to about 13 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

/// Process-wide metrics: token verification and JWKS fetches.
struct Process {
    verifications: Family<ToolLabels, Counter>,
    /// The two series of `verifications` a verification counts in, looked up once (a
    /// counter's clone is the same counter).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    valid: Counter,
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    refused: Counter,
    verify_seconds: Histogram,
    jwks_fetches: Family<Labels1, Counter>,
}

fn process() -> &'static Process {
    static PROCESS: OnceLock<Process> = OnceLock::new();
    PROCESS.get_or_init(|| {
        let verifications: Family<ToolLabels, Counter> = Family::default();
        let series = |result: &'static str| {
            verifications
                .get_or_create(&[("result", result), ("cache", "miss")])
                .clone()
        };
        let (valid, refused) = (series("valid"), series("refused"));
        Process {
            verifications,
            valid,
            refused,
            verify_seconds: Histogram::new(exponential_buckets(0.000_01, 2.0, 16)),
            jwks_fetches: Family::default(),
        }
    })
}

/// A token verification that was not answered from the verified-token cache.
#[cfg(feature = "oauth")]
pub(crate) fn verification(ok: bool, took: Duration) {
    let p = process();
    p.verify_seconds.observe(took.as_secs_f64());
    if ok { &p.valid } else { &p.refused }.inc();
}

/// A JWKS fetch, successful or not.
#[cfg(feature = "oauth")]
pub(crate) fn jwks_fetch(ok: bool) {
    process()
        .jwks_fetches
        .get_or_create(&[("result", if ok { "ok" } else { "error" })])
        .inc();
}

/// One server's metrics.
pub(crate) struct Metrics {
    families: MetricsCollector,
    /// A registry holding only `families`, for the `/metrics` endpoint.
    registry: Registry,
}

/// A server's metrics as a Prometheus collector, for a registry of your own (feature
/// `metrics`): [`McpServer::metrics_collector`](crate::McpServer::metrics_collector) hands one
/// out, and
/// [`Registry::register_collector`](prometheus_client::registry::Registry::register_collector)
/// takes it. Each scrape reads the live counters; the names are those of the `/metrics`
/// endpoint (`mcp_requests_total`, …), under your registry's prefix if it has one.
#[derive(Clone)]
pub struct MetricsCollector {
    operation_seconds: Family<OperationLabels, Histogram, fn() -> Histogram>,
    session_seconds: Family<Labels1, Histogram, fn() -> Histogram>,
    requests: Family<RequestLabels, Counter>,
    refusals: Family<Labels1, Counter>,
    tool_calls: Family<ToolLabels, Counter>,
    tool_seconds: Family<Labels1, Histogram, fn() -> Histogram>,
}

impl std::fmt::Debug for MetricsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsCollector").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Collector for MetricsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        fn one(
            encoder: &mut DescriptorEncoder,
            name: &str,
            help: &str,
            metric: &dyn EncodeMetric,
        ) -> Result<(), std::fmt::Error> {
            metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
        }
        let e = &mut encoder;
        one(
            e,
            "mcp_server_operation_duration_seconds",
            "Duration of MCP requests as the server saw them (OpenTelemetry's mcp.server.operation.duration), by JSON-RPC method and error type",
            &self.operation_seconds,
        )?;
        one(
            e,
            "mcp_server_session_duration_seconds",
            "Duration of MCP sessions, from initialize to their end (OpenTelemetry's mcp.server.session.duration), by protocol version",
            &self.session_seconds,
        )?;
        one(
            e,
            "mcp_requests",
            "Requests to the MCP endpoint, by JSON-RPC method (or HTTP method for GET and DELETE) and HTTP status",
            &self.requests,
        )?;
        one(
            e,
            "mcp_refusals",
            "Requests refused before dispatch, by reason",
            &self.refusals,
        )?;
        one(
            e,
            "mcp_tool_calls",
            "Finished tool calls, by tool and outcome (ok, error, invalid_arguments, cancelled, panicked, input_required)",
            &self.tool_calls,
        )?;
        one(
            e,
            "mcp_tool_duration_seconds",
            "Time from a tool call's start to its end, by tool",
            &self.tool_seconds,
        )?;
        let p = process();
        one(
            e,
            "mcp_token_verifications",
            "Bearer tokens verified without the verified-token cache, by result",
            &p.verifications,
        )?;
        one(
            e,
            "mcp_token_verification_seconds",
            "Time to verify a bearer token that was not in the verified-token cache",
            &p.verify_seconds,
        )?;
        one(
            e,
            "mcp_jwks_fetches",
            "Fetches of an issuer's JWKS, by result",
            &p.jwks_fetches,
        )
    }
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let families = MetricsCollector {
            operation_seconds: Family::new_with_constructor(latency),
            session_seconds: Family::new_with_constructor(session_lengths),
            requests: Family::default(),
            refusals: Family::default(),
            tool_calls: Family::default(),
            tool_seconds: Family::new_with_constructor(latency),
        };
        let mut registry = Registry::default();
        registry.register_collector(Box::new(families.clone()));
        Metrics { families, registry }
    }

    /// The collector for a registry of the user's.
    pub(crate) fn collector(&self) -> MetricsCollector {
        self.families.clone()
    }

    /// A request answered with `status`.
    pub(crate) fn request(&self, method: &'static str, status: u16) {
        self.families
            .requests
            .get_or_create(&RequestLabels { method, status })
            .inc();
    }

    /// A request answered after `took`; `error_type` is its 4xx/5xx status, or empty.
    pub(crate) fn operation(&self, method: &'static str, error_type: &'static str, took: Duration) {
        self.families
            .operation_seconds
            .get_or_create(&OperationLabels {
                mcp_method_name: method,
                error_type,
            })
            .observe(took.as_secs_f64());
    }

    /// A session ended (closed, expired or evicted) after `lasted`.
    pub(crate) fn session_ended(&self, version: &'static str, lasted: Duration) {
        self.families
            .session_seconds
            .get_or_create(&[("mcp_protocol_version", version)])
            .observe(lasted.as_secs_f64());
    }

    /// A request refused before dispatch.
    pub(crate) fn refusal(&self, reason: &'static str) {
        self.families
            .refusals
            .get_or_create(&[("reason", reason)])
            .inc();
    }

    /// A tool call that ended.
    pub(crate) fn tool_call(&self, tool: &'static str, outcome: &'static str, took: Duration) {
        self.families
            .tool_calls
            .get_or_create(&[("tool", tool), ("outcome", outcome)])
            .inc();
        self.families
            .tool_seconds
            .get_or_create(&[("tool", tool)])
            .observe(took.as_secs_f64());
    }

    /// The OpenMetrics text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The JSON-RPC method of a request, left in its extensions for the count of responses.
#[derive(Clone, Copy)]
pub(crate) struct MethodLabel(pub(crate) &'static str);

/// The label for a JSON-RPC method: the methods of the protocol, else `other` (a client
/// cannot grow the label set).
pub(crate) fn method_label(method: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/read",
        "resources/templates/list",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
    ];
    KNOWN
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_openmetrics_with_bounded_labels() {
        let m = Metrics::new();
        m.request(method_label("tools/call"), 200);
        m.request(method_label("x/made-up"), 200);
        m.refusal("invalid_token");
        m.tool_call("add", "ok", Duration::from_millis(3));
        let text = m.render();
        assert!(
            text.contains(r#"mcp_requests_total{method="tools/call",status="200"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"mcp_requests_total{method="other",status="200"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"mcp_refusals_total{reason="invalid_token"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"mcp_tool_calls_total{tool="add",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"mcp_tool_duration_seconds_count{tool="add"} 1"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
