//! Tasks (2026-07-28's tasks extension) over real HTTP: a call answered with a task handle,
//! polled to its result; questions answered through `tasks/update`; cancellation that stops
//! the work; tool errors, panics, the extension's gate and errors; a task started by the tool
//! after input-required rounds; tasks bound to their caller; expiry and the task limit;
//! `notifications/tasks` on a listen stream; older clients unchanged.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::{Elicitation, McpServerBuilder, TaskSupport};
use serde_json::{Value, json};

use crate::common::*;
use crate::modern::{REVISION, meta, request};
use crate::modern_input::next_event;

const TASKS: &str = "io.modelcontextprotocol/tasks";

/// Set when a slow tool's work is dropped before it finished (cancelled or expired).
#[derive(Clone, Default)]
struct Stopped {
    flag: Arc<AtomicBool>,
}

impl Stopped {
    fn get(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// Sets the flag if dropped while armed.
struct Unfinished(Option<Arc<AtomicBool>>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

/// Sleeps `ms`, then reports it
#[mcp_tool(task = "optional")]
async fn sleepy(ms: u64, stopped: State<Stopped>) -> String {
    let mut guard = Unfinished(Some(stopped.flag.clone()));
    tokio::time::sleep(Duration::from_millis(ms)).await;
    guard.0 = None;
    format!("slept {ms} ms")
}

/// Always a task; fails as a tool
#[mcp_tool(task = "required")]
async fn doomed() -> Result<String, ToolError> {
    Err(ToolError::new("nothing to do"))
}

/// A task that panics
#[mcp_tool(task = "optional")]
async fn crash() -> String {
    panic!("crash always panics")
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Confirm {
    /// Go ahead?
    confirm: bool,
}

/// Asks twice at once, then once more
#[mcp_tool(task = "optional")]
async fn survey(ctx: Context) -> Result<String, ToolError> {
    let (a, b) = tokio::join!(
        ctx.elicit::<Confirm>("First?"),
        ctx.input("second").elicit::<Confirm>("Second?")
    );
    let c = ctx.input("second").elicit::<Confirm>("Third?").await?;
    let yes = |e: Elicitation<Confirm>| matches!(e, Elicitation::Accept(Confirm { confirm: true }));
    Ok(format!("{} {} {}", yes(a?), yes(b?), yes(c)))
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Name {
    name: String,
}

/// Asks for a name on the request, then works as a task
#[mcp_tool(task = "required", task_start = "explicit")]
async fn named_job(ctx: Context) -> Result<String, ToolError> {
    let name = match ctx.input("who").elicit::<Name>("Who?").await? {
        Elicitation::Accept(n) => n.name,
        other => return Ok(other.action().to_owned()),
    };
    let was = ctx.is_task();
    let started = ctx.start_task().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(format!("{name}: task before {was}, started {started}"))
}

fn caps(extra: Value) -> Value {
    let mut c = json!({"extensions": {TASKS: {}}});
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    meta(json!({ "io.modelcontextprotocol/clientCapabilities": c }))
}

fn builder(stopped: &Stopped) -> McpServerBuilder {
    McpServer::builder()
        .name("tasks")
        .tools(tools![sleepy, doomed, crash, survey, named_job])
        .state(stopped.clone())
        .task_poll_interval(Duration::from_millis(250))
}

/// A 2026-07-28 request's response message (with `_meta` declaring the extension unless
/// `params` has its own).
async fn rpc(url: &str, method: &str, mut params: Value) -> Value {
    if params.get("_meta").is_none() {
        params["_meta"] = caps(json!({}));
    }
    request(url, 1, method, params, &[], None).await.message()
}

/// Polls until the task is terminal (or `status`).
async fn until(url: &str, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let t = rpc(url, "tasks/get", json!({ "taskId": id })).await["result"].clone();
        let s = t["status"].as_str().unwrap_or_default().to_owned();
        if s == status || ["completed", "failed", "cancelled"].contains(&s.as_str()) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never reached {status}")
}

fn is_iso(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.starts_with("20")
    })
}

#[tokio::test]
async fn a_call_becomes_a_task_polled_to_its_result() {
    let stopped = Stopped::default();
    let server = start(builder(&stopped).task_ttl(Duration::from_secs(90)));
    let url = server.url();

    let d = rpc(&url, "server/discover", json!({})).await;
    assert_eq!(
        d["result"]["capabilities"]["extensions"],
        json!({ TASKS: {} })
    );

    let raw = request(
        &url,
        7,
        "tools/call",
        json!({"name": "sleepy", "arguments": {"ms": 300}, "_meta": caps(json!({}))}),
        &[],
        None,
    )
    .await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body.matches("resultType").count(), 1, "{}", raw.body);
    let created = raw.message()["result"].clone();
    assert_eq!(created["resultType"], "task", "{created}");
    assert_eq!(created["status"], "working");
    assert_eq!(created["ttlMs"], 90_000);
    assert_eq!(created["pollIntervalMs"], 250);
    assert!(is_iso(&created["createdAt"]) && is_iso(&created["lastUpdatedAt"]));
    for absent in [
        "result",
        "error",
        "inputRequests",
        "requestState",
        "task",
        "content",
    ] {
        assert!(created.get(absent).is_none(), "{absent}: {created}");
    }
    let id = created["taskId"].as_str().expect("an id").to_owned();
    assert!(id.len() >= 22, "128 random bits: {id}");

    // At once: the task exists and works.
    let now = rpc(&url, "tasks/get", json!({ "taskId": id })).await["result"].clone();
    assert_eq!(
        (now["resultType"].as_str(), now["status"].as_str()),
        (Some("complete"), Some("working"))
    );
    assert!(now.get("result").is_none());

    let done = until(&url, &id, "completed").await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["content"][0]["text"], "slept 300 ms");
    assert!(done["result"].get("_meta").is_none(), "{done}");
    assert!(!stopped.get());

    // The same tool, from a request without the extension: its own response.
    let sync = rpc(
        &url,
        "tools/call",
        json!({"name": "sleepy", "arguments": {"ms": 1}, "_meta": meta(json!({}))}),
    )
    .await;
    assert_eq!(sync["result"]["resultType"], "complete");
    assert_eq!(sync["result"]["content"][0]["text"], "slept 1 ms");

    // An older client, with a session: its own response too.
    let old = Client::connect(&server, V_LATEST).await;
    assert_eq!(
        text(&old.call("sleepy", json!({"ms": 1})).await),
        "slept 1 ms"
    );
    let r = old.rpc(3, "tasks/get", json!({ "taskId": id })).await;
    assert_eq!(r["error"]["code"], -32601, "{r}");
    server.stop().await;
}

#[tokio::test]
async fn errors_panics_and_the_extensions_gate() {
    let server = start(builder(&Stopped::default()));
    let url = server.url();

    // A tool error completes the task; a panic fails it.
    let id = rpc(&url, "tools/call", json!({"name": "doomed"})).await["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let t = until(&url, &id, "completed").await;
    assert_eq!(
        (t["status"].as_str(), t["result"]["isError"].as_bool()),
        (Some("completed"), Some(true)),
        "{t}"
    );
    assert_eq!(t["result"]["content"][0]["text"], "nothing to do");
    let id = rpc(&url, "tools/call", json!({"name": "crash"})).await["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let t = until(&url, &id, "failed").await;
    assert_eq!(t["status"], "failed", "{t}");
    assert_eq!(t["error"]["code"], -32603);
    assert!(
        t["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("tool `crash` failed unexpectedly (it panicked)")),
        "{t}"
    );
    assert!(t.get("result").is_none());

    // Without the extension: a required task is refused, naming it; tasks/* too.
    let plain = meta(json!({}));
    let r = request(
        &url,
        2,
        "tools/call",
        json!({"name": "doomed", "_meta": plain}),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    let e = &r.json()["error"];
    assert_eq!(e["code"], -32021);
    assert_eq!(
        e["data"],
        json!({"requiredCapabilities": {"extensions": { TASKS: {} }}})
    );
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("tool `doomed` needs the tasks extension")),
        "{e}"
    );
    for method in ["tasks/get", "tasks/update", "tasks/cancel"] {
        let r = request(
            &url,
            3,
            method,
            json!({"taskId": id, "inputResponses": {}, "_meta": meta(json!({}))}),
            &[],
            None,
        )
        .await;
        assert_eq!(
            (r.status, r.json()["error"]["code"].as_i64()),
            (400, Some(-32021)),
            "{method}"
        );
    }
    // Unknown ids, removed methods, a malformed update, a mismatched Mcp-Name.
    let r = rpc(&url, "tasks/get", json!({"taskId": "no-such-task"})).await;
    assert_eq!(r["error"]["code"], -32602);
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown task `no-such-task`"))
    );
    let r = rpc(&url, "tasks/cancel", json!({"taskId": "no-such-task"})).await;
    assert_eq!(r["error"]["code"], -32602);
    let r = rpc(&url, "tasks/get", json!({})).await;
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`params.taskId`")),
        "{r}"
    );
    let r = rpc(
        &url,
        "tasks/update",
        json!({"taskId": id, "inputResponses": 5}),
    )
    .await;
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("inputResponses")),
        "{r}"
    );
    for removed in ["tasks/result", "tasks/list"] {
        let r = request(
            &url,
            4,
            removed,
            json!({"taskId": id, "_meta": caps(json!({}))}),
            &[],
            None,
        )
        .await;
        assert_eq!(
            (r.status, r.json()["error"]["code"].as_i64()),
            (404, Some(-32601)),
            "{removed}"
        );
    }
    let r = request(
        &url,
        5,
        "tasks/get",
        json!({"taskId": id, "_meta": caps(json!({}))}),
        &[("mcp-name", Some("another-task"))],
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32020))
    );
    let r = request(
        &url,
        6,
        "tasks/get",
        json!({"taskId": id, "_meta": caps(json!({}))}),
        &[("mcp-name", None)],
        None,
    )
    .await;
    assert_eq!(r.json()["error"]["code"], -32020, "Mcp-Name is required");
    server.stop().await;
}

