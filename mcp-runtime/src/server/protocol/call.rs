//! What one tool call shares between the transport that runs it, its session's in-flight
//! table and the tool's [`Context`](crate::Context) (`ContextInner`): cancellation, the
//! notifications bound for the client, and their levels ([`LogLevel`]).
//!
//! It lives inside the call's single `Arc` (the context), so a call costs no allocation for
//! either. A cancellation is a flag plus a wake-up of the task polling the call; the heavier
//! `CancellationToken` is made only for tools that await [`Context::cancelled`](crate::Context::cancelled).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use futures_util::task::AtomicWaker;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use super::logging::LogLevel;
use crate::server::session::Session;

/// One call's context, shared with the transport and the session's in-flight table.
pub(crate) struct ContextInner {
    pub(crate) tool: &'static str,
    /// A 2026-07-28 request's `_meta`.
    pub(crate) meta: Option<crate::server::modern::RequestMeta>,
    /// A 2026-07-28 request's input rounds (see `input`).
    pub(crate) inputs: Option<crate::server::protocol::input::Inputs>,
    pub(crate) auth: Option<crate::auth::Auth>,
    pub(crate) progress_token: Option<Value>,
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) call: CallState,
    /// Whether the call runs as a task, or may become one (see `tasks`).
    pub(crate) task: crate::server::protocol::tasks::TaskLink,
}

impl crate::server::session::InFlight for ContextInner {
    fn cancel(&self) {
        self.call.cancel();
    }
}

pub(crate) struct CallState {
    cancelled: AtomicBool,
    /// The task polling the call, woken by a cancellation or a notification.
    waker: AtomicWaker,
    /// Made by the first `Context::cancelled()`, cancelled with the call.
    token: Mutex<Option<CancellationToken>>,
    /// Notifications for the client; `None` when the response cannot carry them.
    outbox: Option<Mutex<Outbox>>,
    /// Whether the call's stream can be closed early and resumed (see `replay`).
    resumable: bool,
    /// The tool asked to close its stream early: the client's retry delay in milliseconds,
    /// plus one (0: not asked).
    close_after: std::sync::atomic::AtomicU64,
    /// What the protocol answers instead of the tool's error, when the tool failed because
    /// of it (2026-07-28: a capability the client did not declare).
    failure: Mutex<Option<crate::server::jsonrpc::RpcError>>,
}

#[derive(Default)]
struct Outbox {
    queue: VecDeque<Value>,
    /// False once the transport stopped listening: later notifications are dropped.
    closed: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CallState {
    /// `notifies`: whether the response can carry notifications (an SSE stream);
    /// `resumable`: whether that stream can be closed early and resumed.
    pub(crate) fn new(notifies: bool, resumable: bool) -> Self {
        CallState {
            cancelled: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            token: Mutex::new(None),
            outbox: notifies.then(|| Mutex::new(Outbox::default())),
            resumable: notifies && resumable,
            close_after: std::sync::atomic::AtomicU64::new(0),
            failure: Mutex::new(None),
        }
    }

    /// Records the protocol error the call's failure is (the first one wins).
    pub(crate) fn fail_with(&self, e: crate::server::jsonrpc::RpcError) {
        lock(&self.failure).get_or_insert(e);
    }

    /// The protocol error recorded, once.
    pub(crate) fn take_failure(&self) -> Option<crate::server::jsonrpc::RpcError> {
        lock(&self.failure).take()
    }

    /// Asks the transport to close the call's stream, telling the client to resume after
    /// `retry`; false when the stream cannot be resumed (nothing happens then).
    pub(crate) fn request_close(&self, retry: std::time::Duration) -> bool {
        if !self.resumable {
            return false;
        }
        let ms = u64::try_from(retry.as_millis()).unwrap_or(u64::MAX - 1);
        self.close_after
            .store(ms.saturating_add(1), Ordering::Release);
        self.waker.wake();
        true
    }

    /// The retry delay the tool asked for when it closed its stream, once.
    pub(crate) fn take_close(&self) -> Option<u64> {
        match self.close_after.swap(0, Ordering::AcqRel) {
            0 => None,
            ms => Some(ms - 1),
        }
    }

    /// Registers the task polling the call.
    pub(crate) fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Wakes the task polling the call (something it waits for changed).
    pub(crate) fn wake(&self) {
        self.waker.wake();
    }

    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.waker.wake();
        // Under the lock, so that a token made concurrently (see `token`) is cancelled too.
        if let Some(token) = &*lock(&self.token) {
            token.cancel();
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// A token cancelled with the call.
    pub(crate) fn token(&self) -> CancellationToken {
        let mut slot = lock(&self.token);
        let token = slot.get_or_insert_with(CancellationToken::new);
        if self.is_cancelled() {
            token.cancel();
        }
        token.clone()
    }

    /// Whether the response can carry notifications.
    pub(crate) fn notifies(&self) -> bool {
        self.outbox.is_some()
    }

    /// Queues a notification for the client; dropped when it cannot be delivered.
    pub(crate) fn send(&self, message: Value) {
        let Some(outbox) = &self.outbox else {
            return;
        };
        let mut outbox = lock(outbox);
        if outbox.closed {
            return;
        }
        outbox.queue.push_back(message);
        drop(outbox);
        self.waker.wake();
    }

    /// The oldest undelivered notification.
    pub(crate) fn try_recv(&self) -> Option<Value> {
        lock(self.outbox.as_ref()?).queue.pop_front()
    }

    /// The transport stopped listening: drop what is queued and whatever comes later.
    pub(crate) fn close(&self) {
        if let Some(outbox) = &self.outbox {
            let mut outbox = lock(outbox);
            outbox.closed = true;
            outbox.queue.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_made_before_or_after_a_cancellation_are_cancelled() {
        let early = CallState::new(false, false);
        let token = early.token();
        assert!(!token.is_cancelled());
        early.cancel();
        assert!(token.is_cancelled() && early.is_cancelled());

        let late = CallState::new(false, false);
        late.cancel();
        assert!(late.token().is_cancelled());
    }

    #[test]
    fn notifications_queue_until_the_transport_stops_listening() {
        let silent = CallState::new(false, false);
        silent.send(Value::from(1));
        assert_eq!(silent.try_recv(), None);

        let call = CallState::new(true, false);
        call.send(Value::from(1));
        call.send(Value::from(2));
        assert_eq!(call.try_recv(), Some(Value::from(1)));
        call.close();
        call.send(Value::from(3));
        assert_eq!(call.try_recv(), None);
    }
}
