//! Method dispatch: transport-independent handling of MCP requests and notifications, by
//! method and item kind. What a request's answer is while it runs lives in `pending`, and
//! how a `tools/call` is read and started in `tool_call`.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::extract::Context;
use crate::server::Inner;
use crate::server::call::CallState;
use crate::server::call::{ContextInner, LogLevel};
use crate::server::catalog::Catalog;
use crate::server::jsonrpc::{self, Reply, RpcError, code};

use super::listing::page_index;
pub(crate) use super::pending::{Pending, PendingState};
pub(crate) use super::scope::RequestScope;
use super::tool_call::call_tool;
pub(crate) use super::tool_call::{call_tool_with, parse_call};
pub(crate) use crate::model::version::supported_version;
pub use crate::model::version::{
    DEFAULT_PROTOCOL_VERSION, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS,
};

/// The `initialize` result for a negotiated version.
pub(crate) fn initialize_result(inner: &Inner, version: &'static str) -> Reply {
    let catalog = inner.catalog.load();
    let info = inner.info.implementation.to_json();
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
    result.insert("serverInfo".into(), info);
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
            return subscription(inner, &scope, method, &jsonrpc::params_value(params));
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
        Some(Box::new(move |scopes: &[String], public: bool| {
            let needed: Vec<&str> = scopes.iter().map(String::as_str).collect();
            // A caller without a token sees the public items only.
            caller.map_or(public, |a| a.require_scope(&needed).is_ok())
        }))
    }
    #[cfg(not(feature = "oauth"))]
    {
        let _ = (inner, scope);
        None
    }
}

/// `resources/subscribe` and `resources/unsubscribe`: a session's subscriptions to known
/// resources, which `McpServer::resource_updated` notifies on its GET stream. Subscribing
/// needs what reading needs (the resource's scopes), and a session holds at most
/// [`MAX_SUBSCRIPTIONS`](super::session::MAX_SUBSCRIPTIONS) (a template matches endless URIs).
fn subscription(inner: &Inner, scope: &RequestScope, method: &str, params: &Value) -> Pending {
    let catalog = inner.catalog.load();
    let Some(uri) = params.get("uri").and_then(Value::as_str) else {
        return Pending::ready(Reply::Err(RpcError::invalid_params(format!(
            "{method}: `params.uri` (a string) is required"
        ))));
    };
    let Some(session) = &scope.session else {
        return Pending::ready(Reply::Err(RpcError::invalid_request(format!(
            "{method}: subscriptions need a session, and this server runs without sessions"
        ))));
    };
    if method == "resources/unsubscribe" {
        session.unsubscribe(uri);
        return Pending::ready(Reply::Ok(Bytes::from_static(b"{}")));
    }
    let Some((resource, _)) = catalog.resources.find(uri) else {
        return Pending::ready(Reply::Err(super::resources::not_found(uri)));
    };
    #[cfg(feature = "oauth")]
    if let Some(step_up) = step_up(
        inner,
        scope,
        &format!("resource `{uri}`"),
        &resource.scopes,
        resource.public,
    ) {
        return step_up;
    }
    #[cfg(not(feature = "oauth"))]
    let _ = (inner, resource);
    if !session.subscribe(uri) {
        return Pending::ready(Reply::Err(RpcError::invalid_params(format!(
            "{method}: this session already follows {} resources, the most it may; \
             unsubscribe from some first",
            super::session::MAX_SUBSCRIPTIONS
        ))));
    }
    Pending::ready(Reply::Ok(Bytes::from_static(b"{}")))
}

/// `prompts/get`: the arguments checked, the prompt's scope guard, then its get function.
fn get_prompt(inner: &Inner, scope: RequestScope, params: &Value) -> Pending {
    let catalog = inner.catalog.load();
    let (prompt, arguments) = match catalog.prompts.find(params) {
        Ok(found) => found,
        Err(e) => return Pending::ready(Reply::Err(e)),
    };
    super::trace::target("prompts/get", "gen_ai.prompt.name", &prompt.name);
    #[cfg(feature = "oauth")]
    if let Some(step_up) = step_up(
        inner,
        &scope,
        &format!("prompt `{}`", prompt.name),
        &prompt.scopes,
        prompt.public,
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
        task: Default::default(),
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
        let (item, scopes, public, completer) = match p.target {
            Target::Prompt(name) => {
                let prompt = catalog.prompts.named(name, "completion/complete")?;
                let c = prompt.completer(p.argument)?;
                (
                    format!("prompt `{name}`"),
                    prompt.scopes.clone(),
                    prompt.public,
                    c,
                )
            }
            Target::Template(uri) => {
                let template = catalog.resources.template(uri)?;
                let c = template.completer(p.argument)?;
                (
                    format!("resource `{uri}`"),
                    template.scopes.clone(),
                    template.public,
                    c,
                )
            }
        };
        let req = crate::CompletionRequest {
            argument: p.argument.to_owned(),
            value: p.value.to_owned(),
            context: p.context,
            auth: scope.auth.clone(),
        };
        Ok((item, scopes, public, completer, req))
    });
    let (item, scopes, public, completer, req) = match found {
        Ok(found) => found,
        Err(e) => return Pending::ready(Reply::Err(e)),
    };
    #[cfg(feature = "oauth")]
    if let Some(step_up) = step_up(inner, &scope, &item, &scopes, public) {
        return step_up;
    }
    #[cfg(not(feature = "oauth"))]
    let _ = (&scope, scopes, public);
    let what = format!("`{}` of {item}", req.argument);
    Pending(PendingState::Future(Box::pin(completion::complete(
        completer, what, req,
    ))))
}

/// The 403 step-up for a caller without an item's scopes (resources and prompts have no
/// tool-error form of refusal).
#[cfg(feature = "oauth")]
fn step_up(
    inner: &Inner,
    scope: &RequestScope,
    item: &str,
    scopes: &[String],
    public: bool,
) -> Option<Pending> {
    inner.auth.as_ref()?;
    let all: Vec<&str> = scopes.iter().map(String::as_str).collect();
    match crate::auth::scope::guard(
        crate::auth::ScopeRefusal::Forbidden,
        scope.auth.as_deref(),
        &item,
        &all,
        &[],
        scope.meta.is_none(),
        public,
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
    super::trace::target("resources/read", "mcp.resource.uri", uri);
    let Some((resource, vars)) = catalog.resources.find(uri) else {
        return Pending::ready(Reply::Err(super::resources::not_found(uri)));
    };
    #[cfg(feature = "oauth")]
    if let Some(step_up) = step_up(
        inner,
        &scope,
        &format!("resource `{uri}`"),
        &resource.scopes,
        resource.public,
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

/// Hiding what the caller cannot call: `tools/list` pages made for this caller's scopes.
#[cfg(feature = "oauth")]
fn visible_pages(inner: &Inner, scope: &RequestScope) -> Option<Vec<Bytes>> {
    let state = inner.auth.as_ref()?;
    if !state.hide_tools {
        return None;
    }
    let auth = scope.auth.as_deref();
    let catalog = inner.catalog.load();
    let visible: Vec<Value> = catalog
        .listings
        .iter()
        .filter(|l| match auth {
            Some(auth) => {
                auth.require_scope(l.scopes).is_ok() && auth.require_any_scope(l.any_scopes).is_ok()
            }
            // A caller without a token sees the public tools only.
            None => l.public,
        })
        .map(|l| l.listing.clone())
        .collect();
    Some(super::listing::paginate(&visible, inner.rules.page_size))
}
