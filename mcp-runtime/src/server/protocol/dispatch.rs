//! Method dispatch: transport-independent handling of MCP requests and notifications.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::extract::{ArgError, Context, ToolCall};
use crate::result::CallToolResult;
use crate::server::Inner;
use crate::server::call::CallState;
use crate::server::call::{ContextInner, LogLevel};
use crate::server::catalog::Catalog;
use crate::server::jsonrpc::{self, BodyStr, InObject, Reply, RpcError, code};
use crate::server::session::{RequestKey, Session};

/// Protocol versions this server speaks, newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// The newest supported protocol version, offered when a client asks for an unknown one.
pub const LATEST_PROTOCOL_VERSION: &str = SUPPORTED_PROTOCOL_VERSIONS[0];
/// The version assumed when a request carries no `MCP-Protocol-Version` header and no session.
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-03-26";

/// Maps a version string to the supported version it names.
pub(crate) fn supported_version(v: &str) -> Option<&'static str> {
    SUPPORTED_PROTOCOL_VERSIONS.into_iter().find(|s| *s == v)
}

/// Where a request came from and whether notifications can reach the client.
pub(crate) struct RequestScope {
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) version: &'static str,
    /// Whether the response can carry notifications (an SSE stream).
    pub(crate) notifies: bool,
    /// The authenticated caller, on a server with OAuth.
    pub(crate) auth: Option<crate::auth::Auth>,
    /// A 2026-07-28 request's `_meta` (no session: everything the request needs is here).
    pub(crate) meta: Option<super::modern::RequestMeta>,
}

/// The `initialize` result for a negotiated version.
pub(crate) fn initialize_result(inner: &Inner, version: &'static str) -> Reply {
    let catalog = inner.catalog.load();
    let mut info = Map::new();
    info.insert("name".into(), inner.info.name.clone().into());
    info.insert("version".into(), inner.info.version.clone().into());
    if let Some(t) = &inner.info.title {
        info.insert("title".into(), t.clone().into());
    }
    let mut result = Map::new();
    result.insert("protocolVersion".into(), version.into());
    result.insert("capabilities".into(), {
        // Subscriptions and list changes reach clients through sessions.
        let notifies = !inner.http.stateless;
        let mut caps = serde_json::json!({ "logging": {}, "tools": { "listChanged": notifies } });
        if !catalog.resources.is_empty() {
            caps["resources"] =
                serde_json::json!({ "subscribe": notifies, "listChanged": notifies });
        }
        if !catalog.prompts.is_empty() {
            caps["prompts"] = serde_json::json!({ "listChanged": notifies });
        }
        if completes(&catalog) {
            caps["completions"] = serde_json::json!({});
        }
        caps
    });
    result.insert("serverInfo".into(), Value::Object(info));
    if let Some(i) = &inner.info.instructions {
        result.insert("instructions".into(), i.clone().into());
    }
    Reply::ok(&result)
}

/// Negotiates the protocol version from `initialize` params.
pub(crate) fn negotiate(params: Option<&RawValue>) -> Result<&'static str, RpcError> {
    let params = jsonrpc::params_value(params);
    let requested = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RpcError::invalid_params("initialize: `params.protocolVersion` (a string) is required")
        })?;
    Ok(supported_version(requested).unwrap_or(LATEST_PROTOCOL_VERSION))
}

