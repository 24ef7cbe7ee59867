//! Observability: the Prometheus `/metrics` endpoint and the `mcp.request` tracing span.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_runtime::McpServer;
use mcp_runtime::auth::Auth;
use mcp_runtime::prelude::*;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt as _};
use tracing_subscriber::{Layer, Registry};

use crate::auth::{Issuer, now, sign};
use crate::common::*;

const ISS: &str = "https://issuer.test";

/// Who is calling.
#[mcp_tool(name = "whoami", read_only)]
async fn whoami(auth: Auth) -> String {
    auth.user.user_id.clone()
}

/// Admins only.
#[mcp_tool(name = "purge", scopes = "admin")]
async fn purge() -> String {
    "purged".into()
}

fn token(server: &mcp_runtime::RunningServer, scope: &str) -> String {
    sign(
        "k1",
        "k1",
        &json!({"iss": ISS, "sub": "user-7", "aud": server.url(), "iat": now(),
                "exp": now() + 600, "scope": scope}),
    )
}

fn observed(issuer: &Issuer) -> mcp_runtime::RunningServer {
    start(
        McpServer::builder()
            .metrics("/metrics")
            .oauth(issuer.oauth())
            .tools(tools![whoami, purge]),
    )
}

#[tokio::test]
async fn metrics_count_requests_refusals_tools_and_verification() {
    let issuer = Issuer::start(&["k1"]);
    let server = observed(&issuer);
    let metrics_url = format!("http://{}/metrics", server.addr());

    // A missing token, a bad one, a signed-in caller, a tool call and a 403.
    assert_eq!(
        Client::new(&server)
            .post_raw(&init_body(V_LATEST))
            .await
            .status,
        401
    );
    let mut bad = Client::new(&server);
    bad.bearer = Some("not-a-jwt".into());
    assert_eq!(bad.post_raw(&init_body(V_LATEST)).await.status, 401);
    let bearer = token(&server, "openid");
    let c = Client::connect_as(&server, V_LATEST, Some(bearer.clone())).await;
    assert_eq!(text(&c.call("whoami", json!({})).await), "user-7");
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":3,"method":"tools/call",
                          "params":{"name":"purge","arguments":{}}}))
        .await;
    assert_eq!(r.status, 403);
    // The session ends: its length is counted.
    let r = http()
        .delete(server.url())
        .bearer_auth(&bearer)
        .header("mcp-session-id", c.session.clone().expect("a session"))
        .header("mcp-protocol-version", V_LATEST)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 200);

    let r = http().get(&metrics_url).send().await.expect("metrics");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let body = r.text().await.expect("body");
    for line in [
        r#"mcp_requests_total{method="POST",status="401"} 2"#,
        r#"mcp_requests_total{method="initialize",status="200"} 1"#,
        r#"mcp_requests_total{method="notifications/initialized",status="202"} 1"#,
        r#"mcp_requests_total{method="tools/call",status="200"} 1"#,
        r#"mcp_requests_total{method="tools/call",status="403"} 1"#,
        r#"mcp_refusals_total{reason="missing_token"} 1"#,
        r#"mcp_refusals_total{reason="invalid_token"} 1"#,
        r#"mcp_refusals_total{reason="insufficient_scope"} 1"#,
        r#"mcp_tool_calls_total{tool="whoami",outcome="ok"} 1"#,
        r#"mcp_tool_duration_seconds_count{tool="whoami"} 1"#,
        r#"mcp_token_verifications_total{result="valid",cache="miss"} 1"#,
        r#"mcp_jwks_fetches_total{result="ok"} 1"#,
        r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type=""} 1"#,
        r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="403"} 1"#,
        r#"mcp_server_operation_duration_seconds_count{mcp_method_name="POST",error_type="401"} 2"#,
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing `{line}` in:\n{body}"
        );
    }
    assert!(
        body.contains("mcp_token_verification_seconds_count 2"),
        "{body}"
    );
    let session_line = format!(
        r#"mcp_server_session_duration_seconds_count{{mcp_protocol_version="{V_LATEST}"}} 1"#
    );
    assert!(
        body.lines().any(|l| l == session_line),
        "missing `{session_line}` in:\n{body}"
    );
    // The metrics endpoint answers to the same Host check as the endpoint.
    let r = http()
        .get(&metrics_url)
        .header("host", "evil.example")
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 403);
    server.stop().await;
}

