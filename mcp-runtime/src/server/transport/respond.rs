//! How one request is answered over HTTP: plain JSON, or an SSE stream when the client
//! accepts one and the tool sends something before it finishes; framed for the request's
//! revision (2026-07-28 results carry `resultType`, and its errors have HTTP statuses).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::Poll;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::Stream;
use serde_json::Value;

use crate::server::dispatch::Pending;
use crate::server::jsonrpc::{self, Reply, RpcError, code};
use crate::server::modern;
use crate::server::stream::CallStream;

static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
static TEXT_EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");

/// What the client's `Accept` header allows.
#[derive(Clone, Copy)]
pub(crate) struct Accepts {
    pub(crate) json: bool,
    pub(crate) sse: bool,
}

pub(crate) fn accepts(req: &HttpRequest) -> Accepts {
    let value = req.headers().get(header::ACCEPT);
    // What MCP clients send, recognized without checking and splitting it up.
    if value.is_some_and(|v| v.as_bytes() == b"application/json, text/event-stream") {
        return Accepts {
            json: true,
            sse: true,
        };
    }
    let Some(accept) = value.and_then(|v| v.to_str().ok()) else {
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

pub(crate) fn json_response(body: Vec<u8>) -> HttpResponse {
    json_with_status(StatusCode::OK, body)
}

fn json_with_status(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    let mut response = HttpResponse::with_body(status, body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, APPLICATION_JSON.clone());
    response.map_into_boxed_body()
}

pub(crate) fn sse_response(
    stream: impl Stream<Item = Result<Bytes, Infallible>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(TEXT_EVENT_STREAM.clone())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream)
}

/// How replies are framed: the revision's fields written into results, and whether errors
/// get the revision's HTTP statuses.
#[derive(Clone, Copy)]
pub(crate) struct Framing {
    pub(crate) fields: &'static str,
    pub(crate) statuses: bool,
}

impl Framing {
    /// Before 2026-07-28: results as they are, every response 200.
    pub(crate) const LEGACY: Framing = Framing {
        fields: "",
        statuses: false,
    };
    /// 2026-07-28, for results that are not listings.
    pub(crate) const MODERN: Framing = Framing {
        fields: r#""resultType":"complete""#,
        statuses: true,
    };
}

/// The JSON answer to a finished request (a cancelled one included).
pub(crate) fn json_answer(id: &Value, reply: &Reply, fields: &str, statuses: bool) -> HttpResponse {
    match reply {
        Reply::Cancelled => json_response(jsonrpc::error_body(
            id,
            &RpcError::new(
                code::REQUEST_CANCELLED,
                "the request was cancelled by the client",
            ),
        )),
        Reply::Err(e) if statuses => json_with_status(
            StatusCode::from_u16(modern::status_of(e)).unwrap_or(StatusCode::OK),
            jsonrpc::error_body(id, e),
        ),
        other => json_response(jsonrpc::frame_with(id, other, fields).unwrap_or_default()),
    }
}

/// Answers a request: plain JSON, or an SSE stream when `streams` and the tool sends
/// notifications (or closes its stream early) before it finishes.
pub(crate) async fn respond(
    id: Value,
    mut pending: Pending,
    streams: bool,
    accept: Accepts,
    framing: Framing,
) -> HttpResponse {
    if !streams {
        let reply = (&mut pending).await;
        if accept.json || matches!(reply, Reply::Cancelled) {
            return json_answer(&id, &reply, framing.fields, framing.statuses);
        }
        let body = jsonrpc::frame_with(&id, &reply, framing.fields).unwrap_or_default();
        return sse_response(futures_util::stream::once(std::future::ready(Ok(
            jsonrpc::sse_event(&body),
        ))));
    }
    enum First {
        Note(Value),
        Close(u64),
        Done(Reply),
    }
    let first = if accept.json {
        std::future::poll_fn(|cx| match Pin::new(&mut pending).poll(cx) {
            Poll::Ready(reply) => Poll::Ready(First::Done(reply)),
            Poll::Pending => match pending.poll_notification(cx) {
                Poll::Ready(n) => Poll::Ready(First::Note(n)),
                Poll::Pending => pending
                    .take_close()
                    .map_or(Poll::Pending, |ms| Poll::Ready(First::Close(ms))),
            },
        })
        .await
    } else {
        return sse_response(CallStream::new(pending, id, framing.fields));
    };
    let reply = match first {
        First::Done(reply) => reply,
        First::Note(n) => {
            let mut stream = CallStream::new(pending, id, framing.fields);
            stream.push_notification(&n);
            return sse_response(stream);
        }
        First::Close(ms) => {
            let mut stream = CallStream::new(pending, id, framing.fields);
            stream.close_early(ms);
            return sse_response(stream);
        }
    };
    if let Some(n) = pending.try_notification() {
        let mut s = CallStream::new(pending, id.clone(), framing.fields);
        s.push_notification(&n);
        s.finish(reply);
        return sse_response(s);
    }
    json_answer(&id, &reply, framing.fields, framing.statuses)
}
