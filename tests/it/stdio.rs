//! stdio, both sides, with real processes: the examples started with `--stdio` or
//! `MCP_TRANSPORT=stdio` speak newline-delimited JSON-RPC on their standard streams (logs on
//! standard error, nothing else on the output), refuse bad lines and go on, exit when their
//! input ends; the client starts them from a command, answers their requests (sampling,
//! elicitation) and passes on their progress and logs; a server that dies is reported with its
//! last words; and the CLI reaches a `command` entry of an `mcpServers` file.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use mcp_runtime::client::{CallOptions, Client, ClientHandler, RpcError, StdioCommand};
use serde_json::{Value, json};

use crate::examples::example;

/// A stdio server, driven line by line.
struct Child {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Child {
    fn start(name: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
        let mut cmd = Command::new(example(name));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starts");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        Child { child, out }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(line.as_bytes()).expect("write");
        stdin.write_all(b"\n").expect("write");
        stdin.flush().expect("flush");
    }

    /// The next line of output, which must be a JSON-RPC message.
    fn next(&mut self) -> Value {
        let mut line = String::new();
        self.out.read_line(&mut line).expect("read");
        assert!(!line.is_empty(), "the server's output ended");
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not JSON on the output ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        v
    }

    /// Reads until the answer to `id` (notifications before it are returned too).
    fn answer(&mut self, id: u64) -> (Value, Vec<Value>) {
        let mut others = Vec::new();
        loop {
            let v = self.next();
            if v["id"] == json!(id) && v.get("method").is_none() {
                return (v, others);
            }
            others.push(v);
        }
    }

    /// Closes the input; the process must exit on its own, successfully; its stderr.
    fn finish(mut self) -> String {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "exit: {status}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "still running after its input ended"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut self.out, &mut rest);
        assert!(
            rest.lines()
                .all(|l| serde_json::from_str::<Value>(l).is_ok()),
            "only JSON-RPC on the output: {rest}"
        );
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        err
    }
}

fn init(c: &mut Child) -> Value {
    c.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "stdio-test", "version": "1"}}})
        .to_string(),
    );
    let (init, _) = c.answer(1);
    c.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    init
}

#[test]
fn a_server_speaks_stdio_with_logs_on_stderr_and_survives_bad_lines() {
    // The OAuth example over stdio: no sign-in, the local user (named here) is the caller.
    let mut c = Child::start(
        "quickstart_oauth",
        &["--stdio"],
        &[("MCP_STDIO_USER", "alice")],
    );
    let init = init(&mut c);
    assert_eq!(init["result"]["serverInfo"]["name"], "quickstart-oauth");
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");

    c.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin-action","arguments":{"action":"deploy"}}}"#);
    let (r, _) = c.answer(2);
    assert_eq!(
        r["result"]["content"][0]["text"], "alice performed `deploy`",
        "{r}"
    );

    // Not JSON: a parse error (id null), and the server reads on.
    c.send("this is not json");
    let e = c.next();
    assert_eq!(e["error"]["code"], -32700, "{e}");
    assert_eq!(e["id"], Value::Null);
    // Longer than the body limit (4 MiB by default): refused, skipped whole, and reading goes on.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"admin-action","arguments":{{"action":"{}"}}}}}}"#,
        "x".repeat(5 << 20)
    );
    c.send(&huge);
    let e = c.next();
    assert_eq!(e["error"]["code"], -32600, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("larger than")),
        "{e}"
    );
    // A request for a tool that does not exist: the error, and the one after is answered.
    c.send(
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#,
    );
    let (r, _) = c.answer(4);
    assert_eq!(r["error"]["code"], -32602, "{r}");
    c.send(r#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#);
    let (r, _) = c.answer(5);
    assert_eq!(r["result"], json!({}));

    let stderr = c.finish();
    assert!(
        stderr.contains("MCP server `quickstart-oauth` on stdio"),
        "logs go to stderr: {stderr}"
    );
}

#[test]
fn mcp_transport_stdio_serves_the_local_user_with_every_scope() {
    let mut c = Child::start(
        "quickstart_oauth",
        &[],
        &[("MCP_TRANSPORT", "stdio"), ("USER", "carol")],
    );
    init(&mut c);
    c.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get-user-info","arguments":{}}}"#);
    let (r, _) = c.answer(2);
    let info: Value =
        serde_json::from_str(r["result"]["content"][0]["text"].as_str().expect("text"))
            .expect("json");
    assert_eq!(info["userId"], "carol", "the OS user: {info}");
    assert_eq!(
        info["scopes"],
        json!(["admin"]),
        "every advertised scope: {info}"
    );
    c.finish();

    // An unknown transport is named, and nothing starts.
    let out = Command::new(example("quickstart_oauth"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MCP_TRANSPORT", "carrier-pigeon")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("MCP_TRANSPORT") && err.contains("use stdio or http"),
        "{err}"
    );
}

/// Answers sampling and elicitation; records progress and logs.
#[derive(Default, Clone)]
struct Recorder {
    seen: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Recorder {
    fn capabilities(&self) -> Value {
        json!({"sampling": {}, "elicitation": {}})
    }

    fn create_message(&self, _params: Value) -> BoxFuture<'_, Result<Value, RpcError>> {
        Box::pin(async {
            Ok(
                json!({"role": "assistant", "content": {"type": "text", "text": "forty-two"},
                      "model": "stub", "stopReason": "endTurn"}),
            )
        })
    }

    fn elicit(&self, _params: Value) -> BoxFuture<'_, Result<Value, RpcError>> {
        Box::pin(async {
            Ok(
                json!({"action": "accept", "content": {"username": "ada", "email": "ada@example.com"}}),
            )
        })
    }

    fn progress(&self, params: &Value) {
        self.seen
            .lock()
            .expect("lock")
            .push(format!("progress {}", params["progress"]));
    }

    fn log(&self, params: &Value) {
        self.seen
            .lock()
            .expect("lock")
            .push(format!("log {}", params["data"]));
    }
}