/// Handles one request other than `initialize`.
pub(crate) fn handle_request(
    inner: &Inner,
    scope: RequestScope,
    id: &Value,
    method: &str,
    params: Option<&RawValue>,
) -> Pending {
    let catalog = inner.catalog.load();
    let reply = match method {
        "ping" => Reply::Ok(Bytes::from_static(b"{}")),
        "tools/list" => list_tools(inner, &scope, &jsonrpc::params_value(params)),
        "tools/call" => return call_tool(inner, scope, id, params),
        "logging/setLevel" => set_level(&scope, &jsonrpc::params_value(params)),
        // Without resources there is no `resources` capability, and no such methods.
        "resources/list" if !catalog.resources.is_empty() => catalog.resources.list(
            false,
            &jsonrpc::params_value(params),
            visibility(inner, &scope).as_deref(),
        ),
        "resources/templates/list" if !catalog.resources.is_empty() => catalog.resources.list(
            true,
            &jsonrpc::params_value(params),
            visibility(inner, &scope).as_deref(),
        ),
        "resources/read" if !catalog.resources.is_empty() => {
            return read_resource(inner, scope, &jsonrpc::params_value(params));
        }
        "resources/subscribe" | "resources/unsubscribe" if !catalog.resources.is_empty() => {
            subscription(inner, &scope, method, &jsonrpc::params_value(params))
        }
        "prompts/list" if !catalog.prompts.is_empty() => catalog.prompts.list(
            &jsonrpc::params_value(params),
            visibility(inner, &scope).as_deref(),
        ),
        "prompts/get" if !catalog.prompts.is_empty() => {
            return get_prompt(inner, scope, &jsonrpc::params_value(params));
        }
        "completion/complete" if completes(&catalog) => {
            return complete(inner, scope, &jsonrpc::params_value(params));
        }
        "initialize" => Reply::Err(RpcError::invalid_request(
            "initialize was already done for this session; start a new session without an \
             Mcp-Session-Id header",
        )),
        other => Reply::Err(RpcError::new(
            code::METHOD_NOT_FOUND,
            format!("method `{other}` is not supported by this server"),
        )),
    };
    Pending::ready(reply)
}

/// A request being answered: its reply, at once or when its tool call finishes.
///
/// A concrete future rather than a boxed one: the tool's own future is the only allocation
/// a call needs.
pub(crate) struct Pending(PendingState);

