//! Tools: listing, schemas, calls, results, notifications, cancellation and build errors.

use std::sync::atomic::Ordering;
use std::time::Duration;

use mcp_runtime::McpServer;
use mcp_runtime::actix_web::{HttpResponse, web};
use mcp_runtime::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;
use crate::fixtures;

fn tool<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .find(|t| t["name"] == name)
        .expect("listed")
}

#[tokio::test]
async fn tools_list_describes_every_tool() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let list = c.rpc(1, "tools/list", json!({})).await;
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "echo",
            "add-numbers",
            "search",
            "fail",
            "progress",
            "logs",
            "wait",
            "boom"
        ]
    );
    assert!(list["result"].get("nextCursor").is_none());

    assert_eq!(
        tool(&list, "echo"),
        &json!({
            "name": "echo",
            "description": "Echo the text back.",
            "inputSchema": {"type":"object","properties":{"text":{"type":"string"}},"required":["text"]},
            "annotations": {"readOnlyHint": true, "idempotentHint": true}
        })
    );
    let add = tool(&list, "add-numbers");
    assert_eq!(add["title"], "Adder");
    assert_eq!(
        add["annotations"],
        json!({"title":"Adder","readOnlyHint":true,"openWorldHint":false})
    );
    assert_eq!(add["inputSchema"]["required"], json!(["a", "b"]));

    let search = tool(&list, "search");
    assert_eq!(
        search["inputSchema"]["properties"]["query"]["description"],
        "Words to look for."
    );
    assert_eq!(search["inputSchema"]["required"], json!(["query"]));
    assert_eq!(search["outputSchema"]["type"], "object");
    assert_eq!(
        search["outputSchema"]["properties"]["hits"]["description"],
        "The hits."
    );
    assert!(search["outputSchema"].get("$schema").is_none());

    let progress = tool(&list, "progress");
    assert_eq!(
        progress["inputSchema"],
        json!({"type":"object","properties":{}}),
        "Context is not an input"
    );
    let wait = tool(&list, "wait");
    assert_eq!(
        wait["inputSchema"],
        json!({"type":"object","properties":{}}),
        "State is not an input"
    );
    assert_eq!(
        tool(&list, "fail")["annotations"],
        json!({"destructiveHint": true})
    );
    server.stop().await;
}

#[tokio::test]
async fn tools_list_paginates() {
    let (b, _) = fixtures::builder();
    let server = start(b.page_size(3));
    let c = Client::connect(&server, V_LATEST).await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
        let page = c.rpc(1, "tools/list", params).await;
        pages += 1;
        for t in page["result"]["tools"].as_array().expect("tools") {
            names.push(t["name"].as_str().expect("name").to_owned());
        }
        match page["result"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!((pages, names.len()), (3, 8));
    let bad = c.rpc(2, "tools/list", json!({"cursor": "nonsense"})).await;
    assert_eq!(
        bad["error"],
        json!({"code":-32602,"message":"tools/list: invalid cursor `nonsense`"})
    );
    let bad = c.rpc(3, "tools/list", json!({"cursor": 5})).await;
    assert_eq!(bad["error"]["code"], -32602);
    server.stop().await;
}

#[tokio::test]
async fn results_text_structured_and_errors() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    assert_eq!(
        c.call("add-numbers", json!({"a": 2, "b": 40})).await["result"],
        json!({"content":[{"type":"text","text":"42"}]})
    );
    let r = c.call("search", json!({"query": "q", "limit": 2})).await;
    assert_eq!(
        r["result"]["structuredContent"],
        json!({"hits": ["q-0", "q-1"]})
    );
    assert_eq!(
        serde_json::from_str::<Value>(text(&r)).expect("json text"),
        json!({"hits": ["q-0", "q-1"]})
    );
    let r = c.call("fail", json!({})).await;
    assert_eq!(
        r["result"],
        json!({"content":[{"type":"text","text":"the disk is on fire"}],"isError":true})
    );
    // A missing `arguments` is an empty object.
    let r = c.rpc(8, "tools/call", json!({"name": "logs"})).await;
    assert_eq!(text(&r), "logged");
    server.stop().await;
}