/// A span's `target:name` and its fields.
type SpanRecord = (String, HashMap<String, String>);

/// Spans by id, with their fields (recorded at creation or later).
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<HashMap<u64, SpanRecord>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);
impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
}

impl<S: tracing::Subscriber> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: LayerContext<'_, S>) {
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let name = format!("{}:{}", attrs.metadata().target(), attrs.metadata().name());
        self.0
            .lock()
            .expect("lock")
            .insert(id.into_u64(), (name, fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: LayerContext<'_, S>) {
        if let Some((_, fields)) = self.0.lock().expect("lock").get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
}

/// The request spans of `spans`, by their fields.
fn request_spans(spans: &Spans) -> Vec<HashMap<String, String>> {
    spans
        .0
        .lock()
        .expect("lock")
        .values()
        .filter(|(name, _)| name == "mcp_runtime::request:mcp.request")
        .map(|(_, f)| f.clone())
        .collect()
}

/// A span whose `mcp.method.name` is `method`.
fn span_of<'a>(spans: &'a [HashMap<String, String>], method: &str) -> &'a HashMap<String, String> {
    spans
        .iter()
        .find(|f| f.get("mcp.method.name").map(String::as_str) == Some(method))
        .unwrap_or_else(|| panic!("no {method} span in {spans:?}"))
}

#[tokio::test]
async fn every_request_runs_in_a_span_named_by_the_opentelemetry_mcp_conventions() {
    let spans = Spans::default();
    tracing::subscriber::set_global_default(Registry::default().with(spans.clone()))
        .expect("the only subscriber in this test process");
    let issuer = Issuer::start(&["k1"]);
    let server = observed(&issuer);
    let token = token(&server, "openid");
    let c = Client::connect_as(&server, V_LATEST, Some(token.clone())).await;
    assert_eq!(text(&c.call("whoami", json!({})).await), "user-7");
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":"call-9","method":"tools/call",
                          "params":{"name":"purge","arguments":{}}}))
        .await;
    assert_eq!(r.status, 403);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let requests = request_spans(&spans);
    let call = requests
        .iter()
        .find(|f| f.get("gen_ai.tool.name").map(String::as_str) == Some("whoami"))
        .unwrap_or_else(|| panic!("no whoami span in {requests:?}"));
    assert_eq!(call["otel.name"], "tools/call whoami");
    assert_eq!(call["otel.kind"], "server");
    assert_eq!(call["gen_ai.tool.name"], "whoami");
    assert_eq!(call["gen_ai.operation.name"], "execute_tool");
    assert_eq!(call["mcp.protocol.version"], V_LATEST);
    assert_eq!(
        call["mcp.session.id"],
        c.session.clone().expect("a session")
    );
    assert!(
        call["jsonrpc.request.id"].parse::<u64>().is_ok(),
        "the client's numeric id: {call:?}"
    );
    assert_eq!(call["http.request.method"], "POST");
    assert_eq!(call["http.response.status_code"], "200");
    assert!(!call.contains_key("error.type"), "{call:?}");
    // The caller's identity is personal data: not on the span unless asked for.
    assert!(!call.contains_key("enduser.id"), "{call:?}");
    let refused = requests
        .iter()
        .find(|f| f.get("jsonrpc.request.id").map(String::as_str) == Some("call-9"))
        .unwrap_or_else(|| panic!("no span for call-9 in {requests:?}"));
    assert_eq!(refused["otel.name"], "tools/call purge");
    assert_eq!(refused["error.type"], "403");
    assert_eq!(refused["otel.status_code"], "ERROR");
    assert_eq!(span_of(&requests, "initialize")["otel.name"], "initialize");
    // Never a token, in any field of any span.
    for (name, fields) in spans.0.lock().expect("lock").values() {
        for v in fields.values() {
            assert!(!v.contains(&token), "a token in span {name}");
        }
    }
    server.stop().await;

    // Asked for (trace_subject): the caller's `sub` as enduser.id.
    let server = start(
        McpServer::builder()
            .trace_subject(true)
            .oauth(issuer.oauth())
            .tools(tools![whoami, purge]),
    );
    let c = Client::connect_as(
        &server,
        V_LATEST,
        Some(super::observe::token(&server, "openid")),
    )
    .await;
    assert_eq!(text(&c.call("whoami", json!({})).await), "user-7");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let requests = request_spans(&spans);
    let session = c.session.clone().expect("a session");
    let call = requests
        .iter()
        .find(|f| {
            f.get("gen_ai.tool.name").map(String::as_str) == Some("whoami")
                && f.get("mcp.session.id") == Some(&session)
        })
        .expect("this server's whoami span");
    assert_eq!(call["enduser.id"], "user-7");
    server.stop().await;
}