enum PendingState {
    /// `None` once taken.
    Ready(Option<Reply>),
    /// The caller lacks the tool's scopes: an HTTP 403 with a step-up challenge, taken
    /// before any response starts (`None` once taken).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    StepUp(Option<(Vec<String>, String)>),
    /// A request answered by an async function other than a tool (a resource read).
    Future(BoxFuture<'static, Reply>),
    /// A prompt being made, which may ask the client for input (2026-07-28).
    Asking(BoxFuture<'static, Reply>, Arc<ContextInner>),
    Tool(ToolRun),
}

impl Pending {
    fn ready(reply: Reply) -> Self {
        Pending(PendingState::Ready(Some(reply)))
    }

    /// A scope refusal, which must become an HTTP 403 before any response starts.
    pub(crate) fn take_forbidden(&mut self) -> Option<(Vec<String>, String)> {
        match &mut self.0 {
            PendingState::StepUp(denied) => denied.take(),
            _ => None,
        }
    }

    /// The next notification the tool sent for the client, if any; once none is queued the
    /// task is woken when one is.
    pub(crate) fn poll_notification(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Value> {
        let PendingState::Tool(run) = &self.0 else {
            return Poll::Pending;
        };
        run.ctx.call.register(cx.waker());
        run.ctx.call.try_recv().map_or(Poll::Pending, Poll::Ready)
    }

    /// The retry delay, when the tool asked to close its stream early (once).
    pub(crate) fn take_close(&self) -> Option<u64> {
        match &self.0 {
            PendingState::Tool(run) => run.ctx.call.take_close(),
            _ => None,
        }
    }

    /// The call's session, where its stream's events are kept for resumption, when the
    /// stream can be resumed.
    pub(crate) fn resumable_in(&self) -> Option<Arc<Session>> {
        match &self.0 {
            PendingState::Tool(run) => run
                .ctx
                .session
                .clone()
                .filter(|s| s.protocol_version() >= "2025-11-25"),
            _ => None,
        }
    }

    /// The next notification already queued, if any.
    pub(crate) fn try_notification(&mut self) -> Option<Value> {
        match &self.0 {
            PendingState::Tool(run) => run.ctx.call.try_recv(),
            _ => None,
        }
    }
}

impl Future for Pending {
    type Output = Reply;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Reply> {
        match &mut self.0 {
            PendingState::Ready(reply) => match reply.take() {
                Some(reply) => Poll::Ready(reply),
                None => panic!("a request was polled after it was answered"),
            },
            // Where no HTTP status can carry the refusal (in a batch): a tool error.
            PendingState::StepUp(denied) => match denied.take() {
                Some((_, message)) => Poll::Ready(Reply::Tool(CallToolResult::error(message))),
                None => panic!("a request was polled after it was answered"),
            },
            PendingState::Tool(run) => run.poll(cx),
            PendingState::Future(fut) => fut.as_mut().poll(cx),
            PendingState::Asking(fut, ctx) => match fut.as_mut().poll(cx) {
                // It waits for input the request does not carry: an input-required result.
                Poll::Pending => match ctx.inputs.as_ref().and_then(|i| i.result()) {
                    Some(result) => Poll::Ready(Reply::Ok(result)),
                    None => {
                        ctx.call.register(cx.waker());
                        Poll::Pending
                    }
                },
                // A failure the revision makes a protocol error (an undeclared capability).
                Poll::Ready(Reply::Err(e)) => {
                    Poll::Ready(Reply::Err(ctx.call.take_failure().unwrap_or(e)))
                }
                Poll::Ready(reply) => Poll::Ready(reply),
            },
        }
    }
}

/// A tool call in progress.
struct ToolRun {
    /// The tool's future; dropped as soon as the call ends.
    fut: Option<BoxFuture<'static, Result<CallToolResult, ArgError>>>,
    ctx: Arc<ContextInner>,
    /// The call's key in its session's in-flight table (`None` without a session).
    key: Option<RequestKey>,
    /// Whether the call is in that table: from its first wait to its end.
    registered: bool,
    version: &'static str,
    /// When the call started, and where its end is counted (feature `metrics`).
    #[cfg(feature = "metrics")]
    metrics: Option<(std::time::Instant, Arc<crate::metrics::Metrics>)>,
}

impl ToolRun {
    fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Reply> {
        let Some(fut) = self.fut.as_mut() else {
            panic!("a tool call was polled after it ended");
        };
        // Cancellation first, as a cancelled call must not answer with a result. Only a
        // registered call can be cancelled (see `register`).
        let cancelled = self.registered && {
            // Before the flag is read: a cancellation after the check wakes this task.
            self.ctx.call.register(cx.waker());
            self.ctx.call.is_cancelled()
        };
        let outcome = if cancelled {
            None
        } else {
            match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                // 2026-07-28: the tool waits for input the request does not carry; the call
                // ends with an input-required result, and the client sends it again.
                Ok(Poll::Pending) if let Some(result) = self.input_required() => {
                    self.end();
                    #[cfg(feature = "metrics")]
                    if let Some((started, metrics)) = &self.metrics {
                        metrics.tool_call(self.ctx.tool, "input_required", started.elapsed());
                    }
                    return Poll::Ready(Reply::Ok(result));
                }
                Ok(Poll::Pending) => {
                    self.register(cx.waker());
                    // An ask made from a task the tool spawned wakes this call (see `ask`).
                    if self.ctx.inputs.is_some() {
                        self.ctx.call.register(cx.waker());
                    }
                    return Poll::Pending;
                }
                Ok(Poll::Ready(r)) => Some(Ok(r)),
                Err(_) => Some(Err(())),
            }
        };
        self.end();
        let tool = self.ctx.tool;
        #[cfg(feature = "metrics")]
        if let Some((started, metrics)) = &self.metrics {
            let label = match &outcome {
                None => "cancelled",
                Some(Ok(Ok(r))) if r.is_error => "error",
                Some(Ok(Ok(_))) => "ok",
                Some(Ok(Err(_))) => "invalid_arguments",
                Some(Err(())) => "panicked",
            };
            metrics.tool_call(tool, label, started.elapsed());
        }
        Poll::Ready(match outcome {
            None => Reply::Cancelled,
            // A failure the revision makes a protocol error (a capability the client did
            // not declare), when the tool gave up because of it.
            Some(Ok(Ok(result))) if result.is_error && self.ctx.meta.is_some() => {
                match self.ctx.call.take_failure() {
                    Some(e) => Reply::Err(e),
                    None => Reply::Tool(result),
                }
            }
            Some(Ok(Ok(result))) => Reply::Tool(result),
            Some(Ok(Err(arg_error))) => argument_error(tool, self.version, &arg_error),
            Some(Err(())) => {
                tracing::error!(target: "mcp_runtime::rpc", tool, "tool panicked");
                Reply::Err(RpcError::new(
                    code::INTERNAL_ERROR,
                    format!("tool `{tool}` failed unexpectedly (it panicked); see the server log"),
                ))
            }
        })
    }

    /// Makes the call cancellable, once it waits: the session's in-flight table is how both
    /// `notifications/cancelled` and the session's end reach a call.
    ///
    /// A call that ends in its first poll is never registered, which spares most calls the
    /// session's lock (and the waker): no cancellation could have stopped it anyway, as the
    /// flag is read before the poll.
    fn register(&mut self, waker: &Waker) {
        if let (false, Some(key), Some(session)) = (self.registered, &self.key, &self.ctx.session) {
            // First: a cancellation from now on wakes this task, even one at once because the
            // session has ended.
            self.ctx.call.register(waker);
            session.begin_request(key.clone(), &self.ctx);
            self.registered = true;
        }
    }

    /// The input-required result, when the tool asked for input no answer covers.
    fn input_required(&self) -> Option<Bytes> {
        self.ctx.inputs.as_ref()?.result()
    }

    /// Drops the tool's future and unregisters the call.
    fn end(&mut self) {
        self.fut = None;
        if let (true, Some(key), Some(session)) = (self.registered, &self.key, &self.ctx.session) {
            session.end_request(key);
            self.registered = false;
        }
    }
}

impl Drop for ToolRun {
    fn drop(&mut self) {
        self.end();
        self.ctx.call.close();
    }
}

/// Handles a notification from the client.
pub(crate) fn handle_notification(scope: &RequestScope, method: &str, params: Option<&RawValue>) {
    if method == "notifications/cancelled" {
        let Some(session) = &scope.session else {
            return;
        };
        let params = jsonrpc::params_value(params);
        if let Some(id) = params.get("requestId") {
            let cancelled = session.cancel_request(id);
            tracing::debug!(target: "mcp_runtime::rpc", request_id = %id, cancelled, "cancellation");
        }
    }
}

fn list_tools(inner: &Inner, scope: &RequestScope, params: &Value) -> Reply {
    let catalog = inner.catalog.load();
    #[cfg(feature = "oauth")]
    let filtered = visible_pages(inner, scope);
    #[cfg(not(feature = "oauth"))]
    let filtered: Option<Vec<Bytes>> = {
        let _ = scope;
        None
    };
    let pages = filtered.as_ref().unwrap_or(&catalog.tool_pages);
    match page_index(params, pages.len(), "tools/list") {
        Ok(page) => Reply::Ok(pages[page].clone()),
        Err(e) => Reply::Err(e),
    }
}

/// The page a listing's `cursor` names (the page numbers this server hands out).
pub(crate) fn page_index(params: &Value, pages: usize, method: &str) -> Result<usize, RpcError> {
    match params.get("cursor") {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(c)) => match c.parse::<usize>() {
            Ok(n) if n < pages && n > 0 => Ok(n),
            _ => Err(RpcError::invalid_params(format!(
                "{method}: invalid cursor `{c}`"
            ))),
        },
        Some(_) => Err(RpcError::invalid_params(format!(
            "{method}: `cursor` must be a string"
        ))),
    }
}

/// With `hide_unauthorized_tools`, what this caller may see (listings made per caller); `None`
/// lists everything.
fn visibility<'a>(
    inner: &'a Inner,
    scope: &'a RequestScope,
) -> Option<Box<super::listing::Visible<'a>>> {
    #[cfg(feature = "oauth")]
    {
        let state = inner.auth.as_ref()?;
        if !state.hide_tools {
            return None;
        }
        let caller = scope.auth.as_deref();
        Some(Box::new(move |scopes: &[String]| {
            let needed: Vec<&str> = scopes.iter().map(String::as_str).collect();
            caller.is_none_or(|a| a.require_scope(&needed).is_ok())
        }))
    }
    #[cfg(not(feature = "oauth"))]
    {
        let _ = (inner, scope);
        None
    }
}

