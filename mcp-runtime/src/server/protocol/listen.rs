//! `subscriptions/listen` (2026-07-28): a long-lived response stream on which the client
//! receives the notifications it opted in to (list changes, updates of chosen resources),
//! each tagged with the id of the listen request. It replaces the GET stream and
//! `resources/subscribe` of the revisions with sessions.

use std::sync::Mutex;

use bytes::Bytes;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::server::jsonrpc::{self, RpcError};

const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// Events a stream may have waiting: a client that stops reading loses its stream (and
/// listens again) instead of growing the server's memory.
pub(crate) const QUEUE: usize = 256;
/// Resources one stream may follow.
const MAX_URIS: usize = 1000;

/// What a listener opted in to (and the server agreed to).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) tools: bool,
    pub(crate) prompts: bool,
    pub(crate) resources: bool,
    pub(crate) uris: Vec<String>,
    /// Tasks whose status changes the client follows (`notifications/tasks`).
    pub(crate) task_ids: Vec<String>,
}

/// Which notification a change is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    Tools,
    Prompts,
    Resources,
    Updated(&'a str),
    Task(&'a str),
}

impl Filter {
    /// Reads `params.notifications`.
    pub(crate) fn parse(params: &Value) -> Result<Filter, RpcError> {
        let bad = |m: &str| RpcError::invalid_params(format!("subscriptions/listen: {m}"));
        let Some(n) = params.get("notifications") else {
            return Err(bad(
                "`params.notifications` (the notifications to receive) is required",
            ));
        };
        let Some(n) = n.as_object() else {
            return Err(bad("`notifications` must be an object"));
        };
        let flag = |k: &str| -> Result<bool, RpcError> {
            match n.get(k) {
                None | Some(Value::Null) => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(_) => Err(bad(&format!("`notifications.{k}` must be a boolean"))),
            }
        };
        let uris = match n.get("resourceSubscriptions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|u| {
                    u.as_str().map(str::to_owned).ok_or_else(|| {
                        bad("`notifications.resourceSubscriptions` must be a list of URIs")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(bad(
                    "`notifications.resourceSubscriptions` must be a list of URIs",
                ));
            }
        };
        let task_ids = match n.get("taskIds") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|u| {
                    u.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad("`notifications.taskIds` must be a list of task ids"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("`notifications.taskIds` must be a list of task ids")),
        };
        if task_ids.len() > MAX_URIS {
            return Err(bad(&format!(
                "`notifications.taskIds` names {} tasks; at most {MAX_URIS} per stream",
                task_ids.len()
            )));
        }
        if uris.len() > MAX_URIS {
            return Err(bad(&format!(
                "`notifications.resourceSubscriptions` names {} URIs; at most {MAX_URIS} per stream",
                uris.len()
            )));
        }
        Ok(Filter {
            tools: flag("toolsListChanged")?,
            prompts: flag("promptsListChanged")?,
            resources: flag("resourcesListChanged")?,
            uris,
            task_ids,
        })
    }

    /// What the server agrees to now: what it has (no prompt changes without prompts).
    pub(crate) fn agreed(mut self, has_prompts: bool, has_resources: bool) -> Filter {
        self.prompts &= has_prompts;
        self.resources &= has_resources;
        if !has_resources {
            self.uris.clear();
        }
        self
    }

    fn wants(&self, change: Change<'_>) -> bool {
        match change {
            Change::Tools => self.tools,
            Change::Prompts => self.prompts,
            Change::Resources => self.resources,
            Change::Updated(uri) => self.uris.iter().any(|u| u == uri),
            Change::Task(id) => self.task_ids.iter().any(|t| t == id),
        }
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in [
            ("toolsListChanged", self.tools),
            ("promptsListChanged", self.prompts),
            ("resourcesListChanged", self.resources),
        ] {
            if v {
                m.insert(k.into(), true.into());
            }
        }
        if !self.uris.is_empty() {
            m.insert("resourceSubscriptions".into(), json!(self.uris));
        }
        if !self.task_ids.is_empty() {
            m.insert("taskIds".into(), json!(self.task_ids));
        }
        Value::Object(m)
    }
}

struct Listener {
    id: Value,
    filter: Filter,
    tx: mpsc::Sender<Bytes>,
}

/// The open listen streams.
#[derive(Default)]
pub(crate) struct Listeners {
    open: Mutex<Vec<Listener>>,
}

fn event(method: &str, mut params: Value, id: &Value) -> Bytes {
    params["_meta"] = json!({ SUBSCRIPTION_ID: id });
    let message = json!({ "jsonrpc": "2.0", "method": method, "params": params });
    jsonrpc::sse_event(message.to_string().as_bytes())
}

impl Listeners {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Listener>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a stream for the listen request `id`, which asked for `filter`: its events, the
    /// acknowledgement first, saying what the server honors now (`agreed`). Later changes
    /// follow what was asked: prompts added after the stream opened reach it too.
    pub(crate) fn open(&self, id: Value, filter: Filter, agreed: &Filter) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let ack = event(
            "notifications/subscriptions/acknowledged",
            json!({ "notifications": agreed.to_json() }),
            &id,
        );
        // The receiver is right here and the queue empty: the send cannot fail.
        let _ = tx.try_send(ack);
        let mut open = self.lock();
        open.retain(|l| !l.tx.is_closed());
        open.push(Listener { id, filter, tx });
        rx
    }

    /// Tells every listener that opted in to `change`; how many were told.
    pub(crate) fn notify(&self, change: Change<'_>) -> usize {
        let (method, params) = match change {
            Change::Tools => ("notifications/tools/list_changed", json!({})),
            Change::Prompts => ("notifications/prompts/list_changed", json!({})),
            Change::Resources => ("notifications/resources/list_changed", json!({})),
            Change::Updated(uri) => ("notifications/resources/updated", json!({ "uri": uri })),
            Change::Task(_) => return 0,
        };
        self.send(change, method, &params)
    }

    /// Tells the listeners following task `id` where it is now (`params`: the task as
    /// `tasks/get` shows it).
    pub(crate) fn notify_task(&self, id: &str, params: Value) -> usize {
        self.send(Change::Task(id), "notifications/tasks", &params)
    }

    /// Whether an open stream follows task `id`.
    pub(crate) fn follow_task(&self, id: &str) -> bool {
        self.lock()
            .iter()
            .any(|l| l.filter.wants(Change::Task(id)) && !l.tx.is_closed())
    }

    fn send(&self, change: Change<'_>, method: &str, params: &Value) -> usize {
        let mut open = self.lock();
        let mut told = 0;
        // A stream that is gone, or whose client stopped reading (a full queue), is dropped:
        // its response ends, and the client listens again.
        open.retain(|l| {
            if !l.filter.wants(change) {
                return !l.tx.is_closed();
            }
            let sent = l.tx.try_send(event(method, params.clone(), &l.id)).is_ok();
            told += usize::from(sent);
            sent
        });
        told
    }

    /// Open streams (for tests and metrics).
    #[cfg(test)]
    fn len(&self) -> usize {
        let mut open = self.lock();
        open.retain(|l| !l.tx.is_closed());
        open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_get_what_they_opted_in_to_tagged_with_their_id() {
        let listeners = Listeners::default();
        let filter = Filter::parse(&json!({"notifications": {"toolsListChanged": true,
            "promptsListChanged": true, "resourceSubscriptions": ["file:///a"]}}))
        .expect("valid");
        let agreed = filter.clone().agreed(false, true);
        assert!(!agreed.prompts, "no prompts, no prompt changes");
        let mut rx = listeners.open(json!(7), filter, &agreed);
        let ack = String::from_utf8(rx.try_recv().expect("ack").to_vec()).expect("utf8");
        assert!(
            ack.contains("notifications/subscriptions/acknowledged"),
            "{ack}"
        );
        assert!(
            ack.contains(r#""io.modelcontextprotocol/subscriptionId":7"#),
            "{ack}"
        );
        assert!(!ack.contains("promptsListChanged"), "{ack}");
        assert_eq!(
            listeners.notify(Change::Prompts),
            1,
            "prompts added later reach the stream that asked for them"
        );
        rx.try_recv().expect("the prompt change");
        assert_eq!(listeners.notify(Change::Tools), 1);
        assert_eq!(listeners.notify(Change::Updated("file:///b")), 0);
        assert_eq!(listeners.notify(Change::Updated("file:///a")), 1);
        let tools = String::from_utf8(rx.try_recv().expect("tools").to_vec()).expect("utf8");
        assert!(
            tools.contains("notifications/tools/list_changed"),
            "{tools}"
        );
        drop(rx);
        assert_eq!(listeners.len(), 0, "a closed stream is forgotten");
    }

    #[test]
    fn a_listener_that_stops_reading_is_dropped_not_buffered_forever() {
        let listeners = Listeners::default();
        let filter =
            Filter::parse(&json!({"notifications": {"toolsListChanged": true}})).expect("valid");
        let _rx = listeners.open(json!(1), filter.clone(), &filter);
        // The acknowledgement takes one place in the queue.
        for _ in 0..QUEUE - 1 {
            assert_eq!(listeners.notify(Change::Tools), 1);
        }
        assert_eq!(listeners.notify(Change::Tools), 0, "the queue is full");
        assert_eq!(listeners.len(), 0, "and the stream is dropped");
    }

    #[test]
    fn filters_are_checked() {
        let err = |p: Value| Filter::parse(&p).expect_err("refused").message;
        assert!(err(json!({})).contains("`params.notifications`"));
        assert!(err(json!({"notifications": {"toolsListChanged": "yes"}})).contains("boolean"));
        assert!(
            err(json!({"notifications": {"resourceSubscriptions": [1]}})).contains("list of URIs")
        );
    }
}
