//! A tool asking the client: sampling, elicitation and roots over real HTTP. The library
//! client answers through its handler; the wire test answers by hand, in a POST of its own
//! while the call's SSE stream is open, and checks every refusal: an undeclared capability,
//! a response that is not a stream, a server without sessions, the client's error, a stray
//! answer, and the timeout.

use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use mcp_runtime::client::{Client as McpClient, ClientHandler, RpcError as ClientRpcError};
use mcp_runtime::prelude::*;
use mcp_runtime::{Elicitation, Sampling};
use serde_json::{Value, json};

use crate::common::*;

/// Asks the client's LLM
#[mcp_tool]
async fn summarize(ctx: Context, text: String) -> Result<String, ToolError> {
    let answer = ctx
        .sample(Sampling::new(50).system_prompt("terse").user(text))
        .await?;
    Ok(format!("{} ({})", answer.text(), answer.model))
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Confirm {
    /// Type the repository name
    repository: String,
    #[serde(default)]
    force: bool,
}

/// Asks the user to confirm
#[mcp_tool]
async fn delete_repo(ctx: Context, name: String) -> Result<String, ToolError> {
    Ok(
        match ctx.elicit::<Confirm>(format!("Delete {name}?")).await? {
            Elicitation::Accept(c) if c.repository == name => {
                format!("deleted (force={})", c.force)
            }
            Elicitation::Accept(c) => format!("kept: `{}` is not `{name}`", c.repository),
            other => format!("kept ({})", other.action()),
        },
    )
}

/// Lists the client's roots
#[mcp_tool]
async fn roots(ctx: Context) -> Result<String, ToolError> {
    let roots = ctx.roots().await?;
    Ok(roots
        .iter()
        .map(|r| format!("{}={}", r.name.as_deref().unwrap_or("?"), r.uri))
        .collect::<Vec<_>>()
        .join(","))
}

fn server(builder: mcp_runtime::McpServerBuilder) -> mcp_runtime::RunningServer {
    start(builder.tools(tools![summarize, delete_repo, roots]))
}

/// A client that can do all three, and records what it was asked.
#[derive(Clone, Default)]
struct Capable {
    asked: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl ClientHandler for Capable {
    fn capabilities(&self) -> Value {
        json!({"sampling": {}, "elicitation": {"form": {}}, "roots": {}})
    }
    fn create_message(&self, params: Value) -> BoxFuture<'_, Result<Value, ClientRpcError>> {
        self.asked.lock().expect("lock").push(params);
        Box::pin(async {
            Ok(json!({"role": "assistant", "model": "tiny",
                      "content": {"type": "text", "text": "short"}}))
        })
    }
    fn elicit(&self, params: Value) -> BoxFuture<'_, Result<Value, ClientRpcError>> {
        let decline = params["message"] == "Delete other?";
        self.asked.lock().expect("lock").push(params);
        Box::pin(async move {
            Ok(if decline {
                json!({"action": "decline"})
            } else {
                json!({"action": "accept", "content": {"repository": "mine"}})
            })
        })
    }
    fn list_roots(&self) -> BoxFuture<'_, Result<Value, ClientRpcError>> {
        Box::pin(async { Ok(json!({"roots": [{"uri": "file:///src", "name": "src"}]})) })
    }
}

