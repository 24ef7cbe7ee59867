//! The MCP Streamable HTTP transport on actix-web: POST, GET and DELETE on one endpoint.

use std::convert::Infallible;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use serde_json::Value;
use serde_json::value::RawValue;

use super::common::{APPLICATION_JSON, SESSION_NAME, VERSION_NAME};
pub(crate) use super::common::{
    DEFAULT_KEEPALIVE, Refusal, header_str, not_mounted, refusal, refuse, server,
};
#[cfg(not(feature = "oauth"))]
pub(crate) use super::http_auth::{authenticate, forbidden};
use crate::auth::Auth;
use crate::server::Inner;
use crate::server::dispatch::{self, RequestScope};
#[cfg(feature = "oauth")]
pub(crate) use crate::server::http_auth::{
    authenticate, authorization_server_metadata, forbidden, preflight, resource_metadata,
};
use crate::server::jsonrpc::{self, Message, RpcError, code};
pub(crate) use crate::server::observe::{in_span, note_refusal, request_span};
use crate::server::observe::{note_id, note_method, note_session};
pub(crate) use crate::server::origin::{add_cors, check_origin, cors_origin};
use crate::server::outgoing::ClientCapabilities;
use crate::server::session::Session;
use crate::server::stream as call_stream;
use crate::server::transport::respond::{
    Accepts, Framing, accepts, json_response, respond, sse_response,
};

fn too_large(limit: usize) -> Refusal {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::INVALID_REQUEST,
        format!("the request body is larger than this server's limit of {limit} bytes"),
    )
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Bytes, Refusal> {
    let read_error = |e: actix_web::error::PayloadError| {
        refusal(
            StatusCode::BAD_REQUEST,
            code::PARSE_ERROR,
            format!("reading the request body: {e}"),
        )
    };
    // Most bodies arrive in one chunk: keep it without copying.
    let first = match payload.next().await {
        Some(chunk) => chunk.map_err(read_error)?,
        None => return Ok(Bytes::new()),
    };
    if first.len() > limit {
        return Err(too_large(limit));
    }
    let Some(second) = payload.next().await else {
        return Ok(first);
    };
    let mut body = BytesMut::from(&first[..]);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let chunk = chunk.map_err(read_error)?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
        next = payload.next().await;
    }
    Ok(body.freeze())
}

/// Finds the session named by `Mcp-Session-Id`, or refuses (400 missing, 404 unknown).
async fn find_session(req: &HttpRequest, inner: &Inner) -> Result<Option<Arc<Session>>, Refusal> {
    if inner.http.stateless {
        return Ok(None);
    }
    let missing = || {
        Err(refusal(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            "missing Mcp-Session-Id header: send `initialize` first and repeat the session id it returns",
        ))
    };
    let unknown = || {
        Err(refusal(
            StatusCode::NOT_FOUND,
            code::SESSION_NOT_FOUND,
            "unknown or expired session: start a new one with `initialize`",
        ))
    };
    let Some(value) = req.headers().get(&SESSION_NAME) else {
        return missing();
    };
    // Looked up as UTF-8, quicker to check than `to_str`'s visible ASCII. Ids are hex, so a
    // value that is not visible ASCII finds nothing, and is then refused as missing, as before.
    let id = std::str::from_utf8(value.as_bytes()).ok();
    if let Some(s) = id.and_then(|id| inner.sessions.get(id)) {
        // Shared with other replicas: a session deleted or expired elsewhere ends here too.
        if let Some(shared) = &inner.shared_sessions {
            match shared.confirm(&inner.sessions, &s).await {
                Ok(false) => return unknown(),
                Ok(true) => {}
                Err(e) => {
                    tracing::warn!(target: "mcp_runtime::server", error = %e, "the shared session store could not confirm a session; serving it from this replica");
                }
            }
        }
        return Ok(Some(s));
    }
    if value.to_str().is_err() {
        return missing();
    }
    // One another replica created (only what looks like an id this server makes is looked up).
    if let (Some(shared), Some(id)) = (&inner.shared_sessions, id)
        && id.len() == 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
    {
        match shared.load(&inner.sessions, id).await {
            Ok(Some(s)) => return Ok(Some(s)),
            Ok(None) => {}
            Err(e) => {
                return Err(refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code::INTERNAL_ERROR,
                    format!("the session cannot be read from the shared store: {e}"),
                ));
            }
        }
    }
    unknown()
}

