//! The SSE body of one request: the tool's notifications (and requests to the client) as they
//! come, then its response.
//!
//! On a session of 2025-11-25 or later the stream is resumable: it opens with a priming event
//! (an id, no data), every event carries an id and is kept in the session's replay log, and
//! when the tool closes the stream early ([`Context::close_sse_stream`](crate::Context::close_sse_stream))
//! the stream ends with the client's `retry` delay while the call goes on, detached, writing
//! into the log that a `GET` with `Last-Event-ID` reads ([`resumed`]).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use serde_json::Value;

use crate::server::dispatch::Pending;
use crate::server::jsonrpc::{self, Reply};
use crate::server::protocol::replay::{Next, StreamLog};
use crate::server::session::Session;

/// An event with an id, kept in `log`.
fn logged_event(log: &StreamLog, data: &[u8]) -> Bytes {
    let (seq, id) = log.next_id();
    let mut out = Vec::with_capacity(data.len() + id.len() + 32);
    out.extend_from_slice(b"id: ");
    out.extend_from_slice(id.as_bytes());
    if data.is_empty() {
        // The priming event: an id and empty data, which clients do not dispatch.
        out.extend_from_slice(b"\ndata: \n\n");
    } else {
        out.extend_from_slice(b"\nevent: message\ndata: ");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\n\n");
    }
    let event = Bytes::from(out);
    log.record(seq, event.clone());
    event
}

/// Frames one message for the stream: with an id and logged when resumable.
fn event(log: Option<&StreamLog>, data: &[u8]) -> Bytes {
    match log {
        Some(log) => logged_event(log, data),
        None => jsonrpc::sse_event(data),
    }
}

/// The SSE body of one request: its notifications, then its response.
pub(crate) struct CallStream {
    /// `None` once the call was detached (its stream closed early).
    pending: Option<Pending>,
    /// Whether the reply (or the close) was queued; the stream ends once the queue is empty.
    answered: bool,
    id: Value,
    queue: VecDeque<Bytes>,
    log: Option<Arc<StreamLog>>,
    /// The revision's fields written into the result (see `jsonrpc::frame_with`).
    fields: &'static str,
}

impl CallStream {
    pub(crate) fn new(pending: Pending, id: Value, fields: &'static str) -> Self {
        let log = pending.resumable_in().map(|s| s.replay.open());
        let mut queue = VecDeque::new();
        if let Some(log) = &log {
            queue.push_back(logged_event(log, b""));
        }
        CallStream {
            pending: Some(pending),
            answered: false,
            id,
            queue,
            log,
            fields,
        }
    }

    pub(crate) fn push_notification(&mut self, n: &Value) {
        let data = serde_json::to_vec(n).unwrap_or_default();
        self.queue.push_back(event(self.log.as_deref(), &data));
    }

    pub(crate) fn finish(&mut self, reply: Reply) {
        self.answered = true;
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        let mut notes = Vec::new();
        while let Some(n) = pending.try_notification() {
            notes.push(n);
        }
        for n in &notes {
            self.push_notification(n);
        }
        if let Some(body) = jsonrpc::frame_with(&self.id, &reply, self.fields) {
            self.queue.push_back(event(self.log.as_deref(), &body));
        }
        if let Some(log) = &self.log {
            log.finish();
        }
    }

    /// Ends the stream with the client's retry delay; the call goes on, into the log.
    pub(crate) fn close_early(&mut self, retry_ms: u64) {
        let (Some(log), Some(pending)) = (self.log.clone(), self.pending.take()) else {
            return;
        };
        self.answered = true;
        self.queue
            .push_back(Bytes::from(format!("retry: {retry_ms}\n\n")));
        let (id, fields) = (self.id.clone(), self.fields);
        tracing::debug!(target: "mcp_runtime::rpc", stream = log.stream, "call stream closed early; the call goes on");
        actix_web::rt::spawn(run_detached(pending, id, log, fields));
    }
}

impl Drop for CallStream {
    fn drop(&mut self) {
        // The client went away before the call answered (and the call was not detached): the
        // call ends with its stream, and a resumption finds the log finished rather than
        // waiting for a response that will never come.
        if self.pending.is_some()
            && let Some(log) = &self.log
        {
            log.finish();
        }
    }
}

/// Drives a call whose stream was closed, writing its events into the log.
async fn run_detached(mut pending: Pending, id: Value, log: Arc<StreamLog>, fields: &'static str) {
    let reply = std::future::poll_fn(|cx| {
        while let Poll::Ready(n) = pending.poll_notification(cx) {
            logged_event(&log, &serde_json::to_vec(&n).unwrap_or_default());
        }
        Pin::new(&mut pending).poll(cx)
    })
    .await;
    while let Some(n) = pending.try_notification() {
        logged_event(&log, &serde_json::to_vec(&n).unwrap_or_default());
    }
    if let Some(body) = jsonrpc::frame_with(&id, &reply, fields) {
        logged_event(&log, &body);
    }
    log.finish();
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
        if this.answered {
            return Poll::Ready(None);
        }
        let Some(pending) = this.pending.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(n) = pending.poll_notification(cx) {
            this.push_notification(&n);
            return Poll::Ready(this.queue.pop_front().map(Ok));
        }
        if let Some(retry) = pending.take_close() {
            this.close_early(retry);
            return Poll::Ready(this.queue.pop_front().map(Ok));
        }
        let reply = ready!(Pin::new(pending).poll(cx));
        this.finish(reply);
        Poll::Ready(this.queue.pop_front().map(Ok))
    }
}

/// A resumed call stream (`GET` with `Last-Event-ID`): the events after `cursor`, then the
/// rest as they come, until the response; keep-alive comments while it waits.
pub(super) fn resumed(
    session: Arc<Session>,
    log: Arc<StreamLog>,
    cursor: u64,
    keepalive: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    enum Step {
        Send(Bytes),
        End,
        Again,
    }
    futures_util::stream::unfold(
        (session, log, cursor, None::<tokio::time::Interval>),
        move |(session, log, mut cursor, iv)| async move {
            let mut iv = iv.unwrap_or_else(|| tokio::time::interval(keepalive));
            loop {
                let step = {
                    let changed = log.changed();
                    tokio::pin!(changed);
                    // Registered before reading: a change after the read wakes it.
                    changed.as_mut().enable();
                    match log.read_after(&mut cursor) {
                        Next::Events(events) => Step::Send(Bytes::from(events.concat())),
                        Next::End => Step::End,
                        Next::Gap => {
                            tracing::debug!(target: "mcp_runtime::rpc", stream = log.stream, "a resumed stream fell behind its log; it ends");
                            Step::End
                        }
                        Next::Wait => tokio::select! {
                            () = &mut changed => Step::Again,
                            _ = iv.tick() => Step::Send(Bytes::from_static(b": keep-alive\n\n")),
                            () = session.closed() => Step::End,
                        },
                    }
                };
                match step {
                    Step::Send(chunk) => {
                        return Some((Ok(chunk), (session, log, cursor, Some(iv))));
                    }
                    Step::End => return None,
                    Step::Again => {}
                }
            }
        },
    )
}