#[tokio::test]
async fn tools_sample_elicit_and_list_roots_through_the_client() {
    let server = server(McpServer::builder());
    let handler = Capable::default();
    let client = McpClient::builder(server.url())
        .handler(handler.clone())
        .connect()
        .await
        .expect("connects");
    let r = client
        .call_tool("summarize", json!({"text": "a long story"}))
        .await
        .expect("summarize");
    assert_eq!((r.text().as_str(), r.is_error), ("short (tiny)", false));
    let r = client
        .call_tool("delete_repo", json!({"name": "mine"}))
        .await
        .expect("delete");
    assert_eq!(r.text(), "deleted (force=false)");
    let r = client
        .call_tool("delete_repo", json!({"name": "other"}))
        .await
        .expect("delete");
    assert_eq!(r.text(), "kept (decline)");
    let r = client.call_tool("roots", json!({})).await.expect("roots");
    assert_eq!(r.text(), "src=file:///src");

    let asked = handler.asked.lock().expect("lock").clone();
    assert_eq!(asked[0]["messages"][0]["content"]["text"], "a long story");
    assert_eq!(asked[0]["systemPrompt"], "terse");
    assert_eq!(asked[0]["maxTokens"], 50);
    assert_eq!(asked[1]["mode"], "form");
    assert_eq!(asked[1]["message"], "Delete mine?");
    let schema = &asked[1]["requestedSchema"];
    assert_eq!(
        schema["properties"]["repository"],
        json!({"type": "string", "description": "Type the repository name"})
    );
    assert_eq!(
        schema["properties"]["force"],
        json!({"type": "boolean", "default": false})
    );
    assert_eq!(schema["required"], json!(["repository"]));
    client.close().await;
    server.stop().await;
}