/// A session serves only the subject it belongs to; to anyone else, and to a request without
/// a token, it does not exist. A session created without a token (on a server with public
/// items) belongs to the first caller who authenticates on it (the client signed in after a
/// 401 and goes on in the same session): from then on it is theirs alone.
///
/// With `claim`, an unbound session is bound here; `Ok(true)` says it just was (so that other
/// replicas sharing the session learn it).
fn check_subject(
    session: Option<&Session>,
    auth: Option<&Auth>,
    claim: bool,
) -> Result<bool, Refusal> {
    let unknown = || {
        Err(refusal(
            StatusCode::NOT_FOUND,
            code::SESSION_NOT_FOUND,
            "unknown or expired session: start a new one with `initialize`",
        ))
    };
    match (session, auth) {
        (Some(s), Some(a)) => match s.subject() {
            Some(owner) if owner == a.user.user_id => Ok(false),
            Some(_) => unknown(),
            None if !claim => Ok(false),
            None if s.claim(&a.user.user_id) => Ok(true),
            None => unknown(),
        },
        (Some(s), None) if s.subject().is_some() => unknown(),
        _ => Ok(false),
    }
}

/// The protocol version of a non-initialize request, from its header or its session.
///
/// Like the reference SDK, any supported version is accepted in the header, even one other than
/// the session's (the conformance suite sends `2025-03-26` on a 2025-11-25 session).
fn request_version(req: &HttpRequest, session: Option<&Session>) -> Result<&'static str, Refusal> {
    let value = req.headers().get(&VERSION_NAME);
    // A supported version as clients send it, matched without checking and trimming.
    if let Some(value) = value
        && let Some(version) = dispatch::SUPPORTED_PROTOCOL_VERSIONS
            .into_iter()
            .find(|v| v.as_bytes() == value.as_bytes())
    {
        return Ok(version);
    }
    match value.and_then(|v| v.to_str().ok()) {
        Some(v) => {
            let Some(version) = dispatch::supported_version(v.trim()) else {
                let mut r = refusal(
                    StatusCode::BAD_REQUEST,
                    code::UNSUPPORTED_PROTOCOL_VERSION,
                    format!(
                        "unsupported MCP-Protocol-Version `{v}`; this server supports {}",
                        dispatch::SUPPORTED_PROTOCOL_VERSIONS.join(", ")
                    ),
                );
                r.error.data = Some(serde_json::json!({
                    "supported": dispatch::SUPPORTED_PROTOCOL_VERSIONS,
                    "requested": v,
                }));
                return Err(r);
            };
            Ok(version)
        }
        None => Ok(session.map_or(
            dispatch::DEFAULT_PROTOCOL_VERSION,
            Session::protocol_version,
        )),
    }
}

/// Reads and drops a small unread request body, so that a refusal keeps the connection open
/// (an unread body makes the server close it, and the client pays a new connection for every
/// refused request). Bodies over 64 KiB, or of unknown length, are not read: the connection
/// closes instead.
async fn drain(req: &HttpRequest, payload: &mut web::Payload) {
    use futures_util::StreamExt as _;
    const MAX_DRAIN: u64 = 64 * 1024;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_none_or(|n| n > MAX_DRAIN) {
        return;
    }
    let mut read = 0u64;
    while let Some(Ok(chunk)) = payload.next().await {
        read += chunk.len() as u64;
        if read > MAX_DRAIN {
            return;
        }
    }
}