#[tokio::test]
async fn call_errors_name_what_is_wrong() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let e = c.rpc(1, "tools/call", json!({"name": "nope"})).await;
    assert_eq!(
        e["error"],
        json!({"code":-32602,"message":"tools/call: unknown tool `nope`"})
    );
    let e = c.rpc(2, "tools/call", json!({"arguments": {}})).await;
    assert_eq!(
        e["error"]["message"],
        "tools/call: `params.name` (a string) is required"
    );
    let e = c
        .rpc(3, "tools/call", json!({"name": "echo", "arguments": [1]}))
        .await;
    assert_eq!(
        e["error"]["message"],
        "tools/call: `arguments` must be an object"
    );

    // 2025-11-25: invalid arguments are tool execution errors the model can correct.
    let r = c.call("echo", json!({})).await;
    assert_eq!(r["result"]["isError"], true);
    assert_eq!(text(&r), "tool `echo`: missing required argument `text`");
    let r = c.call("add-numbers", json!({"a": "two", "b": 1})).await;
    assert_eq!(
        text(&r),
        "tool `add-numbers`: invalid argument `a`: invalid type: string \"two\", expected i64"
    );
    let r = c.call("search", json!({"limit": 1})).await;
    assert_eq!(
        text(&r),
        "tool `search`: invalid arguments: missing field `query`"
    );

    // Before 2025-11-25: protocol errors (-32602).
    let old = Client::connect(&server, "2025-06-18").await;
    let e = old.call("echo", json!({"text": 5})).await;
    assert_eq!(
        e["error"],
        json!({"code":-32602,"message":"tool `echo`: invalid argument `text`: invalid type: integer `5`, expected a string"})
    );
    server.stop().await;
}

#[tokio::test]
async fn progress_streams_as_sse_before_the_result() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let body = json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"progress","arguments":{},"_meta":{"progressToken":1}}});
    let r = c.post_raw(&body).await;
    assert_eq!(r.status, 200);
    let events = r.events();
    assert_eq!(events.len(), 4, "{events:?}");
    for (i, e) in events[..3].iter().enumerate() {
        assert_eq!(e["method"], "notifications/progress");
        assert_eq!(
            e["params"]["progressToken"],
            json!(1),
            "the token keeps its JSON type"
        );
        assert_eq!(e["params"]["progress"], json!((i + 1) as f64));
        assert_eq!(e["params"]["total"], json!(3.0));
    }
    assert_eq!(
        events[3],
        json!({"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"done"}]}})
    );

    // Without a progress token the same tool answers with plain JSON.
    let r = c
        .post_raw(
            &json!({"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"progress"}}),
        )
        .await;
    assert_eq!(r.content_type(), "application/json");
    // A client that accepts only JSON gets JSON, without notifications.
    let r = Client::send(
        c.request_accepting(Method::POST, "application/json")
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await;
    assert_eq!(r.content_type(), "application/json");
    assert_eq!(r.json()["result"]["content"][0]["text"], "done");
    server.stop().await;
}

#[tokio::test]
async fn log_messages_respect_the_clients_level() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let call = json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"logs"}});
    let events = c.post_raw(&call).await.events();
    let levels: Vec<&str> = events
        .iter()
        .filter_map(|e| e["params"]["level"].as_str())
        .collect();
    assert_eq!(levels, ["info", "error"]);
    assert_eq!(
        events[0]["params"],
        json!({"level":"info","logger":"logs","data":"an info line"})
    );

    assert_eq!(
        c.rpc(4, "logging/setLevel", json!({"level": "error"}))
            .await["result"],
        json!({})
    );
    let events = c.post_raw(&call).await.events();
    let levels: Vec<&str> = events
        .iter()
        .filter_map(|e| e["params"]["level"].as_str())
        .collect();
    assert_eq!(levels, ["error"]);
    server.stop().await;
}

#[tokio::test]
async fn cancellation_drops_the_tool_future() {
    let (b, dropped) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let req = c
        .request_accepting(Method::POST, "application/json")
        .header("content-type", "application/json")
        .body(
            json!({"jsonrpc":"2.0","id":"long-1","method":"tools/call","params":{"name":"wait"}})
                .to_string(),
        );
    let pending = tokio::spawn(Client::send(req));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!dropped.load(Ordering::SeqCst));
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long-1","reason":"user"}}))
        .await;
    assert_eq!(r.status, 202);
    let r = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("answered")
        .expect("join");
    assert_eq!(
        r.json()["error"],
        json!({"code":-32800,"message":"the request was cancelled by the client"})
    );
    assert!(
        dropped.load(Ordering::SeqCst),
        "the tool's future was dropped"
    );
    server.stop().await;
}

