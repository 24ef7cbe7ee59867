//! The MCP Streamable HTTP transport on actix-web: POST, GET and DELETE on one endpoint.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};
use std::time::Duration;

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt as _};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::Inner;
use super::dispatch::{self, RequestScope};
use super::jsonrpc::{self, Message, Reply, RpcError, code};
use super::session::Session;

/// The session header.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The protocol version header.
pub const VERSION_HEADER: &str = "mcp-protocol-version";

/// A refusal before any JSON-RPC processing: an HTTP status plus a JSON-RPC error body.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    error: Box<RpcError>,
}

impl From<Refusal> for HttpResponse {
    fn from(r: Refusal) -> Self {
        let mut resp = HttpResponse::build(r.status)
            .content_type("application/json")
            .body(jsonrpc::error_body(&Value::Null, &r.error));
        if r.status == StatusCode::METHOD_NOT_ALLOWED {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
        }
        resp
    }
}

pub(crate) fn refusal(status: StatusCode, code: i32, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        error: Box::new(RpcError::new(code, message)),
    }
}

pub(crate) fn refuse(status: StatusCode, code: i32, message: impl Into<String>) -> HttpResponse {
    refusal(status, code, message).into()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The host name of a `Host` header or an origin's authority, without the port.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest
            .split(']')
            .next()
            .map_or(authority, |h| &authority[..h.len() + 2]);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// DNS-rebinding protection: the `Host` and `Origin` headers must name this server.
pub(crate) fn check_origin(req: &HttpRequest, inner: &Inner) -> Result<(), Refusal> {
    let cfg = &inner.http;
    let host = header_str(req.headers(), "host")
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    let hosts = cfg.effective_hosts();
    if let Some(hosts) = hosts {
        let name = host_name(host);
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                code::INVALID_REQUEST,
                format!(
                    "Host `{host}` is not allowed (DNS-rebinding protection); allow it with \
                     `allowed_hosts` or MCP_ALLOWED_HOSTS"
                ),
            ));
        }
    }
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    if cfg.allowed_origins.iter().any(|o| o == origin) {
        return Ok(());
    }
    let authority = origin.split_once("://").map(|(_, a)| a);
    let allowed = match (authority, hosts) {
        (Some(a), Some(hosts)) => hosts.iter().any(|h| h.eq_ignore_ascii_case(host_name(a))),
        (Some(a), None) => a.eq_ignore_ascii_case(host),
        (None, _) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(refusal(
            StatusCode::FORBIDDEN,
            code::INVALID_REQUEST,
            format!(
                "Origin `{origin}` is not allowed (DNS-rebinding protection); allow it with \
                 `allowed_origins` or MCP_ALLOWED_ORIGINS"
            ),
        ))
    }
}

/// What the client's `Accept` header allows.
#[derive(Clone, Copy)]
struct Accepts {
    json: bool,
    sse: bool,
}

fn accepts(req: &HttpRequest) -> Accepts {
    let Some(accept) = header_str(req.headers(), "accept") else {
        return Accepts {
            json: true,
            sse: false,
        };
    };
    let mut a = Accepts {
        json: false,
        sse: false,
    };
    for part in accept.split(',') {
        let media = part.split(';').next().unwrap_or("").trim();
        let is = |m: &str| media.eq_ignore_ascii_case(m);
        if is("application/json") || is("application/*") {
            a.json = true;
        } else if is("text/event-stream") || is("text/*") {
            a.sse = true;
        } else if is("*/*") {
            a.json = true;
            a.sse = true;
        }
    }
    a
}

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
fn find_session(req: &HttpRequest, inner: &Inner) -> Result<Option<Arc<Session>>, Refusal> {
    if inner.http.stateless {
        return Ok(None);
    }
    let Some(id) = header_str(req.headers(), SESSION_HEADER) else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            "missing Mcp-Session-Id header: send `initialize` first and repeat the session id it returns",
        ));
    };
    match inner.sessions.get(id) {
        Some(s) => Ok(Some(s)),
        None => Err(refusal(
            StatusCode::NOT_FOUND,
            code::SESSION_NOT_FOUND,
            "unknown or expired session: start a new one with `initialize`",
        )),
    }
}

/// The protocol version of a non-initialize request, from its header or its session.
///
/// Like the reference SDK, any supported version is accepted in the header, even one other than
/// the session's (the conformance suite sends `2025-03-26` on a 2025-11-25 session).
fn request_version(req: &HttpRequest, session: Option<&Session>) -> Result<&'static str, Refusal> {
    match header_str(req.headers(), VERSION_HEADER) {
        Some(v) => {
            let Some(version) = dispatch::supported_version(v.trim()) else {
                return Err(refusal(
                    StatusCode::BAD_REQUEST,
                    code::INVALID_REQUEST,
                    format!(
                        "unsupported MCP-Protocol-Version `{v}`; this server supports {}",
                        dispatch::SUPPORTED_PROTOCOL_VERSIONS.join(", ")
                    ),
                ));
            };
            Ok(version)
        }
        None => Ok(session.map_or(
            dispatch::DEFAULT_PROTOCOL_VERSION,
            Session::protocol_version,
        )),
    }
}