/// `POST /mcp`: one JSON-RPC message (or a batch where the version allows it).
pub(crate) async fn post(req: HttpRequest, mut payload: web::Payload) -> HttpResponse {
    let (inner, auth) = match admit(&req).await {
        Ok(admitted) => admitted,
        Err(r) => {
            drain(&req, &mut payload).await;
            return r;
        }
    };
    let ct = req.headers().get(header::CONTENT_TYPE);
    // The exact value, which nearly every client sends, needs no checking and parsing.
    if ct.is_none_or(|ct| ct.as_bytes() != b"application/json") {
        let ct = ct.and_then(|v| v.to_str().ok()).unwrap_or("");
        let media_type = ct.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case("application/json") {
            note_refusal(inner, "unsupported_media_type");
            let r = refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::INVALID_REQUEST,
                format!("Content-Type must be application/json, got `{ct}`"),
            );
            drain(&req, &mut payload).await;
            return r;
        }
    }
    let accept = accepts(&req);
    if !accept.json && !accept.sse {
        note_refusal(inner, "not_acceptable");
        drain(&req, &mut payload).await;
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            code::INVALID_REQUEST,
            "the Accept header must include application/json and text/event-stream",
        );
    }
    if let Some(len) =
        header_str(req.headers(), &header::CONTENT_LENGTH).and_then(|l| l.parse::<usize>().ok())
        && len > inner.http.max_body_bytes
    {
        note_refusal(inner, "payload_too_large");
        return too_large(inner.http.max_body_bytes).into();
    }
    let body = match read_body(payload, inner.http.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => {
            note_refusal(inner, "payload_too_large");
            return r.into();
        }
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::PARSE_ERROR,
            "the request body is not UTF-8",
        );
    };
    // A request span held back until the body was read (feature `opentelemetry`): an
    // OpenTelemetry span takes its name and its parent (maybe `params._meta.traceparent`)
    // before it is first entered.
    #[cfg(feature = "opentelemetry")]
    if let Some((span, has_parent)) = crate::server::observe::deferred_span(&req) {
        use tracing::Instrument as _;
        crate::server::observe::name_and_parent(&span, text, has_parent);
        let _entered = span.enter();
        note_subject(inner, auth.as_ref());
        drop(_entered);
        return post_text(&req, inner, auth, text, accept)
            .instrument(span)
            .await;
    }
    post_text(&req, inner, auth, text, accept).await
}

/// The rest of a `POST`: the message, read and admitted.
async fn post_text(
    req: &HttpRequest,
    inner: &Inner,
    auth: Option<Auth>,
    text: &str,
    accept: crate::server::transport::respond::Accepts,
) -> HttpResponse {
    // The 2026-07-28 revision: no session, everything in the request.
    if crate::server::transport::modern::applies(req) {
        return crate::server::transport::modern::post(req, inner, auth, text, accept).await;
    }
    if text.trim_start().starts_with('[') {
        note_method(req, inner, "batch");
        let items: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(items) => items,
            Err(e) => return bad_request(&Value::Null, &jsonrpc::json_error(&e)),
        };
        let (session, version) = match session_and_version(req, inner, auth.as_ref()).await {
            Ok(sv) => sv,
            Err(r) => return r.into(),
        };
        return batch(inner, session, version, items, auth).await;
    }
    // The request that matters most, parsed in one pass.
    if let Some((id, params)) = dispatch::parse_call(text) {
        note_method(req, inner, "tools/call");
        note_id(&id);
        let (session, version) = match session_and_version(req, inner, auth.as_ref()).await {
            Ok(sv) => sv,
            Err(r) => return r.into(),
        };
        note_session(session.as_deref().map(Session::id), version);
        tracing::trace!(target: "mcp_runtime::rpc", method = %"tools/call", "request");
        let streams = accept.sse && inner.http.streaming;
        let anonymous = auth.is_none();
        let scope = RequestScope {
            session,
            version,
            notifies: streams,
            auth,
            meta: None,
        };
        let mut pending = dispatch::call_tool_with(inner, scope, &id, params);
        if let Some((scopes, message)) = pending.take_forbidden() {
            return forbidden(req, inner, &id, &scopes, &message, anonymous);
        }
        return respond(id, pending, streams, accept, Framing::LEGACY).await;
    }
    let message = match jsonrpc::parse_message(text) {
        Ok(m) => m,
        Err((id, err)) => return bad_request(&id, &err),
    };
    if let Message::Request { method, .. } | Message::Notification { method, .. } = &message {
        note_method(req, inner, method);
    }
    if let Message::Request { id, .. } = &message {
        note_id(id);
    }
    if let Message::Request { id, method, params } = &message
        && method == "initialize"
    {
        if !inner.http.stateless && req.headers().contains_key(&SESSION_NAME) {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::INVALID_REQUEST,
                "this session is already initialized; send `initialize` without an Mcp-Session-Id \
                 header to start a new session",
            );
        }
        let peer = req.peer_addr().map(|a| a.ip());
        return initialize(
            inner,
            id,
            *params,
            auth.map(|a| a.user.user_id.clone()),
            peer,
        )
        .await;
    }
    let (session, version) = match session_and_version(req, inner, auth.as_ref()).await {
        Ok(sv) => sv,
        Err(r) => return r.into(),
    };
    note_session(session.as_deref().map(Session::id), version);
    one(req, inner, session, version, accept, message, auth).await
}

