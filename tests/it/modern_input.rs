//! The 2026-07-28 revision's multi-round requests and streams: tools and prompts that ask the
//! client through input-required results, round by round, and `subscriptions/listen` streams
//! that carry only what they opted in to and what the caller may read.

use crate::common::*;
use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use mcp_runtime::{Resource, ResourceRequest, ToolDef};
use serde_json::{Value, json};
use std::time::Duration;

use crate::modern::*;

#[tokio::test]
async fn a_tool_asks_through_input_required_results_round_by_round() {
    let server = server();
    let url = server.url();
    let caps = json!({"io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}});
    let call = |extra: Value| {
        let mut params =
            json!({"name": "greet_twice", "arguments": {}, "_meta": meta(caps.clone())});
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        params
    };
    // Round 1: the unnamed ask is keyed by its kind and order.
    let raw = request(&url, 1, "tools/call", call(json!({})), &[], None).await;
    assert_eq!(
        raw.body.matches("\"resultType\"").count(),
        1,
        "{}",
        raw.body
    );
    let r1 = raw.message();
    let result = &r1["result"];
    assert_eq!(result["resultType"], "input_required", "{r1}");
    assert_eq!(
        result["inputRequests"]["elicitation-0"]["method"],
        "elicitation/create"
    );
    assert_eq!(
        result["inputRequests"]["elicitation-0"]["params"]["requestedSchema"]["required"],
        json!(["name"])
    );
    let state = result["requestState"].as_str().expect("a state").to_owned();

    // Round 2: the first answer; the tool asks its second, named, question.
    let r2 = request(
        &url,
        2,
        "tools/call",
        call(json!({
            "inputResponses": {"elicitation-0": {"action": "accept", "content": {"name": "Ada"}}},
            "requestState": state,
        })),
        &[],
        None,
    )
    .await
    .message();
    assert_eq!(r2["result"]["resultType"], "input_required", "{r2}");
    assert!(r2["result"]["inputRequests"].get("sure").is_some(), "{r2}");
    let state2 = r2["result"]["requestState"]
        .as_str()
        .expect("a state")
        .to_owned();

    // Round 3: the state carries round 1's answer; the call completes.
    let r3 = request(
        &url,
        3,
        "tools/call",
        call(json!({
            "inputResponses": {"sure": {"action": "decline"}},
            "requestState": state2,
        })),
        &[],
        None,
    )
    .await
    .message();
    assert_eq!(r3["result"]["resultType"], "complete", "{r3}");
    assert_eq!(r3["result"]["content"][0]["text"], "Hello, Ada (decline)");

    // A missing answer is asked for again, not an error.
    let again = request(
        &url,
        4,
        "tools/call",
        call(json!({"inputResponses": {"other": {}}})),
        &[],
        None,
    )
    .await
    .message();
    assert_eq!(again["result"]["resultType"], "input_required");

    // An altered state is refused, naming why.
    let mut tampered = state.into_bytes();
    tampered[5] ^= 1;
    let tampered = String::from_utf8(tampered).expect("ascii");
    let r = request(
        &url,
        5,
        "tools/call",
        call(json!({"requestState": tampered})),
        &[],
        None,
    )
    .await;
    let v = r.json();
    assert_eq!(
        (v["id"].clone(), v["error"]["code"].clone()),
        (json!(5), json!(-32602)),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`requestState` is not valid")),
        "{v}"
    );

    // A state is bound to its request: other arguments or another caller cannot use it.
    let fresh = request(&url, 7, "tools/call", call(json!({})), &[], None)
        .await
        .message();
    let mut other = call(json!({"requestState": fresh["result"]["requestState"].clone()}));
    other["arguments"] = json!({"unused": 1});
    let r = request(&url, 8, "tools/call", other, &[], None)
        .await
        .json();
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("issued for another request")),
        "{r}"
    );

    // The client's refusal of an input is the tool's refused request.
    let refused = request(
        &url,
        9,
        "tools/call",
        call(json!({
            "inputResponses": {"elicitation-0": {"error": {"code": -1, "message": "user said no"}}},
        })),
        &[],
        None,
    )
    .await
    .message();
    assert_eq!(
        refused["result"]["content"][0]["text"],
        "the client refused elicitation/create: user said no (error -1)"
    );

    // Without the capability, the request's own error, not an input request.
    let r = request(
        &url,
        6,
        "tools/call",
        json!({"name": "greet_twice", "arguments": {}}),
        &[],
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (400, json!(-32021))
    );
    server.stop().await;
}

/// The events of an SSE response, as they arrive.
pub(crate) async fn next_event(
    stream: &mut futures_util::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buf: &mut String,
) -> Value {
    use futures_util::StreamExt as _;
    loop {
        if let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                return serde_json::from_str(data).expect("JSON");
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("an event in time")
            .expect("open")
            .expect("chunk");
        buf.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
    }
}