fn json_response(body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

fn sse_response(stream: impl Stream<Item = Result<Bytes, Infallible>> + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream)
}

/// `POST /mcp`: one JSON-RPC message (or a batch where the version allows it).
pub(crate) async fn post(
    req: HttpRequest,
    payload: web::Payload,
    inner: web::Data<Inner>,
) -> HttpResponse {
    let inner = inner.into_inner();
    if let Err(r) = check_origin(&req, &inner) {
        return r.into();
    }
    let ct = header_str(req.headers(), "content-type").unwrap_or("");
    if !ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/json")
    {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::INVALID_REQUEST,
            format!("Content-Type must be application/json, got `{ct}`"),
        );
    }
    let accept = accepts(&req);
    if !accept.json && !accept.sse {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            code::INVALID_REQUEST,
            "the Accept header must include application/json and text/event-stream",
        );
    }
    if let Some(len) =
        header_str(req.headers(), "content-length").and_then(|l| l.parse::<usize>().ok())
        && len > inner.http.max_body_bytes
    {
        return too_large(inner.http.max_body_bytes).into();
    }
    let body = match read_body(payload, inner.http.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => return r.into(),
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::PARSE_ERROR,
            "the request body is not UTF-8",
        );
    };
    if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(items) => items,
            Err(e) => return bad_request(&Value::Null, &jsonrpc::json_error(&e)),
        };
        let (session, version) = match session_and_version(&req, &inner) {
            Ok(sv) => sv,
            Err(r) => return r.into(),
        };
        return batch(&inner, session, version, items).await;
    }
    let message = match jsonrpc::parse_message(text) {
        Ok(m) => m,
        Err((id, err)) => return bad_request(&id, &err),
    };
    if let Message::Request { id, method, params } = &message
        && method == "initialize"
    {
        if !inner.http.stateless && req.headers().contains_key(SESSION_HEADER) {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::INVALID_REQUEST,
                "this session is already initialized; send `initialize` without an Mcp-Session-Id \
                 header to start a new session",
            );
        }
        return initialize(&inner, id, *params);
    }
    let (session, version) = match session_and_version(&req, &inner) {
        Ok(sv) => sv,
        Err(r) => return r.into(),
    };
    one(&inner, session, version, accept, message).await
}

fn bad_request(id: &Value, err: &RpcError) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("application/json")
        .body(jsonrpc::error_body(id, err))
}

fn session_and_version(
    req: &HttpRequest,
    inner: &Inner,
) -> Result<(Option<Arc<Session>>, &'static str), Refusal> {
    let session = find_session(req, inner)?;
    let version = request_version(req, session.as_deref())?;
    Ok((session, version))
}

