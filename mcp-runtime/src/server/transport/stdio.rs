//! The stdio transport: newline-delimited JSON-RPC on standard input and output, one session
//! for the life of the process (the MCP specification's stdio transport).
//!
//! Requests run concurrently; each one's notifications (progress, logs) and the server's
//! requests (sampling, elicitation) are written as they happen, then its answer. Whatever the
//! server sends outside a request (list changes, resource updates) goes out too. Nothing but
//! JSON-RPC messages is ever written to the output: logs go to standard error. A line longer
//! than the server's body limit is refused, and reading goes on with the next line. End of
//! input ends the session and the transport.
//!
//! There is no OAuth over stdio (the specification leaves credentials to the environment):
//! whoever can start the process is the caller, [`local_caller`].

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::auth::{Auth, AuthData, UserInfo};
use crate::server::Inner;
use crate::server::dispatch::{self, Pending, RequestScope};
use crate::server::jsonrpc::{self, Message, Reply, RpcError, code};
use crate::server::outgoing::ClientCapabilities;
use crate::server::session::Session;

/// How many messages may wait for the output before producers wait.
const OUTPUT_QUEUE: usize = 256;

/// The caller over stdio: the user who started the process (`MCP_STDIO_USER`, else `USER` or
/// `USERNAME`, else `local`), with every scope the server advertises: over stdio there is no
/// authorization (the specification leaves credentials to the environment), and whoever can
/// start the process can do what it does.
pub(crate) fn local_caller(inner: &Inner) -> Option<Auth> {
    if !inner.rules.has_oauth {
        return None;
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let user = env("MCP_STDIO_USER")
        .or_else(|| env("USER"))
        .or_else(|| env("USERNAME"))
        .unwrap_or_else(|| "local".to_owned());
    let scopes = inner.rules.advertised.clone().unwrap_or_default();
    Some(Auth::from(AuthData::new(UserInfo::new(user), scopes)))
}

/// Serves `inner` over `input` and `output` until the input ends.
pub(crate) async fn serve<R, W>(inner: Arc<Inner>, input: R, output: W) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + 'static,
{
    let (tx, rx) = mpsc::channel::<Vec<u8>>(OUTPUT_QUEUE);
    let writer = actix_web::rt::spawn(write_lines(output, rx));
    let caller = local_caller(&inner);
    let result = read_loop(&inner, input, &tx, caller).await;
    drop(tx);
    // Whatever was answered is written before the transport returns.
    let _ = writer.await;
    result
}

async fn write_lines<W: AsyncWrite + Unpin>(
    mut output: W,
    mut rx: mpsc::Receiver<Vec<u8>>,
) -> std::io::Result<()> {
    while let Some(mut line) = rx.recv().await {
        line.push(b'\n');
        output.write_all(&line).await?;
        // Drain what is already queued before the flush: one system call for a burst.
        while let Ok(mut more) = rx.try_recv() {
            more.push(b'\n');
            output.write_all(&more).await?;
        }
        output.flush().await?;
    }
    Ok(())
}

/// A line of input: a message, a line past the limit (skipped whole), or the end.
enum Line {
    Text(Vec<u8>),
    TooLong,
    End,
}

/// Reads one line of at most `limit` bytes (the newline and a `\r` before it dropped).
async fn read_line<R: AsyncBufRead + Unpin>(input: &mut R, limit: usize) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if too_long {
                Line::TooLong
            } else if line.is_empty() {
                Line::End
            } else {
                Line::Text(line)
            });
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > limit {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            if too_long {
                return Ok(Line::TooLong);
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Line::Text(line));
        }
    }
}