/// `resources/subscribe` and `resources/unsubscribe`: a session's subscriptions to known
/// resources, which `McpServer::resource_updated` notifies on its GET stream.
fn subscription(inner: &Inner, scope: &RequestScope, method: &str, params: &Value) -> Reply {
    let catalog = inner.catalog.load();
    let Some(uri) = params.get("uri").and_then(Value::as_str) else {
        return Reply::Err(RpcError::invalid_params(format!(
            "{method}: `params.uri` (a string) is required"
        )));
    };
    let Some(session) = &scope.session else {
        return Reply::Err(RpcError::invalid_request(format!(
            "{method}: subscriptions need a session, and this server runs without sessions"
        )));
    };
    if method == "resources/unsubscribe" {
        session.unsubscribe(uri);
        return Reply::Ok(Bytes::from_static(b"{}"));
    }
    if catalog.resources.find(uri).is_none() {
        return Reply::Err(super::resources::not_found(uri));
    }
    session.subscribe(uri);
    Reply::Ok(Bytes::from_static(b"{}"))
}

/// `prompts/get`: the arguments checked, the prompt's scope guard, then its get function.
fn get_prompt(inner: &Inner, scope: RequestScope, params: &Value) -> Pending {
    let catalog = inner.catalog.load();
    let (prompt, arguments) = match catalog.prompts.find(params) {
        Ok(found) => found,
        Err(e) => return Pending::ready(Reply::Err(e)),
    };
    #[cfg(feature = "oauth")]
    if let Some(step_up) = step_up(
        inner,
        &scope,
        &format!("prompt `{}`", prompt.name),
        &prompt.scopes,
    ) {
        return step_up;
    }
    let inputs = match &scope.meta {
        Some(meta) => match super::input::Inputs::for_request(
            &inner.state_key,
            format!("prompt {}", prompt.name),
            (
                serde_json::to_value(
                    arguments
                        .iter()
                        .collect::<std::collections::BTreeMap<_, _>>(),
                )
                .unwrap_or_default(),
                scope.auth.as_ref().map(|a| a.user.user_id.clone()),
            ),
            meta.request_state.as_deref(),
            &meta.input_responses,
        ) {
            Ok(inputs) => Some(inputs),
            Err(e) => return Pending::ready(Reply::Err(e)),
        },
        None => None,
    };
    let ctx = Arc::new(ContextInner {
        tool: "prompts/get",
        inputs,
        meta: scope.meta,
        auth: scope.auth.clone(),
        progress_token: None,
        session: scope.session,
        call: CallState::new(false, false),
    });
    let req = super::prompts::PromptRequest {
        name: prompt.name.clone(),
        arguments,
        auth: scope.auth,
        context: Context { inner: ctx.clone() },
    };
    Pending(PendingState::Asking(
        Box::pin(super::prompts::get(prompt, req)),
        ctx,
    ))
}