#[tokio::test]
async fn metrics_on_their_own_listener_answer_a_scraper_that_names_the_pod_by_its_address() {
    let issuer = Issuer::start(&["k1"]);
    let server = start(
        McpServer::builder()
            .metrics_listener("127.0.0.1:0".parse().expect("addr"))
            .oauth(issuer.oauth())
            .tools(tools![whoami, purge]),
    );
    let c = Client::connect_as(&server, V_LATEST, Some(token(&server, "openid"))).await;
    assert_eq!(text(&c.call("whoami", json!({})).await), "user-7");
    let metrics = server.metrics_addr().expect("a metrics listener");
    assert_ne!(metrics.port(), server.addr().port());

    // Prometheus scraping a pod sends its IP as the Host: the metrics port takes it, with no
    // token; the MCP port keeps its Host check and serves no metrics.
    let r = http()
        .get(format!("http://{metrics}/metrics"))
        .header("host", format!("10.1.2.3:{}", metrics.port()))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let body = r.text().await.expect("body");
    assert!(
        body.lines()
            .any(|l| l == r#"mcp_tool_calls_total{tool="whoami",outcome="ok"} 1"#),
        "{body}"
    );
    assert_eq!(
        http()
            .get(format!("http://{}/metrics", server.addr()))
            .send()
            .await
            .expect("mcp port")
            .status(),
        404
    );
    // Nothing else is served on the metrics port.
    let r = http()
        .post(format!("http://{metrics}/mcp"))
        .json(&init_body(V_LATEST))
        .send()
        .await
        .expect("metrics port");
    assert_eq!(r.status(), 404);
    let r = http()
        .post(server.url())
        .header("host", format!("10.1.2.3:{}", server.addr().port()))
        .header("accept", "application/json, text/event-stream")
        .json(&init_body(V_LATEST))
        .send()
        .await
        .expect("mcp port");
    assert_eq!(r.status(), 403, "the MCP endpoint still checks Host");

    server.stop().await;
    assert!(
        tokio::net::TcpStream::connect(metrics).await.is_err(),
        "the metrics listener stops with the server"
    );
}

#[tokio::test]
async fn a_server_s_metrics_merge_into_the_application_s_own_registry() {
    use mcp_runtime::prometheus_client::encoding::text::encode;
    use mcp_runtime::prometheus_client::metrics::counter::Counter;
    use mcp_runtime::prometheus_client::registry::Registry;

    let issuer = Issuer::start(&["k1"]);
    let built = McpServer::builder()
        .collect_metrics()
        .oauth(issuer.oauth())
        .tools(tools![whoami, purge])
        .build()
        .expect("server");
    let mut registry = Registry::with_prefix("app");
    let orders: Counter = Counter::default();
    registry.register("orders", "Orders placed", orders.clone());
    registry.register_collector(Box::new(built.metrics_collector().expect("collected")));
    orders.inc();

    let server = built.start("127.0.0.1:0").expect("start");
    let c = Client::connect_as(&server, V_LATEST, Some(token(&server, "openid"))).await;
    assert_eq!(text(&c.call("whoami", json!({})).await), "user-7");
    // No route serves them: the application does, from its registry.
    assert_eq!(
        http()
            .get(format!("http://{}/metrics", server.addr()))
            .send()
            .await
            .expect("get")
            .status(),
        404
    );
    let mut out = String::new();
    encode(&mut out, &registry).expect("encode");
    for line in [
        "app_orders_total 1",
        r#"app_mcp_tool_calls_total{tool="whoami",outcome="ok"} 1"#,
        r#"app_mcp_requests_total{method="tools/call",status="200"} 1"#,
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing `{line}` in:\n{out}"
        );
    }
    // A server that counts nothing has no collector.
    assert!(
        McpServer::builder()
            .build()
            .expect("server")
            .metrics_collector()
            .is_none()
    );
    server.stop().await;
}
