//! A request being answered: its reply, at once or when its tool call finishes, and the tool
//! call in progress (cancellation, panics, input-required results, metrics).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::extract::ArgError;
use crate::result::CallToolResult;
use crate::server::call::ContextInner;
use crate::server::jsonrpc::{Reply, RpcError, code};
use crate::server::session::{RequestKey, Session};

/// A request being answered: its reply, at once or when its tool call finishes.
///
/// A concrete future rather than a boxed one: the tool's own future is the only allocation
/// a call needs.
pub(crate) struct Pending(pub(crate) PendingState);

pub(crate) enum PendingState {
    /// `None` once taken.
    Ready(Option<Reply>),
    /// The caller lacks the tool's scopes: an HTTP 403 with a step-up challenge, taken
    /// before any response starts (`None` once taken).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    StepUp(Option<(Vec<String>, String)>),
    /// A request answered by an async function other than a tool (a resource read).
    Future(BoxFuture<'static, Reply>),
    /// A prompt being made, which may ask the client for input (2026-07-28).
    Asking(BoxFuture<'static, Reply>, Arc<ContextInner>),
    Tool(ToolRun),
}

impl Pending {
    pub(crate) fn ready(reply: Reply) -> Self {
        Pending(PendingState::Ready(Some(reply)))
    }

    /// A scope refusal, which must become an HTTP 403 before any response starts.
    pub(crate) fn take_forbidden(&mut self) -> Option<(Vec<String>, String)> {
        match &mut self.0 {
            PendingState::StepUp(denied) => denied.take(),
            _ => None,
        }
    }

    /// The next notification the tool sent for the client, if any; once none is queued the
    /// task is woken when one is.
    pub(crate) fn poll_notification(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Value> {
        let PendingState::Tool(run) = &self.0 else {
            return Poll::Pending;
        };
        run.ctx.call.register(cx.waker());
        run.ctx.call.try_recv().map_or(Poll::Pending, Poll::Ready)
    }

    /// The retry delay, when the tool asked to close its stream early (once).
    pub(crate) fn take_close(&self) -> Option<u64> {
        match &self.0 {
            PendingState::Tool(run) => run.ctx.call.take_close(),
            _ => None,
        }
    }

    /// The call's session, where its stream's events are kept for resumption, when the
    /// stream can be resumed.
    pub(crate) fn resumable_in(&self) -> Option<Arc<Session>> {
        match &self.0 {
            PendingState::Tool(run) => run
                .ctx
                .session
                .clone()
                .filter(|s| s.protocol_version() >= "2025-11-25"),
            _ => None,
        }
    }

    /// The next notification already queued, if any.
    pub(crate) fn try_notification(&mut self) -> Option<Value> {
        match &self.0 {
            PendingState::Tool(run) => run.ctx.call.try_recv(),
            _ => None,
        }
    }
}

impl Future for Pending {
    type Output = Reply;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Reply> {
        match &mut self.0 {
            PendingState::Ready(reply) => match reply.take() {
                Some(reply) => Poll::Ready(reply),
                None => panic!("a request was polled after it was answered"),
            },
            // Where no HTTP status can carry the refusal (in a batch): a tool error.
            PendingState::StepUp(denied) => match denied.take() {
                Some((_, message)) => Poll::Ready(Reply::Tool(CallToolResult::error(message))),
                None => panic!("a request was polled after it was answered"),
            },
            PendingState::Tool(run) => run.poll(cx),
            PendingState::Future(fut) => fut.as_mut().poll(cx),
            PendingState::Asking(fut, ctx) => match fut.as_mut().poll(cx) {
                // It waits for input the request does not carry: an input-required result.
                Poll::Pending => match ctx.inputs.as_ref().and_then(|i| i.result()) {
                    Some(result) => Poll::Ready(Reply::Ok(result)),
                    None => {
                        ctx.call.register(cx.waker());
                        Poll::Pending
                    }
                },
                // A failure the revision makes a protocol error (an undeclared capability).
                Poll::Ready(Reply::Err(e)) => {
                    Poll::Ready(Reply::Err(ctx.call.take_failure().unwrap_or(e)))
                }
                Poll::Ready(reply) => Poll::Ready(reply),
            },
        }
    }
}

/// A tool call in progress.
pub(crate) struct ToolRun {
    /// The tool's future; dropped as soon as the call ends.
    pub(crate) fut: Option<BoxFuture<'static, Result<CallToolResult, ArgError>>>,
    pub(crate) ctx: Arc<ContextInner>,
    /// The call's key in its session's in-flight table (`None` without a session).
    pub(crate) key: Option<RequestKey>,
    /// Whether the call is in that table: from its first wait to its end.
    pub(crate) registered: bool,
    pub(crate) version: &'static str,
    /// When the call started, and where its end is counted (feature `metrics`).
    pub(crate) metrics: super::task_run::Metrics,
}

impl ToolRun {
    fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Reply> {
        let Some(fut) = self.fut.as_mut() else {
            panic!("a tool call was polled after it ended");
        };
        // Cancellation first, as a cancelled call must not answer with a result. Only a
        // registered call can be cancelled (see `register`).
        let cancelled = self.registered && {
            // Before the flag is read: a cancellation after the check wakes this task.
            self.ctx.call.register(cx.waker());
            self.ctx.call.is_cancelled()
        };
        let outcome = if cancelled {
            None
        } else {
            match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                // The tool started its task: the answer is the task handle, and the call
                // goes on as the task.
                Ok(Poll::Pending) if let Some(task) = super::task_run::started(&self.ctx) => {
                    let fut = self.fut.take();
                    self.end();
                    let created = match fut {
                        Some(fut) => super::task_run::spawn(
                            task,
                            self.ctx.clone(),
                            fut,
                            std::mem::take(&mut self.metrics),
                        ),
                        None => task.created_result(),
                    };
                    return Poll::Ready(Reply::Ok(created));
                }
                // 2026-07-28: the tool waits for input the request does not carry; the call
                // ends with an input-required result, and the client sends it again.
                Ok(Poll::Pending) if let Some(result) = self.input_required() => {
                    self.end();
                    self.metrics.end(self.ctx.tool, "input_required");
                    return Poll::Ready(Reply::Ok(result));
                }
                Ok(Poll::Pending) => {
                    self.register(cx.waker());
                    // An ask made from a task the tool spawned wakes this call (see `ask`).
                    if self.ctx.inputs.is_some() {
                        self.ctx.call.register(cx.waker());
                    }
                    return Poll::Pending;
                }
                Ok(Poll::Ready(r)) => Some(Ok(r)),
                Err(_) => Some(Err(())),
            }
        };
        self.end();
        let tool = self.ctx.tool;
        self.metrics.end(
            tool,
            match &outcome {
                None => "cancelled",
                Some(Ok(Ok(r))) if r.is_error => "error",
                Some(Ok(Ok(_))) => "ok",
                Some(Ok(Err(_))) => "invalid_arguments",
                Some(Err(())) => "panicked",
            },
        );
        Poll::Ready(match outcome {
            None => Reply::Cancelled,
            // A failure the revision makes a protocol error (a capability the client did
            // not declare), when the tool gave up because of it.
            Some(Ok(Ok(result))) if result.is_error && self.ctx.meta.is_some() => {
                match self.ctx.call.take_failure() {
                    Some(e) => Reply::Err(e),
                    None => Reply::Tool(result),
                }
            }
            Some(Ok(Ok(result))) => Reply::Tool(result),
            Some(Ok(Err(arg_error))) => argument_error(tool, self.version, &arg_error),
            Some(Err(())) => {
                tracing::error!(target: "mcp_runtime::rpc", tool, "tool panicked");
                Reply::Err(RpcError::new(
                    code::INTERNAL_ERROR,
                    format!("tool `{tool}` failed unexpectedly (it panicked); see the server log"),
                ))
            }
        })
    }

    /// Makes the call cancellable, once it waits: the session's in-flight table is how both
    /// `notifications/cancelled` and the session's end reach a call.
    ///
    /// A call that ends in its first poll is never registered, which spares most calls the
    /// session's lock (and the waker): no cancellation could have stopped it anyway, as the
    /// flag is read before the poll.
    fn register(&mut self, waker: &Waker) {
        if let (false, Some(key), Some(session)) = (self.registered, &self.key, &self.ctx.session) {
            // First: a cancellation from now on wakes this task, even one at once because the
            // session has ended.
            self.ctx.call.register(waker);
            session.begin_request(key.clone(), &self.ctx);
            self.registered = true;
        }
    }

    /// The input-required result, when the tool asked for input no answer covers.
    fn input_required(&self) -> Option<Bytes> {
        self.ctx.inputs.as_ref()?.result()
    }

    /// Drops the tool's future and unregisters the call.
    fn end(&mut self) {
        self.fut = None;
        if let (true, Some(key), Some(session)) = (self.registered, &self.key, &self.ctx.session) {
            session.end_request(key);
            self.registered = false;
        }
    }
}

impl Drop for ToolRun {
    fn drop(&mut self) {
        self.end();
        self.ctx.call.close();
    }
}

/// Invalid arguments: since 2025-11-25 a tool execution error the model can correct, before
/// that a protocol error (-32602).
fn argument_error(tool: &str, version: &str, error: &ArgError) -> Reply {
    let message = format!("tool `{tool}`: {error}");
    if version >= "2025-11-25" {
        Reply::Tool(CallToolResult::error(message))
    } else {
        Reply::Err(RpcError::invalid_params(message))
    }
}