/// Whether any prompt argument or template variable has a completer (the `completions`
/// capability).
fn completes(catalog: &Catalog) -> bool {
    catalog.prompts.completes || catalog.resources.completes
}

/// `completion/complete`: the prompt or template, its scope guard, then the completer.
fn complete(inner: &Inner, scope: RequestScope, params: &Value) -> Pending {
    let catalog = inner.catalog.load();
    use super::completion::{self, Target};
    let found = completion::params(params).and_then(|p| {
        let (item, scopes, completer) = match p.target {
            Target::Prompt(name) => {
                let prompt = catalog.prompts.named(name, "completion/complete")?;
                let c = prompt.completer(p.argument)?;
                (format!("prompt `{name}`"), prompt.scopes.clone(), c)
            }
            Target::Template(uri) => {
                let template = catalog.resources.template(uri)?;
                let c = template.completer(p.argument)?;
                (format!("resource `{uri}`"), template.scopes.clone(), c)
            }
        };
        let req = crate::CompletionRequest {
            argument: p.argument.to_owned(),
            value: p.value.to_owned(),
            context: p.context,
            auth: scope.auth.clone(),
        };
        Ok((item, scopes, completer, req))
    });
    let (item, scopes, completer, req) = match found {
        Ok(found) => found,
        Err(e) => return Pending::ready(Reply::Err(e)),
    };
    #[cfg(feature = "oauth")]
    if let Some(step_up) = step_up(inner, &scope, &item, &scopes) {
        return step_up;
    }
    #[cfg(not(feature = "oauth"))]
    let _ = (&scope, scopes);
    let what = format!("`{}` of {item}", req.argument);
    Pending(PendingState::Future(Box::pin(completion::complete(
        completer, what, req,
    ))))
}

