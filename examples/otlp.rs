//! An MCP server whose traces go to an OpenTelemetry collector over OTLP (HTTP, JSON).
//!
//! ```sh
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run --example otlp
//! ```
//!
//! Each request to the endpoint is a span named by OpenTelemetry's MCP conventions
//! (`tools/call add`, `initialize`, …) with `mcp.method.name`, `gen_ai.tool.name`,
//! `mcp.session.id`, `mcp.protocol.version`, `jsonrpc.request.id` and `error.type`. A client
//! that sends `traceparent` (as a header, or in `params._meta`) sees the server's span in its
//! own trace (the runtime's `opentelemetry` feature). The exporter reads the standard
//! variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`,
//! `OTEL_BSP_SCHEDULE_DELAY`, …); `RUST_LOG` filters the logs printed beside it.

use mcp_runtime::prelude::*;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Add two numbers.
#[mcp_tool(read_only)]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[mcp_server(name = "otlp-demo", version = "1.0.0", tools = [add])]
struct Demo;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // The exporter runs on a thread of its own (the batch processor), with a blocking client.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "otlp-demo".into());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    let tracer = provider.tracer("mcp-runtime");

    // Logs as usual (RUST_LOG, default info); every request span (target
    // mcp_runtime::request, DEBUG) and the client spans of the calls the server makes go to
    // the collector.
    let logs = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let traces = EnvFilter::new("info,mcp_runtime::request=debug");
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(logs))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(traces),
        )
        .init();

    let server = Demo::builder().build()?;
    let served = mcp_runtime::actix_web::rt::System::new().block_on(server.serve());
    // Spans still in the batch are sent before the process ends.
    provider.shutdown()?;
    Ok(served?)
}
