//! A connected client: starting (`initialize`, or `server/discover` on 2026-07-28), requests
//! with ids and their headers, JSON answers (SSE ones are read in `stream.rs`), 401/403 passed
//! to the authenticator, an expired session re-initialized once, a refused revision
//! renegotiated, input-required results answered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::options::CallOptions;
use serde_json::{Value, json};

use super::ClientError;
use super::auth::{Authenticator, Challenge};
use super::handler::ClientHandler;
use super::stateless;
use super::transport::{Reply, Transport};
use super::types::{PROTOCOL_VERSIONS, RpcError, ServerInfo, ToolInfo};

/// Most rounds of input a request may ask for (2026-07-28 input-required results).
const MAX_INPUT_ROUNDS: u32 = 8;
// JSON-RPC: the server does not speak the requested revision (`data.supported` lists those it
// does).
use crate::model::rpc::code::UNSUPPORTED_PROTOCOL_VERSION as UNSUPPORTED_VERSION;

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) auth: Arc<dyn Authenticator>,
    pub(crate) handler: Arc<dyn ClientHandler>,
    pub(crate) client_info: Value,
    pub(crate) extra_headers: Vec<(String, String)>,
    /// The revision spoken now: the one offered, or the one the server asked for.
    pub(crate) version: RwLock<String>,
    pub(crate) session: RwLock<Option<String>>,
    /// Tools' input schemas by name, from the last listing (for `Mcp-Param-*` headers).
    pub(crate) schemas: RwLock<HashMap<String, Value>>,
    pub(crate) server: RwLock<Option<ServerInfo>>,
    pub(crate) next_id: AtomicU64,
    pub(crate) listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A client connected to one MCP server. Cheap to clone; requests may run concurrently.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.transport.url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The server's identity and capabilities, from `initialize`.
    pub fn server(&self) -> ServerInfo {
        read(&self.inner.server).clone().unwrap_or_default()
    }

    /// The MCP endpoint's URL.
    pub fn url(&self) -> &str {
        &self.inner.transport.url
    }

    /// The session id the server assigned, if any.
    pub fn session_id(&self) -> Option<String> {
        read(&self.inner.session).clone()
    }

    /// Whether requests go without a session (the 2026-07-28 revision).
    pub fn is_stateless(&self) -> bool {
        stateless::is_stateless(&read(&self.inner.version))
    }

    /// The protocol revision in use.
    pub fn protocol_version(&self) -> String {
        read(&self.inner.version).clone()
    }

    /// Whether a listing told this client `tool`'s input schema.
    pub(crate) fn knows_schema(&self, tool: &str) -> bool {
        read(&self.inner.schemas).contains_key(tool)
    }

    pub(crate) fn remember_schemas(&self, tools: &[ToolInfo]) {
        let mut map = self
            .inner
            .schemas
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for t in tools {
            map.insert(t.name.clone(), t.input_schema.clone());
        }
    }

    /// Starts talking: `initialize` on the revisions with sessions, `server/discover` (if
    /// the server has it) on 2026-07-28.
    pub(crate) async fn start(&self) -> Result<ServerInfo, ClientError> {
        if !self.is_stateless() {
            return self.initialize().await;
        }
        match self.request("server/discover", json!({})).await {
            Ok(r) => {
                let mut implementation = r
                    .get("serverInfo")
                    .or_else(|| r.pointer("/_meta/io.modelcontextprotocol~1serverInfo"))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                implementation.retain(|_, v| !v.is_null());
                let implementation =
                    serde_json::from_value(Value::Object(implementation)).unwrap_or_default();
                let info = ServerInfo {
                    protocol_version: self.protocol_version(),
                    capabilities: r
                        .get("capabilities")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    implementation,
                    instructions: r
                        .get("instructions")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                };
                *self
                    .inner
                    .server
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Some(info.clone());
                Ok(info)
            }
            // `server/discover` is optional.
            Err(ClientError::Rpc(e)) if e.code == -32601 => Ok(ServerInfo {
                protocol_version: self.protocol_version(),
                ..Default::default()
            }),
            Err(e) => Err(e),
        }
    }

    /// `initialize` and `notifications/initialized`: negotiates the revision.
    pub(crate) async fn initialize(&self) -> Result<ServerInfo, ClientError> {
        *self
            .inner
            .session
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
        *self
            .inner
            .server
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
        let offered = read(&self.inner.version).clone();
        let params = json!({
            "protocolVersion": offered,
            "capabilities": self.inner.handler.capabilities(),
            "clientInfo": self.inner.client_info,
        });
        let result = self
            .request_with("initialize", params, &CallOptions::default())
            .await?;
        let info: ServerInfo = serde_json::from_value(result).map_err(|e| {
            ClientError::Protocol(format!("the server's initialize answer is malformed ({e})"))
        })?;
        // The legacy HTTP+SSE transport's servers speak 2024-11-05, whose messages the client
        // reads as 2025-03-26's.
        let legacy = self.inner.transport.is_legacy() && info.protocol_version == "2024-11-05";
        if !legacy && !PROTOCOL_VERSIONS.contains(&info.protocol_version.as_str()) {
            return Err(ClientError::UnsupportedVersion(info.protocol_version));
        }
        *self
            .inner
            .server
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(info.clone());
        self.notify("notifications/initialized", json!({})).await?;
        Ok(info)
    }

    /// Sends a request and returns its `result`.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        self.request_with(method, params, &CallOptions::default())
            .await
    }

    /// [`request`](Self::request) with a timeout, progress or cancellation. On 2026-07-28, a
    /// result that asks for input (sampling, elicitation, roots) is answered through the
    /// handler and the request sent again, until it completes; a task (the tasks extension,
    /// which every request declares) is polled to its end, its questions answered through the
    /// handler, and cancelled when the timeout or the token ends the wait.
    pub async fn request_with(
        &self,
        method: &str,
        mut params: Value,
        opts: &CallOptions,
    ) -> Result<Value, ClientError> {
        if !params.is_object() {
            params = json!({});
        }
        let (mut rounds, mut renegotiated) = (0, false);
        loop {
            let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
            let mut p = params.clone();
            if opts.progress {
                p["_meta"]["progressToken"] = json!(id);
            }
            if self.is_stateless() {
                stateless::add_meta(
                    &mut p,
                    &self.protocol_version(),
                    // Tasks are followed to their end (see `tasks`), so every request may
                    // get one.
                    &super::types::declare_tasks(&self.inner.handler.capabilities()),
                    &self.inner.client_info,
                );
            }
            let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": p});
            let result = match self.bounded(id, &message, method, opts).await {
                Err(ClientError::Rpc(e)) if e.code == UNSUPPORTED_VERSION && !renegotiated => {
                    renegotiated = true;
                    self.renegotiate(&e, method).await?;
                    if method == "initialize" {
                        params["protocolVersion"] = json!(self.protocol_version());
                    }
                    continue;
                }
                other => other?,
            };
            match result.get("resultType").and_then(Value::as_str) {
                Some("input_required") => {}
                Some("task") => return self.follow_task(&result, opts).await,
                _ => return Ok(result),
            }
            rounds += 1;
            if rounds > MAX_INPUT_ROUNDS {
                return Err(ClientError::Protocol(format!(
                    "`{method}` asked for input {MAX_INPUT_ROUNDS} times without completing"
                )));
            }
            let requests = result
                .get("inputRequests")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            params["inputResponses"] =
                stateless::input_responses(&*self.inner.handler, &requests).await;
            // The state is echoed exactly, and only when given.
            match result.get("requestState") {
                Some(state) => params["requestState"] = state.clone(),
                None => {
                    if let Some(m) = params.as_object_mut() {
                        m.remove("requestState");
                    }
                }
            }
        }
    }

    /// One exchange, bounded by the options' timeout and cancellation.
    async fn bounded(
        &self,
        id: u64,
        message: &Value,
        method: &str,
        opts: &CallOptions,
    ) -> Result<Value, ClientError> {
        let exchange = self.exchange(id, message, method);
        let cancelled = async {
            match &opts.cancel {
                Some(t) => t.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let timeout = async {
            match opts.timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = exchange => r,
            () = cancelled => {
                self.cancel_request(id, "cancelled by the client").await;
                Err(ClientError::Cancelled)
            }
            () = timeout => {
                self.cancel_request(id, "timed out").await;
                Err(ClientError::Timeout(opts.timeout.unwrap_or_default()))
            }
        }
    }

    /// The server refused the revision: take the newest one it lists that this client
    /// speaks; a revision with sessions means `initialize` first.
    async fn renegotiate(&self, e: &RpcError, method: &str) -> Result<(), ClientError> {
        let supported: Vec<String> = e
            .data
            .as_ref()
            .and_then(|d| d.get("supported"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut ours =
            std::iter::once(stateless::STATELESS_VERSION).chain(PROTOCOL_VERSIONS.iter().copied());
        let Some(v) = ours.find(|v| supported.iter().any(|s| s == v)) else {
            return Err(ClientError::UnsupportedVersion(supported.join(", ")));
        };
        tracing::debug!(target: "mcp_runtime::client", "the server speaks {supported:?}: using {v}");
        *self
            .inner
            .version
            .write()
            .unwrap_or_else(PoisonError::into_inner) = v.to_owned();
        if !stateless::is_stateless(v) && method != "initialize" {
            Box::pin(self.initialize()).await?;
        }
        Ok(())
    }

    async fn cancel_request(&self, id: u64, reason: &str) {
        let _ = self
            .notify(
                "notifications/cancelled",
                json!({"requestId": id, "reason": reason}),
            )
            .await;
    }

    /// Sends a notification.
    pub async fn notify(&self, method: &str, mut params: Value) -> Result<(), ClientError> {
        if self.is_stateless() {
            stateless::add_meta(
                &mut params,
                &self.protocol_version(),
                &self.inner.handler.capabilities(),
                &self.inner.client_info,
            );
        }
        let message = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.post_one_way(&message).await
    }

    /// POSTs a notification or a response: 202 expected.
    pub(crate) async fn post_one_way(&self, message: &Value) -> Result<(), ClientError> {
        let mut retried = false;
        loop {
            let headers = self.headers_for("POST", Some(message)).await?;
            let resp = self.inner.transport.post(message, &headers).await?;
            match resp.reply {
                Reply::Refused {
                    status: 401,
                    challenge,
                    body,
                } => {
                    let c = challenge.unwrap_or_default();
                    if !retried && self.inner.auth.unauthorized(&c).await? {
                        retried = true;
                        continue;
                    }
                    return Err(ClientError::Unauthorized(describe(&c, &body)));
                }
                Reply::Refused { status, body, .. } => {
                    return Err(ClientError::Status { status, body });
                }
                _ => return Ok(()),
            }
        }
    }

    /// The headers of every request: credentials, the session, the negotiated revision.
    pub(crate) async fn headers(&self) -> Result<Vec<(String, String)>, ClientError> {
        self.headers_for("GET", None).await
    }

    /// [`headers`](Self::headers) for an HTTP `method` (a DPoP proof names it), and on
    /// 2026-07-28 those naming the message's method, item and designated arguments.
    async fn headers_for(
        &self,
        http_method: &str,
        message: Option<&Value>,
    ) -> Result<Vec<(String, String)>, ClientError> {
        let mut h = self
            .inner
            .auth
            .request_headers(http_method, &self.inner.transport.url)
            .await?;
        h.extend(self.inner.extra_headers.iter().cloned());
        if self.is_stateless() {
            h.push(("mcp-protocol-version".into(), self.protocol_version()));
            if let Some(m) = message
                && let Some(method) = m.get("method").and_then(Value::as_str)
            {
                let params = m.get("params").cloned().unwrap_or(Value::Null);
                let schema = params
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|_| method == "tools/call")
                    .and_then(|n| read(&self.inner.schemas).get(n).cloned());
                h.extend(stateless::headers(method, &params, schema.as_ref()));
            }
            return Ok(h);
        }
        if let Some(s) = read(&self.inner.session).as_ref() {
            h.push(("mcp-session-id".into(), s.clone()));
        }
        if let Some(info) = read(&self.inner.server).as_ref() {
            h.push(("mcp-protocol-version".into(), info.protocol_version.clone()));
        }
        Ok(h)
    }

    pub(crate) async fn exchange(
        &self,
        id: u64,
        message: &Value,
        method: &str,
    ) -> Result<Value, ClientError> {
        let (mut unauthorized, mut reinitialized) = (0, false);
        loop {
            let headers = self.headers_for("POST", Some(message)).await?;
            let resp = self.inner.transport.post(message, &headers).await?;
            if method == "initialize"
                && let Some(sid) = resp.session_id
            {
                *self
                    .inner
                    .session
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Some(sid);
            }
            match resp.reply {
                Reply::Refused {
                    status: 401,
                    challenge,
                    body,
                } => {
                    let c = challenge.unwrap_or_default();
                    if unauthorized < 2 && self.inner.auth.unauthorized(&c).await? {
                        unauthorized += 1;
                        continue;
                    }
                    return Err(ClientError::Unauthorized(describe(&c, &body)));
                }
                Reply::Refused {
                    status: 403,
                    challenge: Some(c),
                    body,
                } if c.error.as_deref() == Some("insufficient_scope") => {
                    // The authenticator counts step-ups and refuses past its limit.
                    if self.inner.auth.forbidden(&c).await? {
                        continue;
                    }
                    return Err(ClientError::Forbidden(describe(&c, &body)));
                }
                Reply::Refused { status: 404, .. }
                    if method != "initialize"
                        && !reinitialized
                        && read(&self.inner.session).is_some() =>
                {
                    // The session expired (or the server restarted): start a new one once.
                    reinitialized = true;
                    tracing::debug!(target: "mcp_runtime::client", "session expired; initializing again");
                    Box::pin(self.initialize()).await?;
                }
                Reply::Refused { status, body, .. } => {
                    // A JSON-RPC error in an HTTP error says more than the status.
                    return Err(match rpc_error_in(&body) {
                        Some(e) => ClientError::Rpc(e),
                        None => ClientError::Status { status, body },
                    });
                }
                Reply::Accepted => {
                    return Err(ClientError::Protocol(format!(
                        "the server accepted `{method}` without answering it"
                    )));
                }
                Reply::Json(v) => return response_of(id, v),
                Reply::Stream(s) => return self.read_stream(id, s).await,
            }
        }
    }

    /// Ends the session (`DELETE`) and the background stream.
    pub async fn close(self) {
        if let Some(t) = self
            .inner
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            t.abort();
        }
        if self.inner.transport.is_piped() {
            // A child's input is closed (and the child ended), a legacy stream dropped.
            self.inner.transport.delete(&[]).await;
        } else if read(&self.inner.session).is_some()
            && let Ok(h) = self.headers_for("DELETE", None).await
        {
            self.inner.transport.delete(&h).await;
        }
    }
}

pub(crate) fn read<T: Clone>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// The `result` of a response, or its error.
pub(crate) fn response_of(id: u64, v: Value) -> Result<Value, ClientError> {
    if v.get("id").and_then(Value::as_u64) != Some(id) {
        return Err(ClientError::Protocol(format!(
            "the server answered another request than {id}"
        )));
    }
    if let Some(e) = v.get("error") {
        let err: RpcError = serde_json::from_value(e.clone())
            .unwrap_or_else(|_| RpcError::new(-32603, format!("malformed error object: {e}")));
        return Err(ClientError::Rpc(err));
    }
    v.get("result")
        .cloned()
        .ok_or_else(|| ClientError::Protocol("a response without result or error".into()))
}

/// The JSON-RPC error object of an error body, if it is one.
fn rpc_error_in(body: &str) -> Option<RpcError> {
    let v: Value = serde_json::from_str(body).ok()?;
    serde_json::from_value(v.get("error")?.clone()).ok()
}

fn describe(c: &Challenge, body: &str) -> String {
    let mut s = c
        .error_description
        .clone()
        .or_else(|| c.error.clone())
        .unwrap_or_default();
    if s.is_empty() {
        s = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| {
                v.get("error_description")
                    .or_else(|| v.get("error"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "the server refused the request".into());
    }
    s
}