/// The 403 step-up for a caller without an item's scopes (resources and prompts have no
/// tool-error form of refusal).
#[cfg(feature = "oauth")]
fn step_up(inner: &Inner, scope: &RequestScope, item: &str, scopes: &[String]) -> Option<Pending> {
    inner.auth.as_ref()?;
    let all: Vec<&str> = scopes.iter().map(String::as_str).collect();
    match crate::auth::scope::guard(
        crate::auth::ScopeRefusal::Forbidden,
        scope.auth.as_deref(),
        item,
        &all,
        &[],
        scope.meta.is_none(),
    ) {
        Err(crate::auth::scope::Denied::StepUp { scopes, message }) => {
            Some(Pending(PendingState::StepUp(Some((scopes, message)))))
        }
        _ => None,
    }
}

/// `resources/read`: the resource's scope guard, then its read function.
fn read_resource(inner: &Inner, scope: RequestScope, params: &Value) -> Pending {
    let catalog = inner.catalog.load();
    let Some(uri) = params.get("uri").and_then(Value::as_str) else {
        return Pending::ready(Reply::Err(RpcError::invalid_params(
            "resources/read: `params.uri` (a string) is required",
        )));
    };
    let Some((resource, vars)) = catalog.resources.find(uri) else {
        return Pending::ready(Reply::Err(super::resources::not_found(uri)));
    };
    #[cfg(feature = "oauth")]
    if let Some(step_up) = step_up(
        inner,
        &scope,
        &format!("resource `{uri}`"),
        &resource.scopes,
    ) {
        return step_up;
    }
    let req = super::resources::ResourceRequest {
        uri: uri.to_owned(),
        params: vars,
        auth: scope.auth.clone(),
    };
    Pending(PendingState::Future(Box::pin(super::resources::read(
        resource, req,
    ))))
}

fn set_level(scope: &RequestScope, params: &Value) -> Reply {
    let level = params.get("level").and_then(Value::as_str);
    match level.and_then(LogLevel::parse) {
        Some(level) => {
            if let Some(s) = &scope.session {
                s.set_log_level(level);
            }
            Reply::Ok(Bytes::from_static(b"{}"))
        }
        None => Reply::Err(RpcError::invalid_params(format!(
            "logging/setLevel: `level` must be one of debug, info, notice, warning, error, \
             critical, alert, emergency; got {}",
            params
                .get("level")
                .map_or_else(|| "nothing".to_owned(), Value::to_string)
        ))),
    }
}

/// `tools/call` params, decoded straight from the request body.
#[derive(Deserialize)]
pub(crate) struct CallParams<'a> {
    #[serde(default, borrow)]
    name: Option<BodyStr<'a>>,
    #[serde(default)]
    arguments: Option<Value>,
    #[serde(default, rename = "_meta")]
    meta: Option<CallMeta>,
    /// 2026-07-28: the answers to an input-required result, and its state.
    #[serde(default, rename = "inputResponses")]
    input_responses: Option<Map<String, Value>>,
    #[serde(default, rename = "requestState")]
    request_state: Option<String>,
}

#[derive(Deserialize)]
struct CallMeta {
    #[serde(default, rename = "progressToken")]
    progress_token: Option<Value>,
    /// 2026-07-28's request metadata.
    #[serde(default, rename = "io.modelcontextprotocol/protocolVersion")]
    version: Option<String>,
    #[serde(default, rename = "io.modelcontextprotocol/clientCapabilities")]
    capabilities: Option<Value>,
    #[serde(default, rename = "io.modelcontextprotocol/logLevel")]
    log_level: Option<Value>,
}

impl CallParams<'_> {
    /// The tool's name.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_ref().map(|n| &*n.0)
    }

    /// The arguments, as sent.
    pub(crate) fn arguments(&self) -> Option<&Value> {
        self.arguments.as_ref()
    }

    /// The 2026-07-28 request metadata, read from what this parse already holds.
    pub(crate) fn request_meta(&self) -> Result<super::modern::RequestMeta, RpcError> {
        let meta = self.meta.as_ref();
        super::modern::meta_from(super::modern::MetaParts {
            present: meta.is_some(),
            version: meta.and_then(|m| m.version.as_deref()),
            capabilities: meta.and_then(|m| m.capabilities.as_ref()),
            log_level: meta.and_then(|m| m.log_level.as_ref()),
            input_responses: self.input_responses.clone(),
            request_state: self.request_state.clone(),
        })
    }
}

