//! Method dispatch: transport-independent handling of MCP requests and notifications.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Inner;
use super::jsonrpc::{self, Reply, RpcError, code};
use super::session::Session;
use crate::extract::{ArgError, Context, ContextInner, LogLevel, ToolCall};
use crate::result::CallToolResult;

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

/// Where a request came from and how notifications can reach the client.
pub(crate) struct RequestScope {
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) version: &'static str,
    pub(crate) notifier: Option<mpsc::UnboundedSender<Value>>,
}

/// The `initialize` result for a negotiated version.
pub(crate) fn initialize_result(inner: &Inner, version: &'static str) -> Reply {
    let mut info = Map::new();
    info.insert("name".into(), inner.info.name.clone().into());
    info.insert("version".into(), inner.info.version.clone().into());
    if let Some(t) = &inner.info.title {
        info.insert("title".into(), t.clone().into());
    }
    let mut result = Map::new();
    result.insert("protocolVersion".into(), version.into());
    result.insert(
        "capabilities".into(),
        serde_json::json!({ "logging": {}, "tools": { "listChanged": false } }),
    );
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
    inner: &Arc<Inner>,
    scope: RequestScope,
    id: &Value,
    method: &str,
    params: Option<&RawValue>,
) -> BoxFuture<'static, Reply> {
    let ready = |r: Reply| -> BoxFuture<'static, Reply> { Box::pin(std::future::ready(r)) };
    match method {
        "ping" => ready(Reply::Ok(Bytes::from_static(b"{}"))),
        "tools/list" => ready(list_tools(inner, &jsonrpc::params_value(params))),
        "tools/call" => call_tool(inner, scope, id, params),
        "logging/setLevel" => ready(set_level(&scope, &jsonrpc::params_value(params))),
        "initialize" => ready(Reply::Err(RpcError::invalid_request(
            "initialize was already done for this session; start a new session without an \
             Mcp-Session-Id header",
        ))),
        other => ready(Reply::Err(RpcError::new(
            code::METHOD_NOT_FOUND,
            format!("method `{other}` is not supported by this server"),
        ))),
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
            let cancelled = session.cancel_request(&id.to_string());
            tracing::debug!(target: "mcp_runtime::rpc", request_id = %id, cancelled, "cancellation");
        }
    }
}

fn list_tools(inner: &Inner, params: &Value) -> Reply {
    let page = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => match c.parse::<usize>() {
            Ok(n) if n < inner.tool_pages.len() && n > 0 => n,
            _ => {
                return Reply::Err(RpcError::invalid_params(format!(
                    "tools/list: invalid cursor `{c}`"
                )));
            }
        },
        Some(_) => {
            return Reply::Err(RpcError::invalid_params(
                "tools/list: `cursor` must be a string",
            ));
        }
    };
    Reply::Ok(inner.tool_pages[page].clone())
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
struct CallParams<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    arguments: Option<Value>,
    #[serde(default, rename = "_meta")]
    meta: Option<CallMeta>,
}

#[derive(Deserialize)]
struct CallMeta {
    #[serde(default, rename = "progressToken")]
    progress_token: Option<Value>,
}

fn call_tool(
    inner: &Arc<Inner>,
    scope: RequestScope,
    id: &Value,
    params: Option<&RawValue>,
) -> BoxFuture<'static, Reply> {
    let fail =
        |e: RpcError| -> BoxFuture<'static, Reply> { Box::pin(std::future::ready(Reply::Err(e))) };
    let Some(params) = params else {
        return fail(RpcError::invalid_params(
            "tools/call: `params` with the tool's `name` is required",
        ));
    };
    let params: CallParams<'_> = match serde_json::from_str(params.get()) {
        Ok(p) => p,
        Err(e) => {
            return fail(RpcError::invalid_params(format!(
                "tools/call: invalid params: {e}"
            )));
        }
    };
    let Some(name) = params.name else {
        return fail(RpcError::invalid_params(
            "tools/call: `params.name` (a string) is required",
        ));
    };
    let Some(tool) = inner.tools.get(&*name) else {
        return fail(RpcError::invalid_params(format!(
            "tools/call: unknown tool `{name}`"
        )));
    };
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
    let (cancel, guard) = match &scope.session {
        Some(s) => {
            let (token, guard) = s.begin_request(id.to_string());
            (token, Some(guard))
        }
        None => (CancellationToken::new(), None),
    };
    let tool_name = tool.meta.name;
    let context = Context {
        inner: Arc::new(ContextInner {
            tool: tool_name,
            progress_token,
            notifier: scope.notifier,
            session: scope.session,
            cancel: cancel.clone(),
        }),
    };
    let call = ToolCall {
        arguments,
        context,
        state: inner.state.clone(),
    };
    let fut = (tool.call)(call);
    let version = scope.version;
    Box::pin(async move {
        let _guard = guard;
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => return Reply::Cancelled,
            r = AssertUnwindSafe(fut).catch_unwind() => r,
        };
        match outcome {
            Ok(Ok(result)) => Reply::ok(&result),
            Ok(Err(arg_error)) => argument_error(tool_name, version, &arg_error),
            Err(_) => {
                tracing::error!(target: "mcp_runtime::rpc", tool = tool_name, "tool panicked");
                Reply::Err(RpcError::new(
                    code::INTERNAL_ERROR,
                    format!(
                        "tool `{tool_name}` failed unexpectedly (it panicked); see the server log"
                    ),
                ))
            }
        }
    })
}

/// Invalid arguments: since 2025-11-25 a tool execution error the model can correct, before
/// that a protocol error (-32602).
fn argument_error(tool: &str, version: &str, error: &ArgError) -> Reply {
    let message = format!("tool `{tool}`: {error}");
    if version >= "2025-11-25" {
        Reply::ok(&CallToolResult::error(message))
    } else {
        Reply::Err(RpcError::invalid_params(message))
    }
}
