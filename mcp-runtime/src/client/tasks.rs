//! Tasks (2026-07-28's tasks extension), the client's side: a request answered with a task
//! handle (`resultType: "task"`) is followed to its end by polling `tasks/get` at the pace the
//! server asks, answering the task's questions through the handler (`tasks/update`), and
//! cancelling it (`tasks/cancel`) when the caller gives up, so that `call_tool` returns the
//! tool's result whichever way the server chose to run it.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::ClientError;
use super::connection::Client;
use super::options::CallOptions;
use super::stateless;
use super::types::{RpcError, declare_tasks as declare};

/// The bounds on the polling interval the server asks for.
const MIN_POLL: Duration = Duration::from_millis(50);
const MAX_POLL: Duration = Duration::from_secs(30);

/// How long to wait before polling again: what the task says, within bounds.
fn poll_interval(task: &Value) -> Duration {
    task.get("pollIntervalMs")
        .and_then(Value::as_u64)
        .map_or(Duration::from_secs(1), Duration::from_millis)
        .clamp(MIN_POLL, MAX_POLL)
}

impl Client {
    /// Follows the task `created` (a `CreateTaskResult`) to its end: the result it completes
    /// with, or its error.
    pub(crate) async fn follow_task(
        &self,
        created: &Value,
        opts: &CallOptions,
    ) -> Result<Value, ClientError> {
        let Some(id) = created.get("taskId").and_then(Value::as_str) else {
            return Err(ClientError::Protocol(
                "a task result (`resultType: \"task\"`) without a `taskId`".into(),
            ));
        };
        let cancelled = async {
            match &opts.cancel {
                Some(t) => t.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let timeout = async {
            match opts.timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = self.poll_task(id, created) => r,
            () = cancelled => {
                self.cancel_task(id).await;
                Err(ClientError::Cancelled)
            }
            () = timeout => {
                self.cancel_task(id).await;
                Err(ClientError::Timeout(opts.timeout.unwrap_or_default()))
            }
        }
    }

    async fn poll_task(&self, id: &str, created: &Value) -> Result<Value, ClientError> {
        let mut task = created.clone();
        // Questions answered already: a later poll may show one again before the server
        // took the answer in.
        let mut answered: HashSet<String> = HashSet::new();
        loop {
            match task.get("status").and_then(Value::as_str) {
                Some("completed") => {
                    return task.get("result").cloned().ok_or_else(|| {
                        ClientError::Protocol(format!("task `{id}` completed without a `result`"))
                    });
                }
                Some("failed") => {
                    let error = task.get("error").cloned().unwrap_or(Value::Null);
                    return Err(match serde_json::from_value::<RpcError>(error) {
                        Ok(e) => ClientError::Rpc(e),
                        Err(_) => ClientError::Protocol(format!(
                            "task `{id}` failed without a JSON-RPC `error`"
                        )),
                    });
                }
                Some("cancelled") => {
                    return Err(ClientError::Protocol(format!(
                        "task `{id}` was cancelled by the server"
                    )));
                }
                Some("input_required") => {
                    let open: Map<String, Value> = task
                        .get("inputRequests")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .filter(|(k, _)| !answered.contains(*k))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    if !open.is_empty() {
                        let responses =
                            stateless::input_responses(&*self.inner.handler, &open).await;
                        answered.extend(open.keys().cloned());
                        self.task_request(
                            "tasks/update",
                            json!({ "taskId": id, "inputResponses": responses }),
                        )
                        .await?;
                        task = self
                            .task_request("tasks/get", json!({ "taskId": id }))
                            .await?;
                        continue;
                    }
                }
                Some("working") => {}
                other => {
                    return Err(ClientError::Protocol(format!(
                        "task `{id}` has an unknown status {other:?}"
                    )));
                }
            }
            tokio::time::sleep(poll_interval(&task)).await;
            task = self
                .task_request("tasks/get", json!({ "taskId": id }))
                .await?;
        }
    }

    /// Tells the server to stop the task; whether it heard does not matter to the caller.
    async fn cancel_task(&self, id: &str) {
        if let Err(e) = self
            .task_request("tasks/cancel", json!({ "taskId": id }))
            .await
        {
            tracing::debug!(target: "mcp_runtime::client", task = id, error = %e, "tasks/cancel failed");
        }
    }

    /// One request about a task (no input rounds, no task of its own).
    async fn task_request(&self, method: &str, mut params: Value) -> Result<Value, ClientError> {
        let id = self
            .inner
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        stateless::add_meta(
            &mut params,
            &self.protocol_version(),
            &declare(&self.inner.handler.capabilities()),
            &self.inner.client_info,
        );
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.exchange(id, &message, method).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::types::EXTENSION;

    #[test]
    fn the_extension_is_added_to_what_the_handler_declares() {
        let caps = declare(&json!({"sampling": {}, "extensions": {"other": {"x": 1}}}));
        assert_eq!(
            caps,
            json!({"sampling": {}, "extensions": {"other": {"x": 1}, EXTENSION: {}}})
        );
        assert_eq!(
            declare(&Value::Null),
            json!({"extensions": {EXTENSION: {}}})
        );
    }

    #[test]
    fn polling_follows_the_server_within_bounds() {
        assert_eq!(
            poll_interval(&json!({"pollIntervalMs": 250})),
            Duration::from_millis(250)
        );
        assert_eq!(poll_interval(&json!({"pollIntervalMs": 0})), MIN_POLL);
        assert_eq!(
            poll_interval(&json!({"pollIntervalMs": 10_000_000})),
            MAX_POLL
        );
        assert_eq!(poll_interval(&json!({})), Duration::from_secs(1));
    }
}