/// A body that is a valid `tools/call` request, parsed in one pass: its id and params.
///
/// The general path parses the envelope, skipping over `params` to keep them raw, then parses
/// the params: twice the work for the request that matters most. This parse accepts only what
/// the general path would read the same way (a duplicate key or a wrong type fails here as
/// there), and `None` sends everything else, errors included, to the general path.
pub(crate) fn parse_call(text: &str) -> Option<(Value, CallParams<'_>)> {
    #[derive(Deserialize)]
    struct CallRequest<'a> {
        #[serde(borrow)]
        jsonrpc: BodyStr<'a>,
        #[serde(deserialize_with = "jsonrpc::present")]
        id: Option<Value>,
        #[serde(borrow)]
        method: BodyStr<'a>,
        #[serde(borrow)]
        params: InObject<CallParams<'a>>,
        // Unused, but known to the general envelope, which refuses them twice.
        #[serde(default, rename = "result")]
        _result: Option<IgnoredAny>,
        #[serde(default, rename = "error")]
        _error: Option<IgnoredAny>,
    }
    let InObject(request) = serde_json::from_str::<InObject<CallRequest<'_>>>(text).ok()?;
    let id = request.id?;
    let valid = request.jsonrpc.0 == "2.0"
        && request.method.0 == "tools/call"
        && matches!(id, Value::String(_) | Value::Number(_));
    valid.then_some((id, request.params.0))
}

fn call_tool(inner: &Inner, scope: RequestScope, id: &Value, params: Option<&RawValue>) -> Pending {
    let Some(params) = params else {
        return Pending::ready(Reply::Err(RpcError::invalid_params(
            "tools/call: `params` with the tool's `name` is required",
        )));
    };
    match serde_json::from_str(params.get()) {
        Ok(params) => call_tool_with(inner, scope, id, params),
        Err(e) => Pending::ready(Reply::Err(RpcError::invalid_params(format!(
            "tools/call: invalid params: {e}"
        )))),
    }
}

/// `tools/call` with its params decoded.
pub(crate) fn call_tool_with(
    inner: &Inner,
    scope: RequestScope,
    id: &Value,
    params: CallParams<'_>,
) -> Pending {
    let catalog = inner.catalog.load();
    let fail = |e: RpcError| Pending::ready(Reply::Err(e));
    let Some(BodyStr(name)) = params.name else {
        return fail(RpcError::invalid_params(
            "tools/call: `params.name` (a string) is required",
        ));
    };
    let Some(tool) = catalog.tools.get(&*name) else {
        return fail(RpcError::invalid_params(format!(
            "tools/call: unknown tool `{name}`"
        )));
    };
    crate::server::http::in_span("tool", tool.meta.name);
    let arguments = match params.arguments {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(a @ Value::Object(_)) => a,
        Some(_) => {
            return fail(RpcError::invalid_params(
                "tools/call: `arguments` must be an object",
            ));
        }
    };
    let progress_token = params
        .meta
        .and_then(|m| m.progress_token)
        .filter(|t| t.is_string() || t.is_number());
    // The scope guard runs before the arguments are even parsed.
    #[cfg(feature = "oauth")]
    #[cfg(feature = "oauth")]
    if let Some(state) = &inner.auth
        && let Err(denied) = crate::auth::scope::guard(
            state.scope_refusal,
            scope.auth.as_deref(),
            &format!("tool `{}`", tool.meta.name),
            tool.meta.scopes,
            tool.meta.any_scopes,
            scope.meta.is_none(),
        )
    {
        return match denied {
            crate::auth::scope::Denied::StepUp { scopes, message } => {
                Pending(PendingState::StepUp(Some((scopes, message))))
            }
            crate::auth::scope::Denied::ToolError(message) => {
                Pending::ready(Reply::Tool(CallToolResult::error(message)))
            }
        };
    }
    // The session says what the client understands, whatever this request's header:
    // resumable streams are 2025-11-25's.
    let resumable = scope
        .session
        .as_ref()
        .is_some_and(|s| s.protocol_version() >= "2025-11-25");
    let inputs = match &scope.meta {
        Some(meta) => match super::input::Inputs::for_request(
            &inner.state_key,
            tool.meta.name,
            (
                arguments.clone(),
                scope.auth.as_ref().map(|a| a.user.user_id.clone()),
            ),
            meta.request_state.as_deref(),
            &meta.input_responses,
        ) {
            Ok(inputs) => Some(inputs),
            Err(e) => return fail(e),
        },
        None => None,
    };
    let ctx = Arc::new(ContextInner {
        inputs,
        meta: scope.meta,
        auth: scope.auth,
        tool: tool.meta.name,
        progress_token,
        session: scope.session,
        call: CallState::new(scope.notifies, resumable),
    });
    // Requests always have a string or number id.
    let key = ctx.session.as_ref().and_then(|_| RequestKey::new(id));
    let call = ToolCall {
        arguments,
        context: Context { inner: ctx.clone() },
        state: inner.state.clone(),
    };
    Pending(PendingState::Tool(ToolRun {
        fut: Some((tool.call)(call)),
        ctx,
        key,
        registered: false,
        version: scope.version,
        #[cfg(feature = "metrics")]
        metrics: inner
            .metrics
            .as_ref()
            .map(|(_, m)| (std::time::Instant::now(), m.clone())),
    }))
}

