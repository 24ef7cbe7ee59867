//! OpenTelemetry: the `otlp` example exports each request as a span named by the MCP
//! conventions to an OTLP/HTTP (JSON) receiver, continuing the trace a client names in
//! `traceparent` (a header, or `params._meta`); a malformed `traceparent` starts a new trace.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::common::*;
use crate::examples::start_example;

/// An OTLP/HTTP receiver: keeps every span posted to `/v1/traces`.
struct Collector {
    spans: Arc<Mutex<Vec<Value>>>,
    url: String,
    _server: actix_web::dev::ServerHandle,
}

impl Collector {
    fn start() -> Self {
        let spans: Arc<Mutex<Vec<Value>>> = Arc::default();
        let kept = spans.clone();
        let server = HttpServer::new(move || {
            let kept = kept.clone();
            App::new().route(
                "/v1/traces",
                web::post().to(move |body: web::Bytes| {
                    let kept = kept.clone();
                    async move {
                        let export: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let mut all = kept.lock().expect("lock");
                        for rs in export["resourceSpans"].as_array().into_iter().flatten() {
                            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                                all.extend(ss["spans"].as_array().into_iter().flatten().cloned());
                            }
                        }
                        HttpResponse::Ok().json(json!({}))
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .expect("bind");
        let url = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Collector {
            spans,
            url,
            _server: handle,
        }
    }

    /// Waits for a span named `name` whose `traceId` is `trace` (any, with `None`).
    async fn span(&self, name: &str, trace: Option<&str>) -> Value {
        for _ in 0..100 {
            if let Some(s) = self.spans.lock().expect("lock").iter().find(|s| {
                s["name"] == name && trace.is_none_or(|t| s["traceId"].as_str() == Some(t))
            }) {
                return s.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no span `{name}` (trace {trace:?}) reached the collector: {:#?}",
            self.spans.lock().expect("lock")
        );
    }
}

/// A span's attribute as a string (OTLP/JSON wraps values by type).
fn attribute(span: &Value, key: &str) -> Option<String> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| {
            let v = &a["value"];
            v["stringValue"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| v["intValue"].as_str().map(str::to_owned))
                .or_else(|| v["intValue"].as_i64().map(|i| i.to_string()))
                .unwrap_or_else(|| v.to_string())
        })
}

async fn post(url: &str, headers: &[(&str, &str)], body: Value) -> reqwest::Response {
    let mut rb = http()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.body(body.to_string()).send().await.expect("post")
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";
const META_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const META_PARENT: &str = "b7ad6b7169203331";

#[tokio::test]
async fn the_otlp_example_exports_mcp_spans_in_the_caller_s_trace() {
    let collector = Collector::start();
    let (_server, url) = start_example(
        "otlp",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_SERVICE_NAME", "otlp-test"),
        ],
    );
    let traceparent = format!("00-{TRACE}-{PARENT}-01");
    let r = post(
        &url,
        &[("traceparent", traceparent.as_str())],
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "it", "version": "1"}}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let session = r.headers()["mcp-session-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let r = post(
        &url,
        &[
            ("traceparent", traceparent.as_str()),
            ("mcp-session-id", session.as_str()),
        ],
        json!({"jsonrpc": "2.0", "id": "call-1", "method": "tools/call",
               "params": {"name": "add", "arguments": {"a": 2, "b": 40}}}),
    )
    .await;
    assert_eq!(r.status(), 200);

    // The header's trace, with the server's span as the child of the caller's.
    let call = collector.span("tools/call add", Some(TRACE)).await;
    assert_eq!(call["parentSpanId"], PARENT, "{call:#}");
    assert_eq!(call["kind"], 2, "SPAN_KIND_SERVER: {call:#}");
    assert_eq!(
        attribute(&call, "mcp.method.name").as_deref(),
        Some("tools/call")
    );
    assert_eq!(attribute(&call, "gen_ai.tool.name").as_deref(), Some("add"));
    assert_eq!(
        attribute(&call, "gen_ai.operation.name").as_deref(),
        Some("execute_tool")
    );
    assert_eq!(
        attribute(&call, "jsonrpc.request.id").as_deref(),
        Some("call-1")
    );
    assert_eq!(
        attribute(&call, "mcp.session.id").as_deref(),
        Some(session.as_str())
    );
    assert_eq!(
        attribute(&call, "mcp.protocol.version").as_deref(),
        Some("2025-11-25")
    );
    assert_eq!(
        attribute(&call, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(attribute(&call, "enduser.id"), None);
    let init = collector.span("initialize", Some(TRACE)).await;
    assert_eq!(init["parentSpanId"], PARENT);

    // No header: the trace named in params._meta (SEP-414).
    let r = post(
        &url,
        &[("mcp-session-id", session.as_str())],
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "add", "arguments": {"a": 1, "b": 1},
                          "_meta": {"traceparent": format!("00-{META_TRACE}-{META_PARENT}-01")}}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let call = collector.span("tools/call add", Some(META_TRACE)).await;
    assert_eq!(call["parentSpanId"], META_PARENT, "{call:#}");

    // A forged or malformed traceparent is ignored: a trace of the server's own.
    let r = post(
        &url,
        &[
            (
                "traceparent",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ),
            ("mcp-session-id", session.as_str()),
        ],
        json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let ping = collector.span("ping", None).await;
    assert_ne!(ping["traceId"], "00000000000000000000000000000000");
    assert!(
        ping["parentSpanId"].as_str().is_none_or(str::is_empty),
        "no parent: {ping:#}"
    );
}

/// Spans exported in process.
#[derive(Debug, Clone, Default)]
struct Kept(Arc<Mutex<Vec<opentelemetry_sdk::trace::SpanData>>>);

impl opentelemetry_sdk::trace::SpanExporter for Kept {
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.lock().expect("lock").extend(batch);
        Ok(())
    }
}

/// The calls the server makes continue the request's trace: the JWKS fetch a token's
/// verification needs is a client span under the request's span, and the identity provider
/// receives its `traceparent`.
#[tokio::test]
async fn the_jwks_fetch_is_a_client_span_that_carries_the_trace_to_the_provider() {
    use mcp_runtime::auth::OAuth;
    use mcp_runtime::auth::jwks::JwksCache;
    use mcp_runtime::auth::verifier::JwtVerifier;
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    let kept = Kept::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(kept.clone())
        .build();
    tracing::subscriber::set_global_default(
        tracing_subscriber::Registry::default()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("it"))),
    )
    .expect("the only subscriber in this test process");

    // The identity provider: its key set, and the traceparent of each fetch.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorded = seen.clone();
    let idp = HttpServer::new(move || {
        let recorded = recorded.clone();
        App::new().route(
            "/jwks.json",
            web::get().to(move |req: actix_web::HttpRequest| {
                let recorded = recorded.clone();
                async move {
                    if let Some(v) = req.headers().get("traceparent") {
                        recorded
                            .lock()
                            .expect("lock")
                            .push(v.to_str().unwrap_or_default().to_owned());
                    }
                    let all: Value =
                        serde_json::from_str(include_str!("keys/jwks.json")).expect("fixture");
                    HttpResponse::Ok().json(json!({"keys": [all["k1"]]}))
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("bind");
    let jwks_url = format!("http://{}/jwks.json", idp.addrs()[0]);
    let idp = idp.run();
    tokio::spawn(idp);

    let verifier = JwtVerifier::jwks(Arc::new(JwksCache::new(
        jwks_url.clone(),
        mcp_runtime::auth::http_client(),
    )))
    .issuer(crate::auth::ISS);
    let server = start(
        mcp_runtime::McpServer::builder()
            .oauth(OAuth::new(verifier, crate::auth::ISS))
            .tools(mcp_runtime::tools![crate::devserver::whoami]),
    );
    let token = crate::auth::sign(
        "k1",
        "k1",
        &json!({"iss": crate::auth::ISS, "sub": "u", "aud": server.url(),
                "iat": crate::auth::now(), "exp": crate::auth::now() + 600}),
    );
    let traceparent = format!("00-{TRACE}-{PARENT}-01");
    let r = post(
        &server.url(),
        &[
            ("traceparent", traceparent.as_str()),
            ("authorization", &format!("Bearer {token}")),
        ],
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "it", "version": "1"}}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    server.stop().await;
    let _ = provider.force_flush();

    let spans = kept.0.lock().expect("lock").clone();
    let request = spans
        .iter()
        .find(|s| s.name == "initialize")
        .unwrap_or_else(|| panic!("no initialize span in {spans:#?}"));
    assert_eq!(request.span_context.trace_id().to_string(), TRACE);
    assert_eq!(request.parent_span_id.to_string(), PARENT);
    let fetch = spans
        .iter()
        .find(|s| {
            s.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "url.full" && kv.value.as_str() == jwks_url)
        })
        .unwrap_or_else(|| panic!("no span for the JWKS fetch in {spans:#?}"));
    assert_eq!(fetch.name, "GET");
    assert_eq!(fetch.span_kind, opentelemetry::trace::SpanKind::Client);
    assert_eq!(fetch.span_context.trace_id().to_string(), TRACE);
    assert_eq!(fetch.parent_span_id, request.span_context.span_id());
    assert!(
        fetch
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "http.response.status_code" && kv.value.as_str() == "200"),
        "{fetch:#?}"
    );
    // The provider saw the fetch's own span as the parent of whatever it does.
    assert_eq!(
        seen.lock().expect("lock").as_slice(),
        [format!("00-{TRACE}-{}-01", fetch.span_context.span_id())]
    );
}
