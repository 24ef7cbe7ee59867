//! The SSE body of one request: the tool's notifications as they come, then its response.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use serde_json::Value;

use crate::server::dispatch::Pending;
use crate::server::jsonrpc::{self, Reply};

pub(super) fn notification_event(n: &Value) -> Bytes {
    jsonrpc::sse_event(&serde_json::to_vec(n).unwrap_or_default())
}

/// The SSE body of one request: its notifications, then its response.
pub(super) struct CallStream {
    pending: Pending,
    /// Whether the reply was queued; the stream ends once the queue is empty.
    answered: bool,
    id: Value,
    pub(super) queue: VecDeque<Bytes>,
}

impl CallStream {
    pub(super) fn new(pending: Pending, id: Value) -> Self {
        CallStream {
            pending,
            answered: false,
            id,
            queue: VecDeque::new(),
        }
    }

    pub(super) fn finish(&mut self, reply: Reply) {
        self.answered = true;
        while let Some(n) = self.pending.try_notification() {
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
        if this.answered {
            return Poll::Ready(None);
        }
        if let Poll::Ready(n) = this.pending.poll_notification(cx) {
            return Poll::Ready(Some(Ok(notification_event(&n))));
        }
        let reply = ready!(Pin::new(&mut this.pending).poll(cx));
        this.finish(reply);
        Poll::Ready(this.queue.pop_front().map(Ok))
    }
}
