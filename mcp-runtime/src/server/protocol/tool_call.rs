//! `tools/call`: its params read (in one pass for the common body), the tool's scope guard,
//! and the call started with its context.

use std::sync::Arc;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::pending::{Pending, PendingState, ToolRun};
use super::scope::RequestScope;
use crate::extract::{Context, ToolCall};
use crate::server::Inner;
use crate::server::call::{CallState, ContextInner};
use crate::server::jsonrpc::{self, BodyStr, InObject, Reply, RpcError};
use crate::server::session::RequestKey;
use crate::tool::TaskSupport;

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

pub(crate) fn call_tool(
    inner: &Inner,
    scope: RequestScope,
    id: &Value,
    params: Option<&RawValue>,
) -> Pending {
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
    super::trace::target("tools/call", "gen_ai.tool.name", tool.meta.name);
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
    if let Some(state) = &inner.auth
        && let Err(denied) = crate::auth::scope::guard(
            state.scope_refusal,
            scope.auth.as_deref(),
            // Formatted only for a refusal.
            &format_args!("tool `{}`", tool.meta.name),
            tool.meta.scopes,
            tool.meta.any_scopes,
            scope.meta.is_none(),
            tool.meta.public,
        )
    {
        return match denied {
            crate::auth::scope::Denied::StepUp { scopes, message } => {
                Pending(PendingState::StepUp(Some((scopes, message))))
            }
            crate::auth::scope::Denied::ToolError(message) => {
                Pending::ready(Reply::Tool(crate::result::CallToolResult::error(message)))
            }
            crate::auth::scope::Denied::ToolChallenge {
                scopes,
                message,
                anonymous,
            } => Pending::ready(Reply::Tool(
                state.tool_challenge(&scopes, &message, anonymous),
            )),
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
    // 2026-07-28's tasks extension: whether the call runs as a task, now or when the tool
    // starts one.
    let task_mode = match (&scope.meta, tool.meta.task) {
        (Some(_), TaskSupport::Never) | (None, _) => TaskMode::Call,
        (Some(meta), support) if !meta.capabilities.tasks => {
            if support == TaskSupport::Required {
                return fail(super::tasks::missing_extension(&format!(
                    "tool `{}`",
                    tool.meta.name
                )));
            }
            TaskMode::Call
        }
        _ if tool.meta.task_start_explicit => TaskMode::Later,
        _ => TaskMode::Now,
    };
    let owner = || scope.auth.as_ref().map(|a| a.user.user_id.clone());
    let task = match task_mode {
        TaskMode::Now => {
            let caps = scope
                .meta
                .as_ref()
                .map(|m| m.capabilities)
                .unwrap_or_default();
            match inner.tasks.create(owner(), caps) {
                Ok(Some(task)) => Some(task),
                Ok(None) if tool.meta.task == TaskSupport::Required => {
                    return fail(RpcError::new(
                        super::jsonrpc::code::INTERNAL_ERROR,
                        format!(
                            "tool `{}` runs as a task, and the server holds as many tasks as \
                             it may; retry later",
                            tool.meta.name
                        ),
                    ));
                }
                // No room: the call is answered on its own response.
                Ok(None) => None,
                Err(e) => return fail(e),
            }
        }
        _ => None,
    };
    let link = super::tasks::TaskLink {
        registry: matches!(task_mode, TaskMode::Later).then(|| inner.tasks.clone()),
        ..Default::default()
    };
    let ctx = Arc::new(ContextInner {
        inputs: if task.is_some() { None } else { inputs },
        meta: scope.meta,
        auth: scope.auth,
        tool: tool.meta.name,
        progress_token,
        session: scope.session,
        call: CallState::new(scope.notifies && task.is_none(), resumable),
        task: link,
    });
    let metrics = super::task_run::Metrics::start(inner);
    // Requests always have a string or number id.
    let key = ctx.session.as_ref().and_then(|_| RequestKey::new(id));
    let call = ToolCall {
        arguments,
        context: Context { inner: ctx.clone() },
        state: inner.state.clone(),
    };
    let fut = (tool.call)(call);
    if let Some(task) = task {
        let _ = ctx.task.task.set(task.clone());
        return Pending::ready(Reply::Ok(super::task_run::spawn(task, ctx, fut, metrics)));
    }
    Pending(PendingState::Tool(ToolRun {
        fut: Some(fut),
        ctx,
        key,
        registered: false,
        version: scope.version,
        metrics,
    }))
}

/// Whether a call runs as a task.
enum TaskMode {
    /// On its own response.
    Call,
    /// As a task from its start.
    Now,
    /// As a task once the tool starts one (`Context::start_task`).
    Later,
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
