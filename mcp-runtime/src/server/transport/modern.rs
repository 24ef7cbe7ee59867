//! The 2026-07-28 revision over HTTP: one POST is one request, with no session. Its `_meta`
//! is checked, then its headers against its body (`MCP-Protocol-Version`, `Mcp-Method`,
//! `Mcp-Name`), then it is dispatched like any request and answered with the revision's
//! result fields and HTTP statuses. Servers that keep sessions for older clients serve these
//! requests beside them.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderName;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use crate::auth::Auth;
use crate::server::Inner;
use crate::server::dispatch::{self, RequestScope};
use crate::server::jsonrpc::{self, Message, Reply, RpcError};
use crate::server::modern::{self, REVISION};
use crate::server::observe::{note_id, note_method, note_session};
use crate::server::transport::respond::{Accepts, Framing, json_answer, respond};

/// The resource-not-found code before 2026-07-28; the revision answers -32602 instead.
const RESOURCE_NOT_FOUND: i32 = -32002;

/// Whether a request is one of this revision: its `MCP-Protocol-Version` is 2026-07-28, or
/// a version no older revision has (answered here, with the request's id, as unsupported).
pub(crate) fn applies(req: &HttpRequest) -> bool {
    req.headers()
        .get(&VERSION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .is_some_and(|v| dispatch::supported_version(v).is_none())
}

fn error(id: &Value, e: &RpcError, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(jsonrpc::error_body(id, e))
}

fn error_for(id: &Value, e: &RpcError) -> HttpResponse {
    error(
        id,
        e,
        StatusCode::from_u16(modern::status_of(e)).unwrap_or(StatusCode::BAD_REQUEST),
    )
}

/// A header's value, without the optional whitespace around it (RFC 9110 §5.5).
fn header<'a>(req: &'a HttpRequest, name: &HeaderName) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// A header checked against the body: present at most once (a second value could say
/// something else to a gateway that reads it) and readable (a value that is not visible ASCII
/// is refused as such rather than reported missing); its trimmed value. One lookup.
fn single<'a>(req: &'a HttpRequest, name: &HeaderName) -> Result<Option<&'a str>, RpcError> {
    let mut values = req.headers().get_all(name);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(modern::header_mismatch(format!(
            "the {name} header is sent more than once; send it once"
        )));
    }
    match first.to_str() {
        Ok(v) => Ok(Some(v.trim())),
        Err(_) => Err(modern::header_mismatch(format!(
            "the {name} header is not visible ASCII text; send such a value as \
             `=?base64?...?=` (Base64 of its UTF-8)"
        ))),
    }
}

// The headers, named once: a lookup by `&str` parses (and allocates) the name every time.
static VERSION: HeaderName = HeaderName::from_static(super::common::VERSION_HEADER);
static METHOD: HeaderName = HeaderName::from_static("mcp-method");
static NAME: HeaderName = HeaderName::from_static("mcp-name");

/// The item a method names in `Mcp-Name`: a tool or prompt name, a resource URI.
fn named_item<'a>(method: &str, params: &'a Value) -> Option<&'a str> {
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        // The tasks extension: a task's requests name it, so that a gateway can route them
        // to the replica holding it.
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    params.get(key).and_then(Value::as_str)
}

/// Checks the request's headers against its body and `_meta`; `item` is what the body names
/// (a tool or prompt name, a resource URI).
fn check_headers(
    req: &HttpRequest,
    method: &str,
    item: Option<&str>,
    version: &str,
) -> Result<(), RpcError> {
    let header_version = single(req, &VERSION)?;
    let header_method = single(req, &METHOD)?;
    let header_name = single(req, &NAME)?;
    if header_version != Some(version) {
        return Err(modern::header_mismatch(format!(
            "the MCP-Protocol-Version header ({}) does not match `_meta` \
             `io.modelcontextprotocol/protocolVersion` ({version})",
            header_version.map_or_else(|| "absent".to_owned(), |h| format!("`{h}`"))
        )));
    }
    if dispatch::supported_version(version).is_none() && version != REVISION {
        return Err(modern::unsupported(version));
    }
    match header_method {
        Some(m) if m == method => {}
        Some(m) => {
            return Err(modern::header_mismatch(format!(
                "the Mcp-Method header (`{m}`) does not match the body's method (`{method}`)"
            )));
        }
        None => {
            return Err(modern::header_mismatch(format!(
                "the Mcp-Method header is required (the body's method is `{method}`)"
            )));
        }
    }
    if let Some(item) = item {
        match header_name {
            Some(n) if n == item => {}
            Some(n) => {
                return Err(modern::header_mismatch(format!(
                    "the Mcp-Name header (`{n}`) does not match the body's `{item}`"
                )));
            }
            None => {
                return Err(modern::header_mismatch(format!(
                    "the Mcp-Name header is required for {method} (the body names `{item}`)"
                )));
            }
        }
    }
    Ok(())
}

