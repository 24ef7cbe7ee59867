//! How a tool call becomes a task and runs as one (see `tasks` for the tasks themselves).
//!
//! A tool declared `#[mcp_tool(task = "optional" | "required")]`, called by a 2026-07-28
//! request that declares the tasks extension, becomes a task:
//!
//! - at once, before its body runs (the default): the request is answered with the task
//!   handle and the body runs on its own;
//! - or, with `task_start = "explicit"`, when the body calls [`Context::start_task`]: until
//!   then it runs as any call (its questions are input-required results, answered by the
//!   client sending the request again), and from then on as a task.
//!
//! A task's questions (`ctx.elicit`, `ctx.sample`, `ctx.roots`) wait in the task
//! (`input_required` in `tasks/get`) until `tasks/update` answers them, with no timeout but
//! the task's own lifetime. The tool's result completes the task; a tool error completes it
//! too (`result.isError`), and a panic or a protocol error fails it (`error`).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::client_request::{ClientRequestError, refusal};
use super::tasks::{Status, Task};
use crate::extract::{ArgError, Context};
use crate::result::CallToolResult;
use crate::server::call::ContextInner;
use crate::server::jsonrpc::{RpcError, code};
use crate::server::outgoing::ClientCapabilities;

/// When a tool call started and where its end is counted (feature `metrics`; nothing
/// without it).
#[derive(Default)]
pub(crate) struct Metrics {
    #[cfg(feature = "metrics")]
    at: Option<(std::time::Instant, Arc<crate::metrics::Metrics>)>,
}

impl Metrics {
    /// Starts timing a call of a server that counts them.
    pub(crate) fn start(inner: &crate::server::Inner) -> Self {
        #[cfg(feature = "metrics")]
        return Metrics {
            at: inner
                .metrics
                .as_ref()
                .map(|m| (std::time::Instant::now(), m.clone())),
        };
        #[cfg(not(feature = "metrics"))]
        {
            let _ = inner;
            Metrics {}
        }
    }

    /// Counts the call's end (`outcome`: ok, error, cancelled, ...).
    pub(crate) fn end(&self, tool: &'static str, outcome: &'static str) {
        match outcome {
            "ok" | "input_required" => {}
            "error" => super::trace::failed("tool_error"),
            "invalid_arguments" => super::trace::failed("-32602"),
            "panicked" => super::trace::failed("-32603"),
            other => super::trace::failed(other),
        }
        #[cfg(feature = "metrics")]
        if let Some((started, metrics)) = &self.at {
            metrics.tool_call(tool, outcome, started.elapsed());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (tool, outcome);
    }
}

impl Context {
    /// Makes the rest of this call a task, when it can be one: the tool is declared
    /// `#[mcp_tool(task = ..., task_start = "explicit")]` and the request declares the tasks
    /// extension (2026-07-28). The client gets the task handle now, and what the tool does
    /// from here on (its questions, its result) goes through the task. True when the call
    /// runs as a task (now or already); false otherwise (an older revision, a client without
    /// the extension, or the server's task limit reached), and the call goes on as it was.
    ///
    /// Questions asked before it are answered by the client sending the request again
    /// (input-required results), so a tool can gather what it needs, then start its long part.
    ///
    /// ```no_run
    /// # use mcp_runtime::{Context, Elicitation, ToolError};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Confirm { confirm: bool }
    ///
    /// // #[mcp_tool(task = "required", task_start = "explicit")]
    /// async fn reindex(ctx: Context) -> Result<String, ToolError> {
    ///     match ctx.elicit::<Confirm>("Rebuild the whole index?").await? {
    ///         Elicitation::Accept(Confirm { confirm: true }) => {}
    ///         _ => return Ok("left as it is".into()),
    ///     }
    ///     ctx.start_task().await;
    ///     // ... hours of work ...
    ///     Ok("rebuilt".into())
    /// }
    /// ```
    pub async fn start_task(&self) -> bool {
        let inner = &self.inner;
        let link = &inner.task;
        if link.task.get().is_some() {
            return true;
        }
        let (Some(registry), Some(meta)) = (&link.registry, &inner.meta) else {
            return false;
        };
        let owner = inner.auth.as_ref().map(|a| a.user.user_id.clone());
        let task = match registry.create(owner, meta.capabilities) {
            Ok(Some(task)) => task,
            Ok(None) => return false,
            Err(e) => {
                tracing::error!(target: "mcp_runtime::tasks", error = %e.message, "no task");
                return false;
            }
        };
        if link.task.set(task).is_err() {
            return true;
        }
        link.started.store(true, Ordering::Release);
        inner.call.wake();
        // One turn back to the transport, which answers with the task handle and hands the
        // call to a task of its own.
        YieldOnce(false).await;
        true
    }

