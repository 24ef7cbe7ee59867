//! One pipe to a server for every message: the stdio transport, where the server is a child
//! process and messages are lines of JSON on its standard input and output; and the legacy
//! HTTP+SSE transport (2024-11-05), where the server's messages come on one event stream and
//! the client's are POSTed to the endpoint it names. Each request's answer (and its progress)
//! is routed back to the call waiting for it; the server's own requests and notifications go
//! to the client's background reader, as a server's GET stream would over Streamable HTTP. A
//! child's standard error is logged (`tracing`, target `mcp_runtime::client::stdio`) and its
//! last lines explain an exit. The child is killed when the client is dropped or closed.

use std::collections::{HashMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use super::ClientError;

/// The longest line read from the server (16 MiB, as an SSE event over HTTP).
const MAX_LINE: usize = 16 << 20;
/// How many messages may wait for a reader before more are dropped.
const QUEUE: usize = 1024;
/// How many lines of the server's standard error are kept to explain an exit.
const STDERR_TAIL: usize = 20;

/// How to start a stdio server: a command, its arguments, environment and folder.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StdioCommand {
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables added to (or replacing those of) the client's environment.
    pub env: Vec<(String, String)>,
    /// The folder it runs in (default: the client's).
    pub cwd: Option<std::path::PathBuf>,
}

