//! Reading the server's SSE: an answer's stream until its response (resumed with
//! `Last-Event-ID` after the server's `retry` when it ends early), and the server's own
//! stream in the background; what arrives on either is dispatched: requests answered through
//! the handler, notifications passed on.

use std::sync::PoisonError;
use std::time::Duration;

use serde_json::{Value, json};

use super::connection::response_of;
use super::handler;
use super::transport::{EventStream, Reply};
use super::{Client, ClientError};

/// How many times a broken SSE answer is resumed before giving up.
const MAX_RESUMES: u32 = 5;
/// The wait before resuming when the server gave no `retry`.
pub(crate) const DEFAULT_RETRY: Duration = Duration::from_secs(1);

impl Client {
    /// Reads an SSE answer until the response to `id`, handling what comes before it and
    /// resuming (`GET` with `Last-Event-ID`) when the stream ends early.
    pub(crate) async fn read_stream(
        &self,
        id: u64,
        mut stream: Box<EventStream>,
    ) -> Result<Value, ClientError> {
        let mut resumes = 0;
        loop {
            match stream.next().await? {
                Some(msg) => {
                    if let Some(answer) = self.dispatch(msg, Some(id)).await {
                        return answer;
                    }
                }
                None => {
                    let Some(last) = stream.last_id.clone() else {
                        return Err(ClientError::Protocol(
                            "the server's stream ended before the answer (and gave no event id to resume from)".into(),
                        ));
                    };
                    if resumes >= MAX_RESUMES {
                        return Err(ClientError::Protocol(format!(
                            "the server's stream ended {MAX_RESUMES} times before the answer"
                        )));
                    }
                    resumes += 1;
                    tokio::time::sleep(stream.retry.unwrap_or(DEFAULT_RETRY)).await;
                    let headers = self.headers().await?;
                    let resp = self.inner.transport.get(&headers, Some(&last)).await?;
                    match resp.reply {
                        Reply::Stream(mut next) => {
                            next.retry = next.retry.or(stream.retry);
                            next.last_id = Some(last);
                            stream = next;
                        }
                        Reply::Refused { status, body, .. } => {
                            return Err(ClientError::Status { status, body });
                        }
                        _ => {
                            return Err(ClientError::Protocol(
                                "the server did not resume its stream".into(),
                            ));
                        }
                    }
                }
            }
        }
    }

    /// One message from the server: a request is answered, a notification passed on, and
    /// the response to `waiting` returned.
    pub(crate) async fn dispatch(
        &self,
        msg: Value,
        waiting: Option<u64>,
    ) -> Option<Result<Value, ClientError>> {
        if let Some(method) = msg.get("method").and_then(Value::as_str) {
            let params = msg.get("params").cloned().unwrap_or(Value::Null);
            match msg.get("id") {
                Some(rid) => {
                    let answer = handler::answer(&*self.inner.handler, method, params).await;
                    let mut response = json!({"jsonrpc": "2.0", "id": rid});
                    if let (Some(r), Some(a)) = (response.as_object_mut(), answer.as_object()) {
                        r.extend(a.clone());
                    }
                    if let Err(e) = self.post_one_way(&response).await {
                        tracing::warn!(target: "mcp_runtime::client", "answering the server's {method} failed: {e}");
                    }
                }
                None => handler::notify(&*self.inner.handler, method, &params),
            }
            return None;
        }
        let id = msg.get("id").and_then(Value::as_u64);
        match (id, waiting) {
            (Some(a), Some(b)) if a == b => Some(response_of(a, msg)),
            _ => None,
        }
    }

    /// Opens the server's own stream (`GET`), for requests and notifications outside any
    /// call, and reads it in the background, resuming it when it breaks. Returns once the
    /// server has answered the first `GET`, so nothing it sends after that is missed; a server
    /// without a stream of its own (405) is fine.
    pub async fn listen(&self) {
        let first = match self.headers().await {
            Ok(h) => self.inner.transport.get(&h, None).await,
            Err(e) => Err(e),
        };
        let stream = match first {
            Ok(resp) => match resp.reply {
                Reply::Stream(s) => s,
                _ => {
                    tracing::debug!(target: "mcp_runtime::client", "the server offers no stream of its own");
                    return;
                }
            },
            Err(e) => {
                tracing::debug!(target: "mcp_runtime::client", "no server stream: {e}");
                return;
            }
        };
        let me = self.clone();
        let task = tokio::spawn(async move {
            let mut stream = stream;
            let mut last: Option<String> = None;
            let mut retry = DEFAULT_RETRY;
            loop {
                while let Ok(Some(msg)) = stream.next().await {
                    me.dispatch(msg, None).await;
                }
                last = stream.last_id.take().or(last);
                retry = stream.retry.unwrap_or(retry);
                // Resume after the server's retry delay, until it stops offering a stream.
                loop {
                    tokio::time::sleep(retry).await;
                    let Ok(headers) = me.headers().await else {
                        return;
                    };
                    match me.inner.transport.get(&headers, last.as_deref()).await {
                        Ok(resp) => match resp.reply {
                            Reply::Stream(s) => {
                                stream = s;
                                break;
                            }
                            _ => return,
                        },
                        Err(_) => continue,
                    }
                }
            }
        });
        if let Some(old) = self
            .inner
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(task)
        {
            old.abort();
        }
    }
}
