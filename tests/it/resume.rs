//! Resumable call streams (SEP-1699, 2025-11-25) over real HTTP: the priming event, event ids,
//! a tool closing its stream early with a `retry`, the call going on, and the client resuming
//! with `GET` + `Last-Event-ID` to receive what it missed and the response; event ids that
//! cannot be resumed refused by name; older sessions unchanged; the library client resuming
//! on its own.

use std::time::Duration;

use mcp_runtime::prelude::*;
use serde_json::{Value, json};

use crate::common::*;

/// Reports, closes its stream, and goes on working
#[mcp_tool]
async fn long_report(ctx: Context) -> String {
    ctx.info("started");
    let closed = ctx.close_sse_stream(Duration::from_millis(20));
    tokio::time::sleep(Duration::from_millis(100)).await;
    ctx.info("still working");
    tokio::time::sleep(Duration::from_millis(50)).await;
    format!("done (closed early: {closed})")
}

fn server() -> mcp_runtime::RunningServer {
    start(McpServer::builder().tools(tools![long_report]))
}

/// The `(id, data)` of each event of an SSE body, and its `retry`.
fn parse(body: &str) -> (Vec<(Option<String>, String)>, Option<u64>) {
    let mut events = Vec::new();
    let mut retry = None;
    for block in body.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(name).map(str::to_owned))
        };
        if let Some(r) = field("retry: ") {
            retry = r.parse().ok();
        }
        if let Some(data) = field("data: ") {
            events.push((field("id: "), data));
        }
    }
    (events, retry)
}

fn call_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
           "params": {"name": "long_report", "arguments": {}}})
}

#[tokio::test]
async fn a_stream_closed_early_is_resumed_up_to_the_response() {
    let server = server();
    let c = Client::connect(&server, V_LATEST).await;
    let r = c.post_raw(&call_body()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "text/event-stream");
    let (events, retry) = parse(&r.body);
    assert_eq!(retry, Some(20), "{}", r.body);
    // The priming event first: an id and empty data; then the log line, with an id.
    assert_eq!(events[0].1, "");
    assert!(events.iter().all(|(id, _)| id.is_some()), "{events:?}");
    let started: Value = serde_json::from_str(&events[1].1).expect("JSON");
    assert_eq!(started["params"]["data"], "started");
    assert!(
        !r.body.contains("\"id\":9"),
        "the response comes on the resumed stream"
    );

    let last = events.last().and_then(|(id, _)| id.clone()).expect("an id");
    let resumed = Client::send(
        c.request_accepting(reqwest::Method::GET, "text/event-stream")
            .header("last-event-id", &last),
    )
    .await;
    assert_eq!(resumed.status, 200, "{resumed:?}");
    let (events, _) = parse(&resumed.body);
    let messages: Vec<Value> = events
        .iter()
        .map(|(_, d)| serde_json::from_str(d).expect("JSON"))
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0]["params"]["data"], "still working");
    assert_eq!(messages[1]["id"], 9);
    assert_eq!(
        messages[1]["result"]["content"][0]["text"],
        "done (closed early: true)"
    );

    // Resuming from the priming event replays everything after it.
    let first = parse(&r.body).0[0].0.clone().expect("priming id");
    let again = Client::send(
        c.request_accepting(reqwest::Method::GET, "text/event-stream")
            .header("last-event-id", &first),
    )
    .await;
    assert_eq!(parse(&again.body).0.len(), 3, "{}", again.body);

    for (bad, why) in [
        ("nonsense", "is not an event id this server sent"),
        (
            "99-1",
            "is not known to this process: another replica of this server sent it",
        ),
    ] {
        let r = Client::send(
            c.request_accepting(reqwest::Method::GET, "text/event-stream")
                .header("last-event-id", bad),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}");
        let message = r.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(message.contains(why), "{bad}: {message}");
    }
    server.stop().await;
}

#[tokio::test]
async fn older_sessions_get_plain_streams_that_are_never_closed_early() {
    let server = server();
    let c = Client::connect(&server, "2025-06-18").await;
    let r = c.post_raw(&call_body()).await;
    let (events, retry) = parse(&r.body);
    assert_eq!(retry, None);
    assert!(
        events.iter().all(|(id, d)| id.is_none() && !d.is_empty()),
        "{}",
        r.body
    );
    assert_eq!(text(&r.message()), "done (closed early: false)");
    server.stop().await;
}

#[tokio::test]
async fn the_library_client_resumes_on_its_own() {
    let server = server();
    let client = mcp_runtime::client::Client::builder(server.url())
        .connect()
        .await
        .expect("connects");
    let r = client
        .call_tool("long_report", json!({}))
        .await
        .expect("the response, after resuming");
    assert_eq!(r.text(), "done (closed early: true)");
    client.close().await;
    server.stop().await;
}