fn bad_request(id: &Value, err: &RpcError) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type(APPLICATION_JSON.clone())
        .body(jsonrpc::error_body(id, err))
}

async fn session_and_version(
    req: &HttpRequest,
    inner: &Inner,
    auth: Option<&Auth>,
) -> Result<(Option<Arc<Session>>, &'static str), Refusal> {
    // An unsupported revision is said first: a client of a newer revision (which has no
    // sessions) learns from it which revisions to fall back to.
    if req.headers().contains_key(&VERSION_NAME) {
        request_version(req, None)?;
    }
    let session = find_session(req, inner).await?;
    if check_subject(session.as_deref(), auth, true)?
        && let (Some(shared), Some(s)) = (&inner.shared_sessions, &session)
    {
        // Bound now: the other replicas must refuse anyone else on it too.
        if let Err(e) = shared.save(&inner.sessions, s).await {
            tracing::warn!(target: "mcp_runtime::server", error = %e, "the session's new owner could not be saved to the shared store");
            return Err(refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                code::INTERNAL_ERROR,
                format!("the session cannot be saved to the shared store: {e}"),
            ));
        }
    }
    let version = request_version(req, session.as_deref())?;
    Ok((session, version))
}

async fn initialize(
    inner: &Inner,
    id: &Value,
    params: Option<&RawValue>,
    subject: Option<String>,
    peer: Option<std::net::IpAddr>,
) -> HttpResponse {
    let version = match dispatch::negotiate(params) {
        Ok(v) => v,
        Err(e) => return json_response(jsonrpc::error_body(id, &e)),
    };
    let reply = dispatch::initialize_result(inner, version);
    let body = jsonrpc::frame(id, &reply).unwrap_or_default();
    if inner.http.stateless {
        return json_response(body);
    }
    let client = ClientCapabilities::from_initialize(&jsonrpc::params_value(params));
    match inner.sessions.create_for(version, subject, client, peer) {
        Ok(session) => {
            // Saved for the other replicas before the client can send them a request.
            if let Some(shared) = &inner.shared_sessions
                && let Err(e) = shared.save(&inner.sessions, &session).await
            {
                inner.sessions.remove(session.id());
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code::INTERNAL_ERROR,
                    format!("the session cannot be saved to the shared store: {e}"),
                );
            }
            tracing::debug!(target: "mcp_runtime::rpc", session = session.id(), version, "session created");
            HttpResponse::Ok()
                .content_type(APPLICATION_JSON.clone())
                .insert_header((SESSION_NAME.clone(), session.id()))
                .body(body)
        }
        Err(e) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            code::INTERNAL_ERROR,
            e.to_string(),
        ),
    }
}

