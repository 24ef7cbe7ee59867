//! Replicas in one process, sharing a store the way replicas on one Redis do: what a
//! 2026-07-28 client begins on one replica ends on another.

use std::sync::Arc;

use mcp_runtime::McpServer;
use mcp_runtime::RunningServer;
use mcp_runtime::prelude::*;
use mcp_runtime::store::{MemoryStore, Store};
use serde_json::{Value, json};

use crate::common::*;
use crate::modern::{meta, request};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Name {
    name: String,
}

/// Asks for a name, then greets.
#[mcp_tool]
async fn greet(ctx: Context) -> Result<String, ToolError> {
    match ctx.elicit::<Name>("Your name?").await? {
        mcp_runtime::Elicitation::Accept(n) => Ok(format!("Hello, {}", n.name)),
        other => Ok(format!("no name ({})", other.action())),
    }
}

fn replica(store: Arc<dyn Store>, stateless: bool) -> RunningServer {
    start(
        McpServer::builder()
            .name("replica")
            .stateless(stateless)
            .session_store(store)
            .tools(tools![greet]),
    )
}

fn call(extra: Value) -> Value {
    let caps = json!({"io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}});
    let mut params = json!({"name": "greet", "arguments": {}, "_meta": meta(caps)});
    if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    params
}

#[tokio::test]
async fn an_input_required_round_begun_on_one_replica_ends_on_another() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    // One replica keeps sessions for older clients, the other is stateless: both take the
    // request-state key from the store they share.
    let a = replica(store.clone(), false);
    let b = replica(store.clone(), true);
    let first = request(&a.url(), 1, "tools/call", call(json!({})), &[], None)
        .await
        .message();
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    let state = first["result"]["requestState"].clone();
    let answer = json!({
        "inputResponses": {"elicitation-0": {"action": "accept", "content": {"name": "Ada"}}},
        "requestState": state,
    });
    let done = request(&b.url(), 2, "tools/call", call(answer.clone()), &[], None)
        .await
        .message();
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert_eq!(done["result"]["content"][0]["text"], "Hello, Ada");

    // A server with a store of its own has its own key: the state is refused as altered.
    let other = replica(Arc::new(MemoryStore::new()), true);
    let refused = request(&other.url(), 3, "tools/call", call(answer), &[], None)
        .await
        .json();
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert!(
        refused["error"]["message"].as_str().is_some_and(|m| m
            .contains("`requestState` is not valid: it was altered, or another server issued it")),
        "{refused}"
    );
    for s in [a, b, other] {
        s.stop().await;
    }
}

/// Works for a while, as a task.
#[mcp_tool(task = "required")]
async fn long_job() -> String {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    "done".to_owned()
}

fn task_meta() -> Value {
    meta(json!({"io.modelcontextprotocol/clientCapabilities":
        {"extensions": {"io.modelcontextprotocol/tasks": {}}}}))
}

#[tokio::test]
async fn a_task_id_names_its_replica_and_another_replica_says_where_it_runs() {
    let named = |name: &str| {
        start(
            McpServer::builder()
                .name("replica")
                .replica_id(name)
                .tools(tools![long_job]),
        )
    };
    let (a, b) = (named("a"), named("b-2"));
    let created = request(
        &a.url(),
        1,
        "tools/call",
        json!({"name": "long_job", "arguments": {}, "_meta": task_meta()}),
        &[],
        None,
    )
    .await
    .message();
    let id = created["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    assert!(id.starts_with("a.") && id.len() > 20, "{id}");

    let get = |url: String, id: String| async move {
        request(
            &url,
            2,
            "tasks/get",
            json!({"taskId": id, "_meta": task_meta()}),
            &[],
            None,
        )
        .await
        .json()
    };
    let elsewhere = get(b.url(), id.clone()).await;
    assert_eq!(elsewhere["error"]["code"], -32602, "{elsewhere}");
    assert_eq!(
        elsewhere["error"]["message"],
        format!(
            "task `{id}` runs on replica `a`, not on this one (`b-2`): route the requests whose \
             Mcp-Name begins with `a.` to it"
        )
    );
    let here = get(a.url(), id.clone()).await;
    assert!(here["result"]["status"].is_string(), "{here}");
    // An id this replica could have made but did not is unknown, as before.
    let unknown = get(a.url(), "a.AAAAAAAAAAAAAAAAAAAAAA".into()).await;
    assert!(
        unknown["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("unknown task")),
        "{unknown}"
    );
    a.stop().await;
    b.stop().await;

    let err = McpServer::builder()
        .replica_id("two words")
        .tools(tools![long_job])
        .build()
        .expect_err("not a replica id");
    assert!(
        err.to_string().contains("the replica id `two words`"),
        "{err}"
    );
}