#[tokio::test]
async fn listen_streams_carry_what_they_opted_in_to() {
    use futures_util::StreamExt as _;
    let server: McpServer = McpServer::builder()
        .tools(tools![add])
        .resource(
            Resource::new("file:///a", "a")
                .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("a") }),
        )
        .workers(1)
        .build()
        .expect("builds");
    let running = server.clone().start("127.0.0.1:0").expect("starts");
    let url = running.url();
    let open = |id: i64, notifications: Value| {
        let url = url.clone();
        async move {
            let body = json!({"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen",
                "params": {"_meta": meta(json!({})), "notifications": notifications}});
            let resp = http()
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", REVISION)
                .header("mcp-method", "subscriptions/listen")
                .body(body.to_string())
                .send()
                .await
                .expect("listen");
            assert_eq!(resp.status(), 200);
            resp.bytes_stream().map(|c| c.map(|b| b.to_vec())).boxed()
        }
    };
    let mut tools_and_a = open(
        11,
        json!({"toolsListChanged": true, "promptsListChanged": true,
                                         "resourceSubscriptions": ["file:///a"]}),
    )
    .await;
    let mut resources_only = open(12, json!({"resourcesListChanged": true})).await;
    let (mut b1, mut b2) = (String::new(), String::new());

    let ack = next_event(&mut tools_and_a, &mut b1).await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["file:///a"]}),
        "no prompts here, so no prompt changes"
    );
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        11
    );
    assert_eq!(
        next_event(&mut resources_only, &mut b2).await["method"],
        "notifications/subscriptions/acknowledged"
    );

    server.add_tool(<chatty as ToolDef>::tool()).expect("added");
    let changed = next_event(&mut tools_and_a, &mut b1).await;
    assert_eq!(changed["method"], "notifications/tools/list_changed");
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        11
    );
    assert_eq!(
        server.resource_updated("file:///a"),
        1,
        "one listener chose it"
    );
    let updated = next_event(&mut tools_and_a, &mut b1).await;
    assert_eq!(
        (updated["method"].clone(), updated["params"]["uri"].clone()),
        (json!("notifications/resources/updated"), json!("file:///a"))
    );
    assert!(server.remove_resource("file:///a"));
    let removed = next_event(&mut resources_only, &mut b2).await;
    assert_eq!(
        removed["method"], "notifications/resources/list_changed",
        "the tool change was not sent here"
    );

    let r = request(&url, 13, "subscriptions/listen", json!({}), &[], None).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`params.notifications`"))
    );
    drop((tools_and_a, resources_only));
    running.stop().await;
}

#[tokio::test]
async fn a_prompt_asks_through_an_input_required_result_too() {
    let server = server();
    let url = server.url();
    let caps = meta(json!({"io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}));
    let r1 = request(
        &url,
        1,
        "prompts/get",
        json!({"name": "haiku", "_meta": caps}),
        &[],
        None,
    )
    .await
    .json();
    assert_eq!(r1["result"]["resultType"], "input_required", "{r1}");
    assert_eq!(
        r1["result"]["inputRequests"]["topic"]["method"],
        "elicitation/create"
    );
    let state = r1["result"]["requestState"].clone();
    let r2 = request(
        &url,
        2,
        "prompts/get",
        json!({"name": "haiku", "_meta": caps,
        "inputResponses": {"topic": {"action": "accept", "content": {"topic": "rain"}}},
        "requestState": state}),
        &[],
        None,
    )
    .await
    .json();
    assert_eq!(r2["result"]["resultType"], "complete", "{r2}");
    assert_eq!(
        r2["result"]["messages"][0]["content"]["text"],
        "A haiku about rain"
    );

    // Older clients are asked only on a tool call's stream; this one did not even declare
    // elicitation, and is told so.
    let old = Client::connect(&server, V_LATEST).await;
    let r = old.rpc(3, "prompts/get", json!({"name": "haiku"})).await;
    assert_eq!(
        r["error"]["message"],
        "prompt `haiku` failed: the client does not support elicitation/create: it did not \
         declare the `elicitation` capability"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_listen_stream_follows_only_resources_the_caller_may_read() {
    use futures_util::StreamExt as _;
    let oauth = DevProvider::new()
        .auto_approve(true)
        .access_token_ttl(Duration::from_secs(3600))
        .into_oauth()
        .expect("dev server");
    let server = start(
        McpServer::builder()
            .oauth(oauth)
            .tools(tools![add])
            .resource(
                Resource::new("file:///open", "open")
                    .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("o") }),
            )
            .resource(
                Resource::new("file:///secret", "secret")
                    .scopes(["admin"])
                    .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("s") }),
            ),
    );
    let url = server.url();
    let token = crate::client::first_token(&url).await;
    let body = json!({"jsonrpc": "2.0", "id": 5, "method": "subscriptions/listen",
        "params": {"_meta": meta(json!({})), "notifications": {
            "resourceSubscriptions": ["file:///open", "file:///secret", "file:///later"]}}});
    let resp = http()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", REVISION)
        .header("mcp-method", "subscriptions/listen")
        .header("authorization", format!("Bearer {token}"))
        .body(body.to_string())
        .send()
        .await
        .expect("listen");
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream().map(|c| c.map(|b| b.to_vec())).boxed();
    let mut buf = String::new();
    let ack = next_event(&mut stream, &mut buf).await;
    assert_eq!(
        ack["params"]["notifications"],
        json!({"resourceSubscriptions": ["file:///open", "file:///later"]}),
        "no updates of a resource the caller may not read"
    );
    drop(stream);
    server.stop().await;
}