async fn one(
    req: &HttpRequest,
    inner: &Inner,
    session: Option<Arc<Session>>,
    version: &'static str,
    accept: Accepts,
    message: Message<'_>,
    auth: Option<Auth>,
) -> HttpResponse {
    let (id, method, params) = match message {
        Message::Request { id, method, params } => (id, method, params),
        Message::Notification { method, params } => {
            let scope = RequestScope {
                session,
                version,
                notifies: false,
                auth,
                meta: None,
            };
            dispatch::handle_notification(&scope, &method, params);
            return HttpResponse::Accepted().finish();
        }
        Message::Response { id, outcome } => {
            answer(session.as_deref(), &id, outcome);
            return HttpResponse::Accepted().finish();
        }
    };
    tracing::trace!(target: "mcp_runtime::rpc", %method, "request");
    let streams = method == "tools/call" && accept.sse && inner.http.streaming;
    let anonymous = auth.is_none();
    let scope = RequestScope {
        session,
        version,
        notifies: streams,
        auth,
        meta: None,
    };
    let mut pending = dispatch::handle_request(inner, scope, &id, &method, params);
    if let Some((scopes, message)) = pending.take_forbidden() {
        return forbidden(req, inner, &id, &scopes, &message, anonymous);
    }
    respond(id, pending, streams, accept, Framing::LEGACY).await
}

/// The client's answer to a request of the server: to the call waiting for it.
fn answer(session: Option<&Session>, id: &Value, outcome: Result<&RawValue, &RawValue>) {
    let delivered = session.is_some_and(|s| s.outgoing.deliver(id, outcome));
    if !delivered {
        // Late (the call gave up), repeated, or never asked: nothing waits for it.
        tracing::debug!(target: "mcp_runtime::rpc", %id, "a response nothing waits for was ignored");
    }
}

async fn batch(
    inner: &Inner,
    session: Option<Arc<Session>>,
    version: &'static str,
    items: Vec<&RawValue>,
    auth: Option<Auth>,
) -> HttpResponse {
    if version != "2025-03-26" {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            format!(
                "JSON-RPC batches are not allowed in protocol version {version} (only in 2025-03-26)"
            ),
        );
    }
    if items.is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            "an empty batch is not a valid request",
        );
    }
    let mut pending = Vec::new();
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    for item in items {
        match jsonrpc::parse_message(item.get()) {
            Ok(Message::Request { id, method, .. }) if method == "initialize" => {
                bodies.push(jsonrpc::error_body(
                    &id,
                    &RpcError::invalid_request("initialize must not be part of a batch"),
                ))
            }
            Ok(Message::Request { id, method, params }) => {
                let scope = RequestScope {
                    session: session.clone(),
                    version,
                    notifies: false,
                    auth: auth.clone(),
                    meta: None,
                };
                let fut = dispatch::handle_request(inner, scope, &id, &method, params);
                pending.push(async move { jsonrpc::frame(&id, &fut.await) });
            }
            Ok(Message::Notification { method, params }) => {
                let scope = RequestScope {
                    session: session.clone(),
                    version,
                    notifies: false,
                    auth: auth.clone(),
                    meta: None,
                };
                dispatch::handle_notification(&scope, &method, params);
            }
            Ok(Message::Response { id, outcome }) => answer(session.as_deref(), &id, outcome),
            Err((id, err)) => bodies.push(jsonrpc::error_body(&id, &err)),
        }
    }
    bodies.extend(
        futures_util::future::join_all(pending)
            .await
            .into_iter()
            .flatten(),
    );
    if bodies.is_empty() {
        return HttpResponse::Accepted().finish();
    }
    let mut out = b"[".to_vec();
    for (i, b) in bodies.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b);
    }
    out.push(b']');
    json_response(out)
}