async fn read_loop<R: AsyncBufRead + Unpin>(
    inner: &Arc<Inner>,
    mut input: R,
    tx: &mpsc::Sender<Vec<u8>>,
    caller: Option<Auth>,
) -> std::io::Result<()> {
    let limit = inner.http.max_body_bytes;
    let mut session: Option<Arc<Session>> = None;
    let mut version = dispatch::DEFAULT_PROTOCOL_VERSION;
    loop {
        let text = match read_line(&mut input, limit).await? {
            Line::End => break,
            Line::TooLong => {
                send(
                    tx,
                    jsonrpc::error_body(
                        &Value::Null,
                        &RpcError::new(
                            code::INVALID_REQUEST,
                            format!("a message is larger than {limit} bytes; it was skipped"),
                        ),
                    ),
                )
                .await;
                continue;
            }
            Line::Text(t) => t,
        };
        let Ok(text) = std::str::from_utf8(&text) else {
            send(
                tx,
                jsonrpc::error_body(
                    &Value::Null,
                    &RpcError::new(code::PARSE_ERROR, "a message is not UTF-8"),
                ),
            )
            .await;
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        if let Some(s) = &session {
            let _ = inner.sessions.get(s.id());
        }
        let message = match jsonrpc::parse_message(text) {
            Ok(m) => m,
            Err((id, err)) => {
                send(tx, jsonrpc::error_body(&id, &err)).await;
                continue;
            }
        };
        match message {
            Message::Request { id, method, params } if method == "initialize" => {
                let reply = match dispatch::negotiate(params) {
                    Ok(v) => v,
                    Err(e) => {
                        send(tx, jsonrpc::error_body(&id, &e)).await;
                        continue;
                    }
                };
                if let Some(old) = session.take() {
                    inner.sessions.remove(old.id());
                }
                version = reply;
                let client = ClientCapabilities::from_initialize(&jsonrpc::params_value(params));
                let subject = caller.as_ref().map(|a| a.user.user_id.clone());
                match inner.sessions.create_for(version, subject, client, None) {
                    Ok(s) => {
                        forward_stream(&s, tx.clone());
                        keep_alive(inner.clone(), &s);
                        session = Some(s);
                    }
                    Err(e) => {
                        send(
                            tx,
                            jsonrpc::error_body(
                                &id,
                                &RpcError::new(code::INTERNAL_ERROR, e.to_string()),
                            ),
                        )
                        .await;
                        continue;
                    }
                }
                let body = jsonrpc::frame(&id, &dispatch::initialize_result(inner, version))
                    .unwrap_or_default();
                send(tx, body).await;
            }
            Message::Request { id, method, params } => {
                tracing::trace!(target: "mcp_runtime::rpc", %method, "request (stdio)");
                let scope = RequestScope {
                    session: session.clone(),
                    version,
                    notifies: true,
                    auth: caller.clone(),
                    meta: None,
                };
                let mut pending = dispatch::handle_request(inner, scope, &id, &method, params);
                if let Some((_, message)) = pending.take_forbidden() {
                    send(
                        tx,
                        jsonrpc::error_body(&id, &RpcError::new(code::INVALID_REQUEST, message)),
                    )
                    .await;
                    continue;
                }
                actix_web::rt::spawn(answer(id, pending, tx.clone()));
            }
            Message::Notification { method, params } => {
                let scope = RequestScope {
                    session: session.clone(),
                    version,
                    notifies: false,
                    auth: caller.clone(),
                    meta: None,
                };
                dispatch::handle_notification(&scope, &method, params);
            }
            Message::Response { id, outcome } => {
                let delivered = session
                    .as_deref()
                    .is_some_and(|s| s.outgoing.deliver(&id, outcome));
                if !delivered {
                    tracing::debug!(target: "mcp_runtime::rpc", %id, "a response nothing waits for was ignored");
                }
            }
        }
    }
    if let Some(s) = session {
        inner.sessions.remove(s.id());
    }
    Ok(())
}

async fn send(tx: &mpsc::Sender<Vec<u8>>, body: Vec<u8>) {
    // The writer is gone only when the output is closed: nothing to tell anyone then.
    let _ = tx.send(body).await;
}

/// Writes the request's notifications as they come, then its answer (nothing for a request
/// the client cancelled).
async fn answer(id: Value, mut pending: Pending, tx: mpsc::Sender<Vec<u8>>) {
    enum Next {
        Note(Value),
        Done(Reply),
    }
    loop {
        let next = std::future::poll_fn(|cx| match pending.poll_notification(cx) {
            Poll::Ready(n) => Poll::Ready(Next::Note(n)),
            Poll::Pending => match Pin::new(&mut pending).poll(cx) {
                Poll::Ready(r) => Poll::Ready(Next::Done(r)),
                Poll::Pending => Poll::Pending,
            },
        })
        .await;
        match next {
            Next::Note(n) => send(&tx, n.to_string().into_bytes()).await,
            Next::Done(reply) => {
                while let Some(n) = pending.try_notification() {
                    send(&tx, n.to_string().into_bytes()).await;
                }
                if !matches!(reply, Reply::Cancelled) {
                    send(&tx, jsonrpc::frame(&id, &reply).unwrap_or_default()).await;
                }
                return;
            }
        }
    }
}

/// Keeps the session from expiring however long the client idles: it lives as long as the
/// process (or until a new `initialize` replaces it).
fn keep_alive(inner: Arc<Inner>, session: &Arc<Session>) {
    let session = Arc::downgrade(session);
    actix_web::rt::spawn(async move {
        let every = (inner.sessions.idle_timeout() / 4)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        loop {
            tokio::time::sleep(every).await;
            let Some(s) = session.upgrade() else { return };
            if inner.sessions.get(s.id()).is_none() {
                return;
            }
        }
    });
}

/// Sends what the server addresses to the session outside any request (the messages an HTTP
/// client would get on its GET stream) to the output.
fn forward_stream(session: &Arc<Session>, tx: mpsc::Sender<Vec<u8>>) {
    let mut rx = session.open_stream();
    actix_web::rt::spawn(async move {
        while let Some(event) = rx.recv().await {
            if let Some(json) = sse_data(&event) {
                send(&tx, json).await;
            }
        }
    });
}

/// The JSON of one of this server's SSE events (its `data:` lines joined).
fn sse_data(event: &Bytes) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(event).ok()?;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(data) = line.strip_prefix("data:") {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(data.strip_prefix(' ').unwrap_or(data).as_bytes());
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded_and_split() {
        let mut input: &[u8] = b"{\"a\":1}\r\n0123456789012345\nshort\nlast";
        let i = &mut input;
        assert!(matches!(read_line(i, 10).await.expect("io"), Line::Text(t) if t == b"{\"a\":1}"));
        assert!(matches!(read_line(i, 10).await.expect("io"), Line::TooLong));
        assert!(matches!(read_line(i, 10).await.expect("io"), Line::Text(t) if t == b"short"));
        assert!(matches!(read_line(i, 10).await.expect("io"), Line::Text(t) if t == b"last"));
        assert!(matches!(read_line(i, 10).await.expect("io"), Line::End));
    }

    #[test]
    fn sse_events_give_back_their_json() {
        let e = Bytes::from_static(b"id: 3\nevent: message\ndata: {\"x\":1}\n\n");
        assert_eq!(sse_data(&e).as_deref(), Some(&b"{\"x\":1}"[..]));
        assert_eq!(sse_data(&Bytes::from_static(b": keepalive\n\n")), None);
    }
}