#[tokio::test]
async fn questions_wait_in_the_task_until_answered() {
    let server = start(builder(&Stopped::default()));
    let url = server.url();
    let with_elicitation = caps(json!({"elicitation": {}}));
    let id = rpc(
        &url,
        "tools/call",
        json!({"name": "survey", "_meta": with_elicitation}),
    )
    .await["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let mut t = until(&url, &id, "input_required").await;
    for _ in 0..50 {
        if t["inputRequests"].as_object().is_some_and(|m| m.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        t = rpc(&url, "tasks/get", json!({ "taskId": id })).await["result"].clone();
    }
    let asked = t["inputRequests"].as_object().expect("questions").clone();
    let keys: Vec<&String> = asked.keys().collect();
    assert_eq!(keys, ["elicitation-1", "second"], "{t}");
    assert_eq!(asked["second"]["method"], "elicitation/create");
    assert_eq!(asked["second"]["params"]["message"], "Second?");
    assert_eq!(
        asked["second"]["params"]["requestedSchema"]["required"],
        json!(["confirm"])
    );

    // One answer (and one to nothing asked): the other question is still open.
    let ack = rpc(
        &url,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {
            "elicitation-1": {"action": "accept", "content": {"confirm": true}},
            "never-asked": {"action": "accept"}}}),
    )
    .await;
    assert_eq!(ack["result"], json!({"resultType": "complete"}));
    let t = rpc(&url, "tasks/get", json!({ "taskId": id })).await["result"].clone();
    assert_eq!(t["status"], "input_required");
    assert_eq!(
        t["inputRequests"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["second".to_owned()])
    );
    rpc(
        &url,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {"second": {"action": "decline"}}}),
    )
    .await;
    // The third question reuses the tool's key `second`: the task issues a new one.
    let t = until(&url, &id, "input_required").await;
    let mut t = t;
    for _ in 0..50 {
        if t["inputRequests"].get("second-3").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        t = rpc(&url, "tasks/get", json!({ "taskId": id })).await["result"].clone();
    }
    assert_eq!(
        t["inputRequests"]["second-3"]["params"]["message"], "Third?",
        "{t}"
    );
    rpc(
        &url,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {"second-3": {"action": "accept", "content": {"confirm": true}}}}),
    )
    .await;
    let done = until(&url, &id, "completed").await;
    assert_eq!(
        done["result"]["content"][0]["text"], "true false true",
        "{done}"
    );

    // A task whose client cannot answer: the question fails the task with -32021.
    let id = rpc(&url, "tools/call", json!({"name": "survey"})).await["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let t = until(&url, &id, "failed").await;
    assert_eq!(t["error"]["code"], -32021, "{t}");
    server.stop().await;
}

