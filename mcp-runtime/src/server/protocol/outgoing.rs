//! Requests from the server to the client (sampling, elicitation, roots), on the revisions
//! with sessions: sent on the SSE stream of the tool call that makes them, answered by the
//! client in a POST of its own, and matched to the waiting call by id.
//!
//! What the client can answer is what it declared at `initialize` ([`ClientCapabilities`]);
//! a request it did not declare is refused before anything is sent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::oneshot;

use crate::server::jsonrpc::RpcError;

/// The extension's name, in capabilities.
pub(crate) const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// What the client said it supports, from `initialize`'s `params.capabilities`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ClientCapabilities {
    pub(crate) sampling: bool,
    /// Form-mode elicitation: `elicitation: {}` (before 2025-11-25, the only mode) or
    /// `elicitation: {"form": {}}`.
    pub(crate) elicitation_form: bool,
    /// URL-mode elicitation (2025-11-25): `elicitation: {"url": {}}`.
    pub(crate) elicitation_url: bool,
    pub(crate) roots: bool,
    /// The tasks extension (2026-07-28): `extensions: {"io.modelcontextprotocol/tasks": {}}`.
    pub(crate) tasks: bool,
}

impl ClientCapabilities {
    /// Reads `initialize`'s params; anything malformed counts as not declared.
    pub(crate) fn from_initialize(params: &Value) -> Self {
        params
            .get("capabilities")
            .map(Self::from_object)
            .unwrap_or_default()
    }

    /// Reads a capabilities object (`initialize`'s, or a 2026-07-28 request's `_meta`).
    pub(crate) fn from_object(capabilities: &Value) -> Self {
        let caps = Some(capabilities);
        let declared = |name: &str| caps.and_then(|c| c.get(name)).filter(|v| v.is_object());
        let elicitation = declared("elicitation");
        let mode = |m: &str| {
            elicitation
                .and_then(|e| e.get(m))
                .is_some_and(Value::is_object)
        };
        ClientCapabilities {
            sampling: declared("sampling").is_some(),
            // An empty object is form mode, for compatibility with 2025-06-18.
            elicitation_form: elicitation
                .is_some_and(|e| mode("form") || e.as_object().is_some_and(|o| o.is_empty())),
            elicitation_url: mode("url"),
            roots: declared("roots").is_some(),
            tasks: declared("extensions")
                .and_then(|e| e.get(super::tasks::EXTENSION))
                .is_some_and(Value::is_object),
        }
    }
}

/// The client's answer: its `result`, or its `error`.
pub(crate) type Answer = Result<Value, RpcError>;

/// A session's requests awaiting the client's answer.
#[derive(Default)]
pub(crate) struct Outgoing {
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
}

/// Requests this process sent, in any session: a session adopted again never reuses an id.
static SENT: AtomicU64 = AtomicU64::new(0);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while this lock is held.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Outgoing {
    /// A fresh request id and where its answer will arrive. The id is a string the client's
    /// own ids cannot be confused with in logs (`s-<this process>-1`, `s-<this process>-2`,
    /// ...): an answer brought to another replica sharing the session matches nothing there.
    pub(crate) fn register(&self) -> (String, oneshot::Receiver<Answer>) {
        let id = format!(
            "s-{:016x}-{}",
            super::instance(),
            SENT.fetch_add(1, Ordering::Relaxed) + 1
        );
        let (tx, rx) = oneshot::channel();
        lock(&self.waiting).insert(id.clone(), tx);
        (id, rx)
    }

    /// Stops waiting for `id` (the call gave up or ended).
    pub(crate) fn forget(&self, id: &str) {
        lock(&self.waiting).remove(id);
    }

    /// Hands the client's answer to the call waiting for it; false when none waits (an
    /// unknown, late or repeated answer).
    pub(crate) fn deliver(&self, id: &Value, outcome: Result<&RawValue, &RawValue>) -> bool {
        let Some(id) = id.as_str() else {
            return false;
        };
        let Some(tx) = lock(&self.waiting).remove(id) else {
            return false;
        };
        let answer = match outcome {
            Ok(result) => serde_json::from_str(result.get()).map_err(|e| {
                RpcError::invalid_params(format!("the client's result is not valid JSON: {e}"))
            }),
            Err(error) => Err(
                serde_json::from_str::<RpcError>(error.get()).unwrap_or_else(|_| {
                    RpcError::new(
                        crate::server::jsonrpc::code::INTERNAL_ERROR,
                        format!(
                            "the client answered with a malformed error: {}",
                            error.get()
                        ),
                    )
                }),
            ),
        };
        // The call may have given up in the meantime; nothing to do then.
        let _ = tx.send(answer);
        true
    }

    /// The session ended: every waiting call learns it at once.
    pub(crate) fn close(&self) {
        lock(&self.waiting).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capabilities_follow_the_revisions() {
        let caps = |c: Value| ClientCapabilities::from_initialize(&json!({ "capabilities": c }));
        assert_eq!(caps(json!({})), ClientCapabilities::default());
        let old = caps(json!({"elicitation": {}, "sampling": {}, "roots": {"listChanged": true}}));
        assert!(old.elicitation_form && !old.elicitation_url && old.sampling && old.roots);
        let url_only = caps(json!({"elicitation": {"url": {}}}));
        assert!(!url_only.elicitation_form && url_only.elicitation_url);
        let both = caps(json!({"elicitation": {"form": {}, "url": {}}}));
        assert!(both.elicitation_form && both.elicitation_url);
        assert_eq!(
            caps(json!({"sampling": true, "elicitation": []})),
            ClientCapabilities::default()
        );
    }

    #[test]
    fn answers_reach_only_the_request_waiting_for_them() {
        let out = Outgoing::default();
        let (id, mut rx) = out.register();
        let raw = RawValue::from_string("{\"ok\":1}".into()).expect("raw");
        assert!(
            !out.deliver(&json!(1), Ok(&raw)),
            "numbers are never our ids"
        );
        assert!(!out.deliver(&json!("s-999"), Ok(&raw)));
        // The id names this process: the same counter on another replica is another id.
        assert!(
            id.starts_with(&format!("s-{:016x}-", super::super::instance())),
            "{id}"
        );
        // Another session (or a new copy of this one) never hands out the same id.
        let (other, _rx) = Outgoing::default().register();
        assert_ne!(other, id);
        let elsewhere = format!("s-{:016x}-1", super::super::instance() ^ 1);
        assert!(!out.deliver(&json!(elsewhere), Ok(&raw)));
        assert!(out.deliver(&json!(id), Ok(&raw)));
        assert_eq!(
            rx.try_recv().expect("answer").expect("ok"),
            json!({"ok": 1})
        );
        assert!(
            !out.deliver(&json!(id), Ok(&raw)),
            "an answer is taken once"
        );

        let (id, mut rx) = out.register();
        let err = RawValue::from_string("{\"code\":-1,\"message\":\"no\"}".into()).expect("raw");
        out.deliver(&json!(id), Err(&err));
        assert_eq!(
            rx.try_recv().expect("answer").expect_err("error").message,
            "no"
        );

        let (_, mut rx) = out.register();
        out.close();
        assert!(rx.try_recv().is_err(), "a closed session drops its waiters");
    }
}