#[tokio::test]
async fn the_client_starts_a_stdio_server_and_answers_its_requests() {
    let recorder = Recorder::default();
    let client = Client::stdio(
        StdioCommand::new(example("conformance").display().to_string()).arg("--stdio"),
    )
    .handler(recorder.clone())
    .connect()
    .await
    .expect("connects");
    assert_eq!(client.server().name(), "mcp-runtime-conformance");
    assert!(client.url().starts_with("stdio:"), "{}", client.url());

    let r = client
        .call_tool("test_sampling", json!({"prompt": "the answer?"}))
        .await
        .expect("sampling");
    assert_eq!(r.text(), "LLM response: forty-two");
    let r = client
        .call_tool("test_elicitation", json!({"message": "who are you?"}))
        .await
        .expect("elicitation");
    assert_eq!(
        r.text(),
        "User response: action=accept, content={username: ada, email: ada@example.com}"
    );
    let r = client
        .call_tool_with(
            "test_tool_with_progress",
            json!({}),
            &CallOptions::default().progress(true),
        )
        .await
        .expect("progress");
    assert_eq!(r.text(), "Progress reporting completed");
    client
        .request("logging/setLevel", json!({"level": "info"}))
        .await
        .expect("level");
    let r = client
        .call_tool("test_tool_with_logging", json!({}))
        .await
        .expect("logging");
    assert_eq!(r.text(), "Tool with logging executed successfully");
    // Calls run concurrently over the one pipe, each answer to its caller.
    let (a, b) = tokio::join!(
        client.call_tool("test_simple_text", json!({})),
        client.read_resource("test://static-text"),
    );
    assert!(a.expect("text").text().contains("simple text"));
    assert!(b.expect("resource").to_string().contains("static text"));
    let seen = recorder.seen.lock().expect("lock").clone();
    assert!(
        seen.iter().filter(|s| s.starts_with("progress")).count() >= 2,
        "{seen:?}"
    );
    // Logs travel outside the call's answer; give the reader a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = recorder.seen.lock().expect("lock").clone();
    assert!(
        seen.iter().any(|s| s.contains("Tool execution completed")),
        "{seen:?}"
    );
    client.close().await;
}

#[tokio::test]
async fn a_stdio_server_that_dies_is_reported_with_its_last_words() {
    let e = Client::stdio(StdioCommand::new("sh").args([
        "-c",
        "echo starting >&2; echo 'NOTES_DIR is not set' >&2; exit 3",
    ]))
    .connect()
    .await
    .expect_err("dead");
    let msg = e.to_string();
    assert!(msg.contains("exit status: 3"), "{msg}");
    assert!(msg.contains("NOTES_DIR is not set"), "{msg}");
    // A command that does not exist.
    let e = Client::stdio(StdioCommand::new("/nonexistent/mcp-server"))
        .connect()
        .await
        .expect_err("missing");
    assert!(
        e.to_string()
            .contains("cannot start the stdio server `/nonexistent/mcp-server`"),
        "{e}"
    );
    // Chatter on the output that is not JSON-RPC is ignored, and the real answer read.
    let script = r#"echo 'hello, I am a banner'; read line; echo '{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"sh","version":"0"}}}'; read line; read line; echo '{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}'; read line"#;
    let client = Client::stdio(StdioCommand::new("sh").args(["-c", script]))
        .connect()
        .await
        .expect("connects past the banner");
    assert_eq!(client.server().name(), "sh");
    assert!(client.list_tools().await.expect("tools").is_empty());
    client.close().await;
}

#[test]
fn the_cli_reaches_a_command_entry() {
    let dir = std::env::temp_dir().join(format!("mcp-stdio-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("mcp.json"),
        json!({"mcpServers": {"local": {
            "command": example("quickstart_oauth"),
            "args": ["--stdio"],
            "env": {"MCP_STDIO_USER": "bob"}
        }}})
        .to_string(),
    )
    .expect("config");
    let mcp = crate::cli::mcp_binary();
    let run = |args: &[&str]| {
        let out = Command::new(&mcp)
            .args(args)
            .current_dir(&dir)
            .env("HOME", &dir)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["call", "local", "admin-action", "--arg", "action=ship"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out.trim(), "bob performed `ship`");
    let (code, out, _) = run(&["servers"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("stdio:") && out.contains("none (stdio)"),
        "{out}"
    );
    let (code, out, _) = run(&["login", "local"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("a stdio server"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}