fn initialize(inner: &Arc<Inner>, id: &Value, params: Option<&RawValue>) -> HttpResponse {
    let version = match dispatch::negotiate(params) {
        Ok(v) => v,
        Err(e) => return json_response(jsonrpc::error_body(id, &e)),
    };
    let reply = dispatch::initialize_result(inner, version);
    let body = jsonrpc::frame(id, &reply).unwrap_or_default();
    if inner.http.stateless {
        return json_response(body);
    }
    match inner.sessions.create(version) {
        Ok(session) => {
            tracing::debug!(target: "mcp_runtime::rpc", session = session.id(), version, "session created");
            HttpResponse::Ok()
                .content_type("application/json")
                .insert_header((SESSION_HEADER, session.id()))
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
    inner: &Arc<Inner>,
    session: Option<Arc<Session>>,
    version: &'static str,
    accept: Accepts,
    message: Message<'_>,
) -> HttpResponse {
    let (id, method, params) = match message {
        Message::Request { id, method, params } => (id, method, params),
        Message::Notification { method, params } => {
            let scope = RequestScope {
                session,
                version,
                notifier: None,
            };
            dispatch::handle_notification(&scope, &method, params);
            return HttpResponse::Accepted().finish();
        }
        Message::Response => return HttpResponse::Accepted().finish(),
    };
    tracing::trace!(target: "mcp_runtime::rpc", %method, "request");
    let streams = method == "tools/call" && accept.sse && inner.http.streaming;
    if !streams {
        let scope = RequestScope {
            session,
            version,
            notifier: None,
        };
        let reply = dispatch::handle_request(inner, scope, &id, &method, params).await;
        return match reply {
            Reply::Cancelled => json_response(jsonrpc::error_body(
                &id,
                &RpcError::new(
                    code::REQUEST_CANCELLED,
                    "the request was cancelled by the client",
                ),
            )),
            other => {
                let body = jsonrpc::frame(&id, &other).unwrap_or_default();
                if accept.json {
                    json_response(body)
                } else {
                    sse_response(futures_util::stream::once(std::future::ready(Ok(
                        jsonrpc::sse_event(&body),
                    ))))
                }
            }
        };
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let scope = RequestScope {
        session,
        version,
        notifier: Some(tx),
    };
    let mut fut = dispatch::handle_request(inner, scope, &id, &method, params);
    // Answer with plain JSON unless the tool sends a notification before it finishes.
    let first = if accept.json {
        tokio::select! {
            biased;
            reply = &mut fut => {
                if let Ok(n) = rx.try_recv() {
                    let mut s = CallStream::new(None, rx, id.clone());
                    s.queue.push_back(notification_event(&n));
                    s.finish(reply);
                    return sse_response(s);
                }
                return match jsonrpc::frame(&id, &reply) {
                    Some(body) => json_response(body),
                    None => json_response(jsonrpc::error_body(
                        &id,
                        &RpcError::new(code::REQUEST_CANCELLED, "the request was cancelled by the client"),
                    )),
                };
            }
            Some(n) = rx.recv() => Some(n),
        }
    } else {
        None
    };
    let mut stream = CallStream::new(Some(fut), rx, id);
    if let Some(n) = first {
        stream.queue.push_back(notification_event(&n));
    }
    sse_response(stream)
}

fn notification_event(n: &Value) -> Bytes {
    jsonrpc::sse_event(&serde_json::to_vec(n).unwrap_or_default())
}

/// The SSE body of one request: its notifications, then its response.
struct CallStream {
    fut: Option<BoxFuture<'static, Reply>>,
    rx: mpsc::UnboundedReceiver<Value>,
    id: Value,
    queue: VecDeque<Bytes>,
}

impl CallStream {
    fn new(
        fut: Option<BoxFuture<'static, Reply>>,
        rx: mpsc::UnboundedReceiver<Value>,
        id: Value,
    ) -> Self {
        CallStream {
            fut,
            rx,
            id,
            queue: VecDeque::new(),
        }
    }

    fn finish(&mut self, reply: Reply) {
        while let Ok(n) = self.rx.try_recv() {
            self.queue.push_back(notification_event(&n));
        }
        if let Some(body) = jsonrpc::frame(&self.id, &reply) {
            self.queue.push_back(jsonrpc::sse_event(&body));
        }
    }
}

impl Stream for CallStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(b) = this.queue.pop_front() {
            return Poll::Ready(Some(Ok(b)));
        }
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(Some(n)) = this.rx.poll_recv(cx) {
            return Poll::Ready(Some(Ok(notification_event(&n))));
        }
        let reply = ready!(fut.as_mut().poll(cx));
        this.fut = None;
        this.finish(reply);
        Poll::Ready(this.queue.pop_front().map(Ok))
    }
}

async fn batch(
    inner: &Arc<Inner>,
    session: Option<Arc<Session>>,
    version: &'static str,
    items: Vec<&RawValue>,
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
                    notifier: None,
                };
                let fut = dispatch::handle_request(inner, scope, &id, &method, params);
                pending.push(async move { jsonrpc::frame(&id, &fut.await) });
            }
            Ok(Message::Notification { method, params }) => {
                let scope = RequestScope {
                    session: session.clone(),
                    version,
                    notifier: None,
                };
                dispatch::handle_notification(&scope, &method, params);
            }
            Ok(Message::Response) => {}
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
pub(crate) async fn get(req: HttpRequest, inner: web::Data<Inner>) -> HttpResponse {
    let inner = inner.into_inner();
    if let Err(r) = check_origin(&req, &inner) {
        return r.into();
    }
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
    let session = match find_session(&req, &inner) {
        Ok(Some(s)) => s,
        Ok(None) => return method_not_allowed("no session"),
        Err(r) => return r.into(),
    };
    if let Err(r) = request_version(&req, Some(&session)) {
        return r.into();
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
pub(crate) async fn delete(req: HttpRequest, inner: web::Data<Inner>) -> HttpResponse {
    let inner = inner.into_inner();
    if let Err(r) = check_origin(&req, &inner) {
        return r.into();
    }
    if inner.http.stateless {
        return method_not_allowed("a stateless server has no sessions to delete");
    }
    match find_session(&req, &inner) {
        Ok(Some(s)) => {
            inner.sessions.remove(s.id());
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

/// Keep-alive period for GET streams.
pub(crate) const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_drop_ports() {
        assert_eq!(host_name("localhost:3000"), "localhost");
        assert_eq!(host_name("[::1]:8080"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
    }
}