#[tokio::test]
async fn client_disconnect_cancels_the_tool() {
    let (b, dropped) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let req = c
        .request_accepting(Method::POST, "application/json")
        .header("content-type", "application/json")
        .timeout(Duration::from_millis(300))
        .body(
            json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait"}})
                .to_string(),
        );
    assert!(req.send().await.expect_err("times out").is_timeout());
    for _ in 0..50 {
        if dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the tool's future was dropped with the connection"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_panicking_tool_is_an_internal_error_and_the_server_lives_on() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let e = c.call("boom", json!({})).await;
    assert_eq!(
        e["error"],
        json!({"code":-32603,"message":"tool `boom` failed unexpectedly (it panicked); see the server log"})
    );
    assert_eq!(
        text(&c.call("echo", json!({"text": "still here"})).await),
        "still here"
    );
    server.stop().await;
}

#[tokio::test]
async fn hand_built_tools_and_custom_routes() {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Shout {
        text: String,
    }
    struct Greeting(&'static str);
    let shout = Tool::builder("shout")
        .description("Shout the text.")
        .handler(|Input(s): Input<Shout>, g: State<Greeting>| async move {
            format!("{} {}!", g.0.0, s.text.to_uppercase())
        });
    let server = start(
        McpServer::builder()
            .tool(shout)
            .state(Greeting("HEY"))
            .routes(|cfg| {
                cfg.route(
                    "/health",
                    web::get()
                        .to(|g: web::Data<Greeting>| async move { HttpResponse::Ok().body(g.0) }),
                );
            }),
    );
    let c = Client::connect(&server, V_LATEST).await;
    assert_eq!(
        text(&c.call("shout", json!({"text": "hi"})).await),
        "HEY HI!"
    );
    let list = c.rpc(2, "tools/list", json!({})).await;
    assert_eq!(
        list["result"]["tools"][0]["inputSchema"]["required"],
        json!(["text"])
    );
    let health = http()
        .get(format!("http://{}/health", server.addr()))
        .send()
        .await
        .expect("health");
    assert_eq!(health.text().await.expect("body"), "HEY");
    server.stop().await;
}

#[test]
fn build_errors_list_every_problem() {
    let err = McpServer::builder()
        .tools(tools![fixtures::echo, fixtures::wait])
        .tool(Tool::builder("echo").handler(|| async { "again" }))
        .tool(Tool::builder("bad name").handler(|| async { "x" }))
        .tool(
            Tool::builder("two")
                .handler(|_a: Input<fixtures::Query>, _b: Input<fixtures::Query>| async { "x" }),
        )
        .page_size(0)
        .build()
        .expect_err("invalid");
    let msg = err.to_string();
    assert!(
        msg.starts_with("the MCP server cannot be built:\n  - "),
        "{msg}"
    );
    assert!(msg.contains("page_size must be at least 1"), "{msg}");
    assert!(
        msg.contains("two tools are named `echo`: one defined at tests/it/fixtures.rs:"),
        "{msg}"
    );
    assert!(msg.contains("the other at <built by hand>"), "{msg}");
    assert!(
        msg.contains(
            "takes `State<it::fixtures::Dropped>`, but no state of that type was registered"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("tool `bad name` (<built by hand>): tool name `bad name` contains ` `"),
        "{msg}"
    );
    assert!(
        msg.contains("a tool can take at most one `Input<T>` parameter"),
        "{msg}"
    );
    assert_eq!(err.problems.len(), 5, "{msg}");
}

#[test]
fn a_hand_built_plain_parameter_needs_a_name() {
    let err = McpServer::builder()
        .tool(Tool::builder("n").handler(|_x: i64| async { "x" }))
        .build()
        .expect_err("unnamed");
    assert!(
        err.to_string()
            .contains("a parameter of type `i64` needs a plain name"),
        "{err}"
    );
}

#[test]
fn input_must_be_an_object() {
    let err = McpServer::builder()
        .tool(Tool::builder("n").handler(|_x: Input<Vec<u8>>| async { "x" }))
        .build()
        .expect_err("array input");
    assert!(
        err.to_string()
            .contains("the input type must be a struct or map"),
        "{err}"
    );
}

/// An input whose schema designates a header by hand, badly.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct BadHeader {
    #[schemars(extend("x-mcp-header" = "My Region"))]
    region: String,
}

/// An input whose schema designates a header on an object.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct ObjectHeader {
    #[schemars(extend("x-mcp-header" = "Where"))]
    place: std::collections::BTreeMap<String, String>,
}

#[test]
fn headers_designated_by_hand_are_checked_as_clients_check_them() {
    let err = McpServer::builder()
        .tool(Tool::builder("bad").handler(|_i: Input<BadHeader>| async { "x" }))
        .tool(Tool::builder("object").handler(|_i: Input<ObjectHeader>| async { "x" }))
        .build()
        .expect_err("invalid");
    let msg = err.to_string();
    assert!(
        msg.contains(
            "tool `bad` (<built by hand>): property `region`: `x-mcp-header` \"My Region\" is \
             not a header name (RFC 9110 token)"
        ),
        "{msg}"
    );
    assert!(
        msg.contains(
            "tool `object` (<built by hand>): property `place`: only a string, number or \
             boolean can be sent as a header (`x-mcp-header`)"
        ),
        "{msg}"
    );
}