/// Invalid arguments: since 2025-11-25 a tool execution error the model can correct, before
/// that a protocol error (-32602).
fn argument_error(tool: &str, version: &str, error: &ArgError) -> Reply {
    let message = format!("tool `{tool}`: {error}");
    if version >= "2025-11-25" {
        Reply::Tool(CallToolResult::error(message))
    } else {
        Reply::Err(RpcError::invalid_params(message))
    }
}

/// Hiding what the caller cannot call: `tools/list` pages made for this caller's scopes.
#[cfg(feature = "oauth")]
fn visible_pages(inner: &Inner, scope: &RequestScope) -> Option<Vec<Bytes>> {
    let state = inner.auth.as_ref()?;
    let auth = scope.auth.as_deref()?;
    if !state.hide_tools {
        return None;
    }
    let catalog = inner.catalog.load();
    let visible: Vec<Value> = catalog
        .listings
        .iter()
        .filter(|l| {
            auth.require_scope(l.scopes).is_ok() && auth.require_any_scope(l.any_scopes).is_ok()
        })
        .map(|l| l.listing.clone())
        .collect();
    Some(crate::server::builder::paginate(
        &visible,
        inner.rules.page_size,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::jsonrpc::Message;

    /// What the general path reads from a body: the id and the `tools/call` params.
    fn general(text: &str) -> Option<(Value, String, Option<Value>, Option<Value>)> {
        let Ok(Message::Request { id, method, params }) = jsonrpc::parse_message(text) else {
            return None;
        };
        if method != "tools/call" {
            return None;
        }
        let params: CallParams<'_> = serde_json::from_str(params?.get()).ok()?;
        let token = params.meta.and_then(|m| m.progress_token);
        Some((id, params.name?.0.into_owned(), params.arguments, token))
    }

    #[test]
    fn one_pass_calls_read_as_the_general_path_reads_them() {
        let bodies = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1}}}"#,
            r#"{"params":{"arguments":{"b":[1,{"c":null}]},"name":"a\u0064d"},"method":"tools\/call","id":"x","jsonrpc":"2.0"}"#,
            r#" {"jsonrpc":"2.0","id":2.5,"method":"tools/call","params":{"name":"n","_meta":{"progressToken":"t"},"extra":[]},"other":{}} "#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"n"},"result":{}}"#,
        ];
        for body in bodies {
            let (id, params) = parse_call(body).expect(body);
            let token = params.meta.and_then(|m| m.progress_token);
            let fast = (
                id,
                params.name.expect(body).0.into_owned(),
                params.arguments,
                token,
            );
            assert_eq!(Some(fast), general(body), "{body}");
        }
    }

    #[test]
    fn everything_else_goes_to_the_general_path() {
        let bodies = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"name":"add"}}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"add"}}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"add"}}"#,
            r#"{"jsonrpc":"2.0","id":[1],"method":"tools/call","params":{"name":"add"}}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"add"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["add",{}]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"},"id":2}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"},"error":1,"error":2}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":1e999}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}} x"#,
            r#"["2.0",1,"tools/call",{"name":"a"}]"#,
        ];
        for body in bodies {
            assert!(parse_call(body).is_none(), "{body}");
        }
    }
}