/// `GET /mcp`: a stream for server-initiated messages.
pub(crate) async fn get(req: HttpRequest) -> HttpResponse {
    let (inner, auth) = match admit(&req).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    if inner.http.stateless {
        return method_not_allowed(
            "a stateless server sends no server-initiated messages; GET is not offered",
        );
    }
    if !accepts(&req).sse {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            code::INVALID_REQUEST,
            "GET needs `Accept: text/event-stream`",
        );
    }
    let session = match find_session(&req, inner)
        .await
        .and_then(|s| check_subject(s.as_deref(), auth.as_ref(), false).map(|_| s))
    {
        Ok(Some(s)) => s,
        Ok(None) => return method_not_allowed("no session"),
        Err(r) => return r.into(),
    };
    if let Err(r) = request_version(&req, Some(&session)) {
        return r.into();
    }
    // Resuming a call stream the server closed early (see `stream`).
    if let Some(last) = req.headers().get("last-event-id") {
        let resumed = last
            .to_str()
            .map_err(|_| "Last-Event-ID is not text".to_owned())
            .and_then(|last| session.replay.resume(last.trim()));
        return match resumed {
            Ok((log, cursor)) => sse_response(call_stream::resumed(
                session,
                log,
                cursor,
                inner.http.keepalive,
            )),
            Err(why) => refuse(StatusCode::BAD_REQUEST, code::INVALID_REQUEST, why),
        };
    }
    let rx = session.open_stream();
    let keepalive = inner.http.keepalive;
    let stream = futures_util::stream::unfold(
        (rx, session, None::<tokio::time::Interval>),
        move |(mut rx, session, iv)| async move {
            let mut iv = iv.unwrap_or_else(|| tokio::time::interval(keepalive));
            enum Ev {
                Msg(Bytes),
                Tick,
                End,
            }
            let ev = tokio::select! {
                m = rx.recv() => m.map_or(Ev::End, Ev::Msg),
                _ = iv.tick() => Ev::Tick,
                () = session.closed() => Ev::End,
            };
            match ev {
                Ev::Msg(m) => Some((Ok::<_, Infallible>(m), (rx, session, Some(iv)))),
                Ev::Tick => Some((
                    Ok(Bytes::from_static(b": keep-alive\n\n")),
                    (rx, session, Some(iv)),
                )),
                Ev::End => None,
            }
        },
    );
    sse_response(stream)
}

/// `DELETE /mcp`: ends a session.
pub(crate) async fn delete(req: HttpRequest) -> HttpResponse {
    let (inner, auth) = match admit(&req).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    if inner.http.stateless {
        return method_not_allowed("a stateless server has no sessions to delete");
    }
    match find_session(&req, inner)
        .await
        .and_then(|s| check_subject(s.as_deref(), auth.as_ref(), false).map(|_| s))
    {
        Ok(Some(s)) => {
            inner.sessions.remove(s.id());
            if let Some(shared) = &inner.shared_sessions
                && let Err(e) = shared.forget(s.id()).await
            {
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code::INTERNAL_ERROR,
                    format!(
                        "the session ended here, but the shared store could not forget it: {e}"
                    ),
                );
            }
            HttpResponse::Ok().finish()
        }
        Ok(None) => method_not_allowed("no session"),
        Err(r) => r.into(),
    }
}

fn method_not_allowed(why: &str) -> HttpResponse {
    let mut r = refuse(StatusCode::METHOD_NOT_ALLOWED, code::INVALID_REQUEST, why);
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
    r
}

/// Any other method on the endpoint.
pub(crate) async fn other(req: HttpRequest) -> HttpResponse {
    let m = req.method();
    if m == Method::OPTIONS {
        let mut r = HttpResponse::NoContent().finish();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
        return r;
    }
    method_not_allowed(&format!(
        "method {m} is not supported on the MCP endpoint; use POST, GET or DELETE"
    ))
}

/// What every method on the endpoint checks first: the server is mounted, the `Host` and
/// `Origin` are allowed, and the caller is authenticated (on a server with OAuth).
async fn admit(req: &HttpRequest) -> Result<(&Inner, Option<Auth>), HttpResponse> {
    let inner = server(req).ok_or_else(not_mounted)?;
    check_origin(req, inner).map_err(|r| {
        note_refusal(inner, "host_or_origin");
        HttpResponse::from(r)
    })?;
    let auth = authenticate(req, inner).await?;
    note_subject(inner, auth.as_ref());
    Ok((inner, auth))
}

/// The caller's identity on the request's span: personal data, so only when the operator
/// asked (`trace_subject`).
fn note_subject(inner: &Inner, auth: Option<&Auth>) {
    if inner.trace_subject
        && let Some(auth) = auth
    {
        in_span("enduser.id", &auth.user.user_id);
    }
}