impl StdioCommand {
    /// `command` with no arguments.
    pub fn new(command: impl Into<String>) -> Self {
        StdioCommand {
            command: command.into(),
            ..Default::default()
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the server.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// How it is named in messages: the command and its arguments.
    pub(crate) fn label(&self) -> String {
        std::iter::once(self.command.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A running stdio server.
pub(crate) struct Pipe {
    label: String,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    /// The calls waiting for an answer, by request id.
    waiting: Mutex<HashMap<u64, mpsc::Sender<Value>>>,
    /// What the server sends outside a call, until the client's reader takes it.
    general: Mutex<Option<mpsc::Receiver<Value>>>,
    child: Mutex<Option<Child>>,
    /// Why the server is gone, once it is.
    gone: Mutex<Option<String>>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    /// Resolves when the server's standard error has ended (read whole).
    stderr_done: Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
    /// The legacy transport's reader of the event stream (aborted at close).
    reader: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pipe {
    /// Starts the server.
    pub(crate) fn spawn(cmd: &StdioCommand) -> Result<Arc<Pipe>, ClientError> {
        let label = cmd.label();
        let mut command = Command::new(&cmd.command);
        command
            .args(&cmd.args)
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &cmd.cwd {
            command.current_dir(dir);
        }
        let mut child = command.spawn().map_err(|e| {
            ClientError::Config(format!("cannot start the stdio server `{label}`: {e}"))
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ClientError::Config(format!(
                "the stdio server `{label}` has no pipes"
            )));
        };
        let (general_tx, general_rx) = mpsc::channel(QUEUE);
        let (stderr_tx, stderr_rx) = tokio::sync::oneshot::channel();
        let pipe = Arc::new(Pipe {
            label,
            stdin: tokio::sync::Mutex::new(Some(stdin)),
            waiting: Mutex::new(HashMap::new()),
            general: Mutex::new(Some(general_rx)),
            child: Mutex::new(Some(child)),
            gone: Mutex::new(None),
            stderr_tail: Arc::default(),
            stderr_done: Mutex::new(Some(stderr_rx)),
            reader: Mutex::new(None),
        });
        let tail = pipe.stderr_tail.clone();
        let name = pipe.label.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "mcp_runtime::client::stdio", server = %name, "{line}");
                let mut t = lock(&tail);
                if t.len() == STDERR_TAIL {
                    t.pop_front();
                }
                t.push_back(line);
            }
            let _ = stderr_tx.send(());
        });
        let reader = Arc::downgrade(&pipe);
        tokio::spawn(async move {
            let mut out = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                let read = (&mut out)
                    .take(MAX_LINE as u64 + 1)
                    .read_until(b'\n', &mut line)
                    .await;
                let Some(pipe) = reader.upgrade() else { return };
                match read {
                    Ok(0) | Err(_) => {
                        pipe.ended("its output ended").await;
                        return;
                    }
                    Ok(_) if line.len() > MAX_LINE => {
                        pipe.ended(&format!("it sent a line longer than {MAX_LINE} bytes"))
                            .await;
                        return;
                    }
                    Ok(_) => {}
                }
                let text = String::from_utf8_lossy(&line);
                if text.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Array(items)) => {
                        for m in items {
                            pipe.route(m, &general_tx);
                        }
                    }
                    Ok(m) => pipe.route(m, &general_tx),
                    Err(e) => tracing::warn!(
                        target: "mcp_runtime::client::stdio",
                        server = %pipe.label,
                        "the server wrote something that is not JSON-RPC on its output ({e}); ignored"
                    ),
                }
            }
        });
        Ok(pipe)
    }

    /// The legacy HTTP+SSE transport to `url`: its event stream opened (with `headers`), its
    /// `endpoint` event awaited (10 s; on the server's own origin only, where the client's
    /// credentials may go); `Ok(None)` when `url` does not answer with such a stream.
    pub(crate) async fn legacy_sse(
        http: &reqwest::Client,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Option<(Arc<Pipe>, String)>, ClientError> {
        let mut rb = http.get(url).header("accept", "text/event-stream");
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let Ok(mut resp) = rb.send().await else {
            return Ok(None);
        };
        let is_stream = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
        if !resp.status().is_success() || !is_stream {
            return Ok(None);
        }
        let mut parser = super::sse::Parser::default();
        let mut early = Vec::new();
        let endpoint = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                let Ok(Some(chunk)) = resp.chunk().await else {
                    return None;
                };
                for e in parser.feed(&chunk).ok()? {
                    if e.event == "endpoint" {
                        return Some(e.data);
                    }
                    early.push(e);
                }
            }
        })
        .await
        .ok()
        .flatten();
        let Some(endpoint) = endpoint else {
            return Ok(None);
        };
        let base = url::Url::parse(url)
            .map_err(|e| ClientError::Config(format!("`{url}` is not a URL: {e}")))?;
        let endpoint = base.join(endpoint.trim()).map_err(|e| {
            ClientError::Protocol(format!(
                "the server's legacy SSE endpoint `{}` is not a URL ({e})",
                super::auth::printable(endpoint.trim())
            ))
        })?;
        if endpoint.origin() != base.origin() {
            return Err(ClientError::Protocol(format!(
                "the server's legacy SSE endpoint {endpoint} is on another origin than {url}: \
                 refusing to send messages (and credentials) there"
            )));
        }
        let (general_tx, general_rx) = mpsc::channel(QUEUE);
        let pipe = Arc::new(Pipe {
            label: url.to_owned(),
            stdin: tokio::sync::Mutex::new(None),
            waiting: Mutex::new(HashMap::new()),
            general: Mutex::new(Some(general_rx)),
            child: Mutex::new(None),
            gone: Mutex::new(None),
            stderr_tail: Arc::default(),
            stderr_done: Mutex::new(None),
            reader: Mutex::new(None),
        });
        let weak = Arc::downgrade(&pipe);
        let task = tokio::spawn(async move {
            let deliver = |events: Vec<super::sse::Event>| {
                let Some(pipe) = weak.upgrade() else {
                    return false;
                };
                for e in events {
                    if e.event != "message" || e.data.is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<Value>(&e.data) {
                        Ok(m) => pipe.route(m, &general_tx),
                        Err(err) => {
                            tracing::warn!(target: "mcp_runtime::client", "the legacy SSE stream sent an event that is not JSON ({err}); ignored")
                        }
                    }
                }
                true
            };
            if !deliver(early) {
                return;
            }
            loop {
                let next = resp.chunk().await;
                let events = match next {
                    Ok(Some(chunk)) => parser.feed(&chunk).unwrap_or_default(),
                    _ => break,
                };
                if !deliver(events) {
                    return;
                }
            }
            if let Some(pipe) = weak.upgrade() {
                pipe.ended("its event stream ended").await;
            }
        });
        *lock(&pipe.reader) = Some(task);
        Ok(Some((pipe, endpoint.to_string())))
    }

    /// Registers a request (`id`) waiting for its answer; `None` for other messages.
    pub(crate) fn expect_answer(&self, message: &Value) -> Option<mpsc::Receiver<Value>> {
        let id = message.get("id").and_then(Value::as_u64)?;
        message.get("method")?;
        let (tx, rx) = mpsc::channel(QUEUE);
        lock(&self.waiting).insert(id, tx);
        Some(rx)
    }

    /// Forgets a request whose message could not be delivered.
    pub(crate) fn forget(&self, message: &Value) {
        if let Some(id) = message.get("id").and_then(Value::as_u64) {
            lock(&self.waiting).remove(&id);
        }
    }

    /// A message from the server: to the call it answers (or whose progress it reports), else
    /// to the background reader.
    fn route(&self, msg: Value, general: &mpsc::Sender<Value>) {
        let target = if msg.get("method").is_some() {
            // Progress for a call goes with its answer (the client sets the call's id as
            // token), as on an HTTP answer's stream.
            msg.pointer("/params/progressToken")
                .and_then(Value::as_u64)
                .filter(|_| msg.get("id").is_none())
                .and_then(|t| lock(&self.waiting).get(&t).cloned())
        } else {
            msg.get("id")
                .and_then(Value::as_u64)
                .and_then(|id| lock(&self.waiting).remove(&id))
        };
        let sent = match target {
            Some(tx) => tx.try_send(msg),
            None => general.try_send(msg),
        };
        if sent.is_err() {
            tracing::warn!(target: "mcp_runtime::client::stdio", server = %self.label, "a message from the server was dropped: nobody reads them fast enough");
        }
    }

    /// The server is gone: every waiting call learns why.
    async fn ended(&self, why: &str) {
        let status = {
            let child = lock(&self.child).take();
            match child {
                Some(mut c) => {
                    match tokio::time::timeout(std::time::Duration::from_millis(500), c.wait())
                        .await
                    {
                        Ok(Ok(s)) => format!(" ({s})"),
                        _ => String::new(),
                    }
                }
                None => String::new(),
            }
        };
        // Its last words are read before they are reported.
        let done = lock(&self.stderr_done).take();
        if let Some(done) = done {
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), done).await;
        }
        let tail: Vec<String> = lock(&self.stderr_tail).iter().cloned().collect();
        let mut reason = if lock(&self.reader).is_some() {
            format!("the server at {} stopped: {why}", self.label)
        } else {
            format!("the stdio server `{}` stopped: {why}{status}", self.label)
        };
        if !tail.is_empty() {
            reason.push_str("; its last words: ");
            reason.push_str(&crate::client::auth::printable(&tail.join(" | ")));
        }
        *lock(&self.gone) = Some(reason);
        lock(&self.waiting).clear();
    }

    /// Why the server is gone (or a generic reason while it is still going away).
    pub(crate) fn gone_reason(&self) -> String {
        lock(&self.gone)
            .clone()
            .unwrap_or_else(|| format!("the stdio server `{}` stopped", self.label))
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Writes a message; for a request (`id`), returns the channel its answer arrives on.
    pub(crate) async fn send(
        &self,
        message: &Value,
    ) -> Result<Option<mpsc::Receiver<Value>>, ClientError> {
        if lock(&self.gone).is_some() {
            return Err(ClientError::Protocol(self.gone_reason()));
        }
        let is_request = message.get("method").is_some();
        let rx = match message.get("id").and_then(Value::as_u64) {
            Some(id) if is_request => {
                let (tx, rx) = mpsc::channel(QUEUE);
                lock(&self.waiting).insert(id, tx);
                Some(rx)
            }
            _ => None,
        };
        let mut line = serde_json::to_vec(message)
            .map_err(|e| ClientError::Protocol(format!("unserializable message: {e}")))?;
        line.push(b'\n');
        let mut stdin = self.stdin.lock().await;
        let Some(w) = stdin.as_mut() else {
            return Err(ClientError::Protocol(self.gone_reason()));
        };
        let written = async {
            w.write_all(&line).await?;
            w.flush().await
        }
        .await;
        if let Err(e) = written {
            drop(stdin);
            // The server is gone: the reader is about to say why (its exit, its last words).
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
            while lock(&self.gone).is_none() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            return Err(ClientError::Protocol(match lock(&self.gone).clone() {
                Some(reason) => reason,
                None => format!("{} ({e})", self.gone_reason()),
            }));
        }
        Ok(rx)
    }

    /// The background reader's messages (once).
    pub(crate) fn take_general(&self) -> Option<mpsc::Receiver<Value>> {
        lock(&self.general).take()
    }

    /// Ends the server: its input is closed (the specification's shutdown), and it is killed
    /// if it has not exited within two seconds.
    pub(crate) async fn close(&self) {
        if let Some(task) = lock(&self.reader).take() {
            task.abort();
        }
        drop(self.stdin.lock().await.take());
        let child = lock(&self.child).take();
        if let Some(mut c) = child
            && tokio::time::timeout(std::time::Duration::from_secs(2), c.wait())
                .await
                .is_err()
        {
            let _ = c.kill().await;
        }
    }
}