/// One tool body, both revisions: under 2026-07-28 the same asks become input-required
/// results, which the library client answers with its handler and sends again.
#[tokio::test]
async fn the_same_tools_ask_a_2026_client_through_input_required_results() {
    let server = server(McpServer::builder());
    let handler = Capable::default();
    let client = McpClient::builder(server.url())
        .protocol_version("2026-07-28")
        .handler(handler.clone())
        .connect()
        .await
        .expect("connects");
    assert!(client.is_stateless());
    let r = client
        .call_tool("summarize", json!({"text": "a long story"}))
        .await
        .expect("summarize");
    assert_eq!((r.text().as_str(), r.is_error), ("short (tiny)", false));
    let r = client
        .call_tool("delete_repo", json!({"name": "mine"}))
        .await
        .expect("delete");
    assert_eq!(r.text(), "deleted (force=false)");
    let r = client.call_tool("roots", json!({})).await.expect("roots");
    assert_eq!(r.text(), "src=file:///src");
    let asked = handler.asked.lock().expect("lock").clone();
    assert_eq!(
        asked[1]["requestedSchema"]["required"],
        json!(["repository"])
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_without_the_capability_is_not_asked() {
    let server = server(McpServer::builder());
    let client = McpClient::builder(server.url())
        .connect()
        .await
        .expect("connects");
    for (tool, args, capability) in [
        ("summarize", json!({"text": "x"}), "sampling"),
        ("delete_repo", json!({"name": "x"}), "elicitation"),
        ("roots", json!({}), "roots"),
    ] {
        let r = client.call_tool(tool, args).await.expect("a result");
        assert!(r.is_error, "{tool}");
        assert!(
            r.text()
                .contains(&format!("it did not declare the `{capability}` capability")),
            "{tool}: {}",
            r.text()
        );
    }
    client.close().await;
    server.stop().await;
}

/// Initializes a raw client declaring `capabilities`.
async fn raw_client(server: &mcp_runtime::RunningServer, capabilities: Value) -> Client {
    let mut c = Client::new(server);
    let r = c
        .post_raw(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": V_LATEST, "capabilities": capabilities,
            "clientInfo": {"name": "raw", "version": "1"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    c.session = r
        .headers
        .get("mcp-session-id")
        .map(|v| v.to_str().expect("ascii").to_owned());
    c
}

/// The SSE events of a stream, as they arrive.
struct Events {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buf: String,
}

impl Events {
    async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let event: String = self.buf.drain(..end + 2).collect();
                if let Some(data) = event
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .filter(|d| !d.is_empty())
                {
                    return serde_json::from_str(data).expect("JSON event");
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("an event in time")
                .expect("the stream is open")
                .expect("a chunk");
            self.buf
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }
}

async fn call_streaming(c: &Client, id: i64, tool: &str, args: Value) -> Events {
    let resp = c
        .request(reqwest::Method::POST)
        .header("content-type", "application/json")
        .body(
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                   "params": {"name": tool, "arguments": args}})
            .to_string(),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().expect("ascii"),
        "text/event-stream"
    );
    Events {
        stream: resp.bytes_stream().map(|c| c.map(|b| b.to_vec())).boxed(),
        buf: String::new(),
    }
}

#[tokio::test]
async fn on_the_wire_the_request_rides_the_calls_stream_and_the_answer_a_post() {
    let server = server(McpServer::builder());
    let c = raw_client(&server, json!({"elicitation": {}, "sampling": {}})).await;

    let mut events = call_streaming(&c, 1, "delete_repo", json!({"name": "mine"})).await;
    let ask = events.next().await;
    assert_eq!(ask["method"], "elicitation/create");
    let id = ask["id"].as_str().expect("a string id").to_owned();
    // A stray answer (unknown id) and a number id are accepted and ignored.
    for stray in [json!("s-999"), json!(1)] {
        let r = c
            .post_raw(&json!({"jsonrpc": "2.0", "id": stray, "result": {"action": "cancel"}}))
            .await;
        assert_eq!(r.status, 202);
    }
    let r = c
        .post_raw(&json!({"jsonrpc": "2.0", "id": id, "result":
            {"action": "accept", "content": {"repository": "mine", "force": true}}}))
        .await;
    assert_eq!(r.status, 202);
    let done = events.next().await;
    assert_eq!(done["id"], 1);
    assert_eq!(done["result"]["content"][0]["text"], "deleted (force=true)");

    // The client's error becomes the tool's error, named.
    let mut events = call_streaming(&c, 2, "summarize", json!({"text": "x"})).await;
    let ask = events.next().await;
    assert_eq!(ask["method"], "sampling/createMessage");
    c.post_raw(&json!({"jsonrpc": "2.0", "id": ask["id"], "error":
        {"code": -1, "message": "User rejected sampling request"}}))
        .await;
    let done = events.next().await;
    assert_eq!(done["result"]["isError"], true);
    assert_eq!(
        done["result"]["content"][0]["text"],
        "the client refused sampling/createMessage: User rejected sampling request (error -1)"
    );

    // A form that does not fit the type.
    let mut events = call_streaming(&c, 3, "delete_repo", json!({"name": "mine"})).await;
    let ask = events.next().await;
    c.post_raw(&json!({"jsonrpc": "2.0", "id": ask["id"], "result":
        {"action": "accept", "content": {"repository": 42}}}))
        .await;
    let done = events.next().await;
    let said = done["result"]["content"][0]["text"].as_str().expect("text");
    assert!(
        said.starts_with("the client's answer to elicitation/create is malformed: the submitted form does not fit: invalid type: integer `42`"),
        "{said}"
    );

    // Without `text/event-stream` in Accept, the call has no stream to ask on.
    let json_only = Client {
        session: c.session.clone(),
        accept: "application/json",
        ..Client::new(&server)
    };
    let r = json_only.call("delete_repo", json!({"name": "mine"})).await;
    assert_eq!(
        text(&r),
        "elicitation/create cannot reach the client: this call's response is not a stream \
         (the client must accept text/event-stream, and the server must stream)"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unanswered_request_times_out_and_a_stateless_server_cannot_ask() {
    let server = server(McpServer::builder().client_request_timeout(Duration::from_millis(300)));
    let c = raw_client(&server, json!({"sampling": {}})).await;
    let mut events = call_streaming(&c, 1, "summarize", json!({"text": "x"})).await;
    assert_eq!(events.next().await["method"], "sampling/createMessage");
    let done = events.next().await;
    assert_eq!(
        done["result"]["content"][0]["text"],
        "the client did not answer sampling/createMessage within 300ms"
    );
    server.stop().await;

    let server = server_stateless();
    let c = raw_client(&server, json!({"sampling": {}})).await;
    let r = c.call("summarize", json!({"text": "x"})).await;
    assert_eq!(
        text(&r),
        "sampling/createMessage needs an MCP session to carry the client's answer, and this \
         server runs without sessions (stateless)"
    );
    server.stop().await;
}

fn server_stateless() -> mcp_runtime::RunningServer {
    server(McpServer::builder().stateless(true))
}