#[tokio::test]
async fn cancellation_stops_the_work_and_is_idempotent() {
    let stopped = Stopped::default();
    let server = start(builder(&stopped));
    let url = server.url();
    let id = rpc(
        &url,
        "tools/call",
        json!({"name": "sleepy", "arguments": {"ms": 60_000}}),
    )
    .await["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let ack = rpc(&url, "tasks/cancel", json!({ "taskId": id })).await;
    assert_eq!(ack["result"], json!({"resultType": "complete"}));
    let t = rpc(&url, "tasks/get", json!({ "taskId": id })).await["result"].clone();
    assert_eq!(t["status"], "cancelled");
    for _ in 0..100 {
        if stopped.get() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stopped.get(), "the work was dropped");
    let again = rpc(&url, "tasks/cancel", json!({ "taskId": id })).await;
    assert_eq!(again["result"], json!({"resultType": "complete"}));
    server.stop().await;
}

#[tokio::test]
async fn a_tool_starts_its_task_after_asking_on_the_request() {
    let server = start(builder(&Stopped::default()));
    let url = server.url();
    let with_elicitation = caps(json!({"elicitation": {}}));
    let r1 = rpc(
        &url,
        "tools/call",
        json!({"name": "named_job", "_meta": with_elicitation}),
    )
    .await["result"]
        .clone();
    assert_eq!(r1["resultType"], "input_required", "{r1}");
    assert!(r1.get("taskId").is_none());
    let state = r1["requestState"].as_str().expect("state").to_owned();
    let r2 = rpc(
        &url,
        "tools/call",
        json!({"name": "named_job", "_meta": with_elicitation, "requestState": state,
               "inputResponses": {"who": {"action": "accept", "content": {"name": "Ada"}}}}),
    )
    .await["result"]
        .clone();
    assert_eq!(r2["resultType"], "task", "{r2}");
    assert!(r2.get("requestState").is_none() && r2.get("inputRequests").is_none());
    let id = r2["taskId"].as_str().expect("a task");
    let done = until(&url, id, "completed").await;
    assert_eq!(
        done["result"]["content"][0]["text"],
        "Ada: task before false, started true"
    );
    server.stop().await;
}

#[tokio::test]
async fn tasks_expire_and_are_bounded() {
    let stopped = Stopped::default();
    let server = start(
        builder(&stopped)
            .task_ttl(Duration::from_millis(300))
            .max_tasks(1),
    );
    let url = server.url();
    let id = rpc(
        &url,
        "tools/call",
        json!({"name": "sleepy", "arguments": {"ms": 60_000}}),
    )
    .await["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    // Full: an optional task runs on its own response, a required one is refused.
    let sync = rpc(
        &url,
        "tools/call",
        json!({"name": "sleepy", "arguments": {"ms": 1}}),
    )
    .await;
    assert_eq!(sync["result"]["content"][0]["text"], "slept 1 ms", "{sync}");
    let full = rpc(&url, "tools/call", json!({"name": "doomed"})).await;
    assert_eq!(full["error"]["code"], -32603);
    assert!(
        full["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("retry later"))
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let gone = rpc(&url, "tasks/get", json!({ "taskId": id })).await;
    assert_eq!(gone["error"]["code"], -32602, "{gone}");
    for _ in 0..100 {
        if stopped.get() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stopped.get(), "an expired task's work stops");
    // Room again (expired tasks are swept at most once a second).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let again = rpc(&url, "tools/call", json!({"name": "doomed"})).await;
    assert_eq!(again["result"]["resultType"], "task", "{again}");
    server.stop().await;
}

#[tokio::test]
async fn listeners_follow_their_tasks() {
    use futures_util::StreamExt as _;
    let server = start(builder(&Stopped::default()));
    let url = server.url();
    let id = rpc(
        &url,
        "tools/call",
        json!({"name": "sleepy", "arguments": {"ms": 300}}),
    )
    .await["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let listen = |caps: Value, task_ids: Value| {
        let url = url.clone();
        async move {
            let body = json!({"jsonrpc": "2.0", "id": 9, "method": "subscriptions/listen",
                "params": {"_meta": caps, "notifications": {"taskIds": task_ids}}});
            http()
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", REVISION)
                .header("mcp-method", "subscriptions/listen")
                .body(body.to_string())
                .send()
                .await
                .expect("listen")
        }
    };
    let refused = listen(meta(json!({})), json!([id])).await;
    assert_eq!(refused.status(), 400);
    let e: Value = refused.json().await.expect("json");
    assert_eq!(e["error"]["code"], -32021);

    let resp = listen(caps(json!({})), json!([id, "not-mine"])).await;
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream().map(|c| c.map(|b| b.to_vec())).boxed();
    let mut buf = String::new();
    let ack = next_event(&mut stream, &mut buf).await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(ack["params"]["notifications"], json!({ "taskIds": [id] }));
    let n = next_event(&mut stream, &mut buf).await;
    assert_eq!(n["method"], "notifications/tasks", "{n}");
    assert_eq!(n["params"]["taskId"], id.as_str());
    assert_eq!(n["params"]["status"], "completed");
    assert_eq!(n["params"]["result"]["content"][0]["text"], "slept 300 ms");
    assert_eq!(
        n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        9
    );
    drop(stream);
    server.stop().await;
}

#[tokio::test]
async fn a_task_belongs_to_its_caller() {
    let issuer = crate::auth::Issuer::start(&["k1"]);
    let oauth = issuer.oauth();
    let server = start(builder(&Stopped::default()).oauth(oauth));
    let url = server.url();
    let token = |sub: &str| {
        crate::auth::sign(
            "k1",
            "k1",
            &json!({"iss": crate::auth::ISS, "sub": sub, "aud": url, "iat": crate::auth::now(),
                    "exp": crate::auth::now() + 600}),
        )
    };
    let (ann, bob) = (token("ann"), token("bob"));
    let call = |bearer: String, method: &'static str, params: Value| {
        let url = url.clone();
        async move {
            let mut params = params;
            params["_meta"] = caps(json!({}));
            request(&url, 1, method, params, &[], Some(&bearer))
                .await
                .message()
        }
    };
    let id = call(
        ann.clone(),
        "tools/call",
        json!({"name": "sleepy", "arguments": {"ms": 5000}}),
    )
    .await["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let mine = call(ann.clone(), "tasks/get", json!({ "taskId": id })).await;
    assert_eq!(mine["result"]["status"], "working", "{mine}");
    for method in ["tasks/get", "tasks/cancel", "tasks/update"] {
        let theirs = call(
            bob.clone(),
            method,
            json!({"taskId": id, "inputResponses": {}}),
        )
        .await;
        assert_eq!(theirs["error"]["code"], -32602, "{method}: {theirs}");
        assert_eq!(
            theirs["error"]["message"],
            format!(
                "unknown task `{id}`: no task of this caller has that id (it may have expired)"
            )
        );
    }
    let still = call(ann.clone(), "tasks/get", json!({ "taskId": id })).await;
    assert_eq!(
        still["result"]["status"], "working",
        "bob's cancel did nothing"
    );
    call(ann, "tasks/cancel", json!({ "taskId": id })).await;
    server.stop().await;
}

#[test]
fn task_support_is_in_the_metadata() {
    use mcp_runtime::ToolDef as _;
    assert_eq!(sleepy::tool().meta().task, TaskSupport::Optional);
    assert_eq!(doomed::tool().meta().task, TaskSupport::Required);
    assert!(named_job::tool().meta().task_start_explicit);
    assert_eq!(
        Tool::builder("t")
            .task(TaskSupport::Required)
            .handler(|| async { "x" })
            .meta()
            .task,
        TaskSupport::Required
    );
}

/// Says yes to every question.
#[derive(Clone, Default)]
struct Agreeable {
    asked: Arc<std::sync::Mutex<Vec<Value>>>,
}

impl mcp_runtime::client::ClientHandler for Agreeable {
    fn capabilities(&self) -> Value {
        json!({"elicitation": {"form": {}}})
    }
    fn elicit(
        &self,
        params: Value,
    ) -> futures_util::future::BoxFuture<'_, Result<Value, mcp_runtime::client::RpcError>> {
        self.asked.lock().expect("lock").push(params);
        Box::pin(async { Ok(json!({"action": "accept", "content": {"confirm": true}})) })
    }
}

#[tokio::test]
async fn the_library_client_follows_tasks_to_their_results() {
    use mcp_runtime::client::{CallOptions, Client as McpClient, ClientError};
    let stopped = Stopped::default();
    let server = start(builder(&stopped));
    let handler = Agreeable::default();
    let client = McpClient::builder(server.url())
        .protocol_version(REVISION)
        .handler(handler.clone())
        .connect()
        .await
        .expect("connects");
    let r = client
        .call_tool("sleepy", json!({"ms": 100}))
        .await
        .expect("a task's result");
    assert_eq!((r.text().as_str(), r.is_error), ("slept 100 ms", false));
    // Three questions in two rounds, answered through the handler.
    let r = client.call_tool("survey", json!({})).await.expect("survey");
    assert_eq!(r.text(), "true true true");
    let asked: Vec<Value> = handler.asked.lock().expect("lock").clone();
    assert_eq!(
        asked
            .iter()
            .map(|p| p["message"].clone())
            .collect::<Vec<_>>(),
        [json!("First?"), json!("Second?"), json!("Third?")]
    );
    // A tool error, a panic (the task's JSON-RPC error).
    let r = client.call_tool("doomed", json!({})).await.expect("doomed");
    assert_eq!((r.text().as_str(), r.is_error), ("nothing to do", true));
    match client.call_tool("crash", json!({})).await {
        Err(ClientError::Rpc(e)) => assert_eq!(e.code, -32603, "{e:?}"),
        other => panic!("a failed task is its error: {other:?}"),
    }
    // Giving up cancels the task on the server.
    let gave_up = client
        .call_tool_with(
            "sleepy",
            json!({"ms": 60_000}),
            &CallOptions::default().timeout(Duration::from_millis(400)),
        )
        .await;
    assert!(
        matches!(gave_up, Err(ClientError::Timeout(_))),
        "{gave_up:?}"
    );
    for _ in 0..100 {
        if stopped.get() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stopped.get(), "the server stopped the work");
    server.stop().await;
}