/// The value a header carries: `=?base64?...?=` decoded (strictly), anything else literal.
fn header_value(raw: &str) -> Result<String, String> {
    use base64::Engine as _;
    let Some(encoded) = raw
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    else {
        return Ok(raw.to_owned());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("its Base64 is invalid ({e})"))?;
    String::from_utf8(bytes).map_err(|_| "its Base64 is not UTF-8 text".to_owned())
}

/// An argument as its header says it.
fn as_header_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The `Mcp-Param-*` headers of a tool call against its arguments (SEP-2243).
fn check_param_headers(
    req: &HttpRequest,
    inner: &Inner,
    name: Option<&str>,
    arguments: Option<&Value>,
) -> Result<(), RpcError> {
    let Some(name) = name else {
        return Ok(());
    };
    let catalog = inner.catalog.load();
    let Some(tool) = catalog.tools.get(name) else {
        return Ok(());
    };
    for (arg, header_name) in &tool.headers {
        let Ok(full) = HeaderName::try_from(format!("mcp-param-{header_name}")) else {
            continue;
        };
        let given = arguments.and_then(|a| a.get(arg)).filter(|v| !v.is_null());
        let header_raw = single(req, &full)?;
        match (given, header_raw) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(modern::header_mismatch(format!(
                    "the Mcp-Param-{header_name} header is required: the body gives `{arg}`"
                )));
            }
            (None, Some(_)) => {
                return Err(modern::header_mismatch(format!(
                    "the Mcp-Param-{header_name} header is set, but the body gives no `{arg}`"
                )));
            }
            (Some(v), Some(raw)) => {
                let said = header_value(raw).map_err(|why| {
                    modern::header_mismatch(format!("the Mcp-Param-{header_name} header: {why}"))
                })?;
                if as_header_text(v).as_deref() != Some(said.as_str()) {
                    return Err(modern::header_mismatch(format!(
                        "the Mcp-Param-{header_name} header does not match the argument `{arg}`"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The answer to a request whose `_meta` is missing or malformed: a version this server does
/// not speak, said in the header, is said first.
fn meta_error(req: &HttpRequest, id: &Value, e: &RpcError) -> HttpResponse {
    if let Some(v) = header(req, &VERSION)
        && v != REVISION
    {
        return error_for(id, &modern::unsupported(v));
    }
    error(id, e, StatusCode::BAD_REQUEST)
}

/// Answers one 2026-07-28 POST (its body already read and checked as UTF-8).
pub(crate) async fn post(
    req: &HttpRequest,
    inner: &Inner,
    auth: Option<Auth>,
    text: &str,
    accept: Accepts,
) -> HttpResponse {
    if text.trim_start().starts_with('[') {
        return error(
            &Value::Null,
            &RpcError::invalid_request(format!(
                "JSON-RPC batches are not part of protocol version {REVISION}"
            )),
            StatusCode::BAD_REQUEST,
        );
    }
    // The request that matters most, parsed in one pass (see `dispatch::parse_call`).
    if let Some((id, params)) = dispatch::parse_call(text) {
        note_method(req, inner, "tools/call");
        note_id(&id);
        note_session(None, REVISION);
        let meta = match params.request_meta() {
            Ok(meta) => meta,
            Err(e) => return meta_error(req, &id, &e),
        };
        let checked = check_headers(req, "tools/call", params.name(), &meta.version)
            .and_then(|()| check_param_headers(req, inner, params.name(), params.arguments()));
        if let Err(e) = checked {
            return error_for(&id, &e);
        }
        let streams = accept.sse && inner.http.streaming;
        let anonymous = auth.is_none();
        let scope = RequestScope {
            session: None,
            version: REVISION,
            notifies: streams,
            auth,
            meta: Some(meta),
        };
        let mut pending = dispatch::call_tool_with(inner, scope, &id, params);
        if let Some((scopes, message)) = pending.take_forbidden() {
            return super::http_auth::forbidden(req, inner, &id, &scopes, &message, anonymous);
        }
        return respond(id, pending, streams, accept, Framing::MODERN).await;
    }
    let (id, method, params) = match jsonrpc::parse_message(text) {
        Ok(Message::Request { id, method, params }) => (id, method, params),
        // Nothing answers a notification or a response in this revision.
        Ok(_) => return HttpResponse::Accepted().finish(),
        Err((id, e)) => return error(&id, &e, StatusCode::BAD_REQUEST),
    };
    note_method(req, inner, &method);
    note_id(&id);
    note_session(None, REVISION);
    let params_value = jsonrpc::params_value(params);
    let meta = match modern::request_meta(&params_value) {
        Ok(meta) => meta,
        Err(e) => return meta_error(req, &id, &e),
    };
    let checked = check_headers(
        req,
        &method,
        named_item(&method, &params_value),
        &meta.version,
    )
    .and_then(|()| match method.as_ref() {
        "tools/call" => check_param_headers(
            req,
            inner,
            params_value.get("name").and_then(Value::as_str),
            params_value.get("arguments"),
        ),
        _ => Ok(()),
    });
    if let Err(e) = checked {
        return error_for(&id, &e);
    }
    if modern::is_removed(&method) {
        return error_for(&id, &modern::method_not_found(&method));
    }
    if method == "server/discover" {
        // What the server offers is the same for every caller.
        let fields = modern::result_fields(&method, inner.rules.list_ttl_ms, false);
        return json_answer(
            &id,
            &crate::server::protocol::discover::discover(inner),
            &fields,
            true,
        );
    }
    let owner = auth.as_ref().map(|a| a.user.user_id.clone());
    if crate::server::protocol::tasks::is_task_method(&method) {
        let reply = crate::server::protocol::tasks::handle(
            &inner.tasks,
            &method,
            &params_value,
            meta.capabilities.tasks,
            owner.as_deref(),
        );
        return json_answer(&id, &reply, Framing::MODERN.fields, true);
    }
    if method == "subscriptions/listen" {
        return listen(inner, id, &params_value, accept, &meta, auth.as_ref());
    }
    let streams = method == "tools/call" && accept.sse && inner.http.streaming;
    let anonymous = auth.is_none();
    let scope = RequestScope {
        session: None,
        version: REVISION,
        notifies: streams,
        auth,
        meta: Some(meta),
    };
    // Listings depend on the caller when they are filtered for it; a resource's contents may
    // whenever there is a caller.
    let per_caller = if method == "resources/read" {
        inner.has_auth()
    } else {
        inner.auth_hides_items()
    };
    let mut pending = dispatch::handle_request(inner, scope, &id, &method, params);
    if let Some((scopes, message)) = pending.take_forbidden() {
        return super::http_auth::forbidden(req, inner, &id, &scopes, &message, anonymous);
    }
    if method == "tools/call" {
        return respond(id, pending, streams, accept, Framing::MODERN).await;
    }
    let reply = match pending.await {
        Reply::Err(mut e) if e.code == RESOURCE_NOT_FOUND => {
            e.code = jsonrpc::code::INVALID_PARAMS;
            Reply::Err(e)
        }
        Reply::Err(e) if e.code == jsonrpc::code::METHOD_NOT_FOUND => {
            Reply::Err(modern::method_not_found(&method))
        }
        other => other,
    };
    let fields = modern::result_fields(&method, inner.rules.list_ttl_ms, per_caller);
    json_answer(&id, &reply, &fields, true)
}

/// The URIs among `uris` whose resources the caller may read: a stream does not follow the
/// others (a URI no resource has yet is kept, as one may be added).
fn readable(inner: &Inner, auth: Option<&Auth>, uris: Vec<String>) -> Vec<String> {
    #[cfg(feature = "oauth")]
    if inner.has_auth() {
        let catalog = inner.catalog.load();
        return uris
            .into_iter()
            .filter(|u| match catalog.resources.find(u) {
                Some((r, _)) if !r.scopes.is_empty() => auth.is_some_and(|a| {
                    let needed: Vec<&str> = r.scopes.iter().map(String::as_str).collect();
                    a.require_scope(&needed).is_ok()
                }),
                _ => true,
            })
            .collect();
    }
    let _ = (inner, auth);
    uris
}

/// `subscriptions/listen`: a stream of the notifications the client opted in to, opened by
/// their acknowledgement; keep-alive comments while it is quiet.
fn listen(
    inner: &Inner,
    id: Value,
    params: &Value,
    accept: Accepts,
    meta: &modern::RequestMeta,
    auth: Option<&Auth>,
) -> HttpResponse {
    let owner = auth.map(|a| a.user.user_id.as_str());
    if !accept.sse {
        return error(
            &id,
            &RpcError::invalid_request(
                "subscriptions/listen answers with a stream: the Accept header must include \
                 text/event-stream",
            ),
            StatusCode::NOT_ACCEPTABLE,
        );
    }
    let mut filter = match crate::server::protocol::listen::Filter::parse(params) {
        Ok(f) => f,
        Err(e) => return error(&id, &e, StatusCode::BAD_REQUEST),
    };
    if !filter.task_ids.is_empty() && !meta.capabilities.tasks {
        let e = crate::server::protocol::tasks::missing_extension("following tasks (`taskIds`)");
        return error_for(&id, &e);
    }
    // A stream follows only the caller's own tasks.
    filter.task_ids = inner.tasks.owned(&filter.task_ids, owner);
    // Nor updates of resources it may not read.
    filter.uris = readable(inner, auth, std::mem::take(&mut filter.uris));
    let catalog = inner.catalog.load();
    let agreed = filter
        .clone()
        .agreed(!catalog.prompts.is_empty(), !catalog.resources.is_empty());
    let rx = inner.listeners.open(id, filter, &agreed);
    let keepalive = inner.http.keepalive;
    let stream = futures_util::stream::unfold(
        (rx, None::<tokio::time::Interval>),
        move |(mut rx, iv)| async move {
            let mut iv = iv.unwrap_or_else(|| tokio::time::interval(keepalive));
            tokio::select! {
                m = rx.recv() => m.map(|m| (Ok::<_, std::convert::Infallible>(m), (rx, Some(iv)))),
                _ = iv.tick() => Some((
                    Ok(bytes::Bytes::from_static(b": keep-alive\n\n")),
                    (rx, Some(iv)),
                )),
            }
        },
    );
    crate::server::transport::respond::sse_response(stream)
}