    /// Whether this call runs as a task (2026-07-28's tasks extension).
    pub fn is_task(&self) -> bool {
        self.inner.task.task.get().is_some()
    }
}

/// Pending once, then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The task a call has just started, if it did (`Context::start_task`), once.
pub(crate) fn started(ctx: &ContextInner) -> Option<Arc<Task>> {
    // A read first: this runs at every wait of every call, and almost never finds a task.
    if ctx.task.started.load(Ordering::Acquire) && ctx.task.started.swap(false, Ordering::AcqRel) {
        ctx.task.task.get().cloned()
    } else {
        None
    }
}

/// Runs the tool's future as `task`, on a task of its own; the request is answered with the
/// task handle.
pub(crate) fn spawn(
    task: Arc<Task>,
    ctx: Arc<ContextInner>,
    fut: BoxFuture<'static, Result<CallToolResult, ArgError>>,
    metrics: Metrics,
) -> bytes::Bytes {
    let created = task.created_result();
    tracing::debug!(target: "mcp_runtime::tasks", tool = ctx.tool, task = task.log_id(), "task started");
    tokio::spawn(drive(task, ctx, fut, metrics));
    created
}

async fn drive(
    task: Arc<Task>,
    ctx: Arc<ContextInner>,
    fut: BoxFuture<'static, Result<CallToolResult, ArgError>>,
    metrics: Metrics,
) {
    let tool = ctx.tool;
    let expiry = tokio::time::sleep(task.remaining());
    let outcome = tokio::select! {
        biased;
        () = task.cancel.cancelled() => None,
        () = expiry => Some(Err(Expired)),
        r = AssertUnwindSafe(fut).catch_unwind() => Some(Ok(r)),
    };
    let (status, label) = match outcome {
        None => {
            // Whatever the tool spawned and tied to its call stops too.
            ctx.call.cancel();
            (Status::Cancelled, "cancelled")
        }
        // Its lifetime is over: the work stops, and the task says why until it is forgotten.
        Some(Err(Expired)) => {
            ctx.call.cancel();
            task.cancel.cancel();
            (
                Status::Failed(RpcError::new(
                    code::INTERNAL_ERROR,
                    "the task expired: it ran longer than its ttlMs",
                )),
                "cancelled",
            )
        }
        Some(Ok(outcome)) => ended(&task, &ctx, outcome),
    };
    tracing::debug!(target: "mcp_runtime::tasks", tool, task = task.log_id(), outcome = label, "task ended");
    task.finish(status);
    metrics.end(tool, label);
}

/// The task's work ran out its lifetime.
struct Expired;

/// The status a finished tool call gives its task, and the metrics' outcome.
fn ended(
    task: &Task,
    ctx: &ContextInner,
    outcome: std::thread::Result<Result<CallToolResult, ArgError>>,
) -> (Status, &'static str) {
    let tool = ctx.tool;
    match outcome {
        Ok(Ok(result)) if result.is_error => match ctx.call.take_failure() {
            // A failure the revision makes a protocol error (an undeclared capability).
            Some(e) => (Status::Failed(e), "error"),
            None => (completed(&result), "error"),
        },
        Ok(Ok(result)) => (completed(&result), "ok"),
        Ok(Err(arg_error)) => (
            completed(&CallToolResult::error(format!(
                "tool `{tool}`: {arg_error}"
            ))),
            "invalid_arguments",
        ),
        Err(_) => {
            tracing::error!(target: "mcp_runtime::rpc", tool, task = task.log_id(), "tool panicked");
            (
                Status::Failed(RpcError::new(
                    code::INTERNAL_ERROR,
                    format!("tool `{tool}` failed unexpectedly (it panicked); see the server log"),
                )),
                "panicked",
            )
        }
    }
}

fn completed(result: &CallToolResult) -> Status {
    match serde_json::to_value(result) {
        Ok(v) => Status::Completed(v),
        Err(e) => Status::Failed(RpcError::new(
            code::INTERNAL_ERROR,
            format!("serializing the tool's result: {e}"),
        )),
    }
}

/// A question from a tool running as `task`: it waits in the task until `tasks/update`
/// answers it.
pub(crate) async fn ask(
    ctx: &ContextInner,
    task: &Task,
    named: Option<&str>,
    method: &'static str,
    capability: &'static str,
    declared: fn(ClientCapabilities) -> bool,
    params: Value,
) -> Result<Value, ClientRequestError> {
    if !declared(task.capabilities) {
        let root = capability.split('.').next().unwrap_or(capability);
        ctx.call
            .fail_with(crate::server::modern::missing_capability(method, root));
        return Err(ClientRequestError::NotSupported { method, capability });
    }
    let Some((key, answer)) = task.ask(named, method, params) else {
        return Err(ClientRequestError::Closed { method });
    };
    // However the wait ends, the question goes.
    let _withdraw = Withdraw(task, key);
    let answer = answer
        .await
        .map_err(|_| ClientRequestError::Closed { method })?;
    refusal(method, &answer).map_or(Ok(answer), Err)
}

struct Withdraw<'a>(&'a Task, String);

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.0.withdraw(&self.1);
    }
}
