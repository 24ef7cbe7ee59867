//! What a tool asks of the client while it runs: an LLM completion
//! ([`Context::sample`]), values from the user ([`Context::elicit`]) and the client's roots
//! ([`Context::roots`]).
//!
//! Each is a JSON-RPC request sent on the tool call's own SSE stream, answered by the
//! client in a POST of its own (see `outgoing`). Each waits at most the server's
//! [`client_request_timeout`](crate::McpServerBuilder::client_request_timeout) and fails
//! with a precise [`ClientRequestError`] when the client did not declare the capability,
//! the request cannot reach it, or it refuses.

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use super::client_request::ClientRequestError;
use super::client_request::refusal;
use crate::extract::Context;
use crate::server::elicitation::{self, Elicitation};
use crate::server::outgoing::ClientCapabilities;
use crate::server::sampling::{Sampling, SamplingResult};

/// A root the client exposes (`roots/list`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Root {
    /// The root's URI (`file://...`).
    pub uri: String,
    /// A name for people.
    #[serde(default)]
    pub name: Option<String>,
}

const SAMPLE: &str = "sampling/createMessage";
const ELICIT: &str = "elicitation/create";
const ROOTS: &str = "roots/list";

/// Requests to the client under a key the tool chooses ([`Context::input`]). Under 2026-07-28
/// the key names the input in the input-required result (`inputRequests`) and in the
/// client's answers; the older revisions ignore it.
#[derive(Debug)]
pub struct Ask<'a> {
    ctx: &'a Context,
    key: Option<String>,
}

impl Context {
    /// Asks under `key`: `ctx.input("user_name").elicit::<Name>("What is your name?")`.
    /// Without one, each ask is keyed by its kind and its order in the tool
    /// (`elicitation-0`, `sampling-1`, ...), the same in every round as long as the tool asks
    /// in the same order.
    pub fn input(&self, key: impl Into<String>) -> Ask<'_> {
        Ask {
            ctx: self,
            key: Some(key.into()),
        }
    }

    fn unnamed(&self) -> Ask<'_> {
        Ask {
            ctx: self,
            key: None,
        }
    }

    /// Whether the client can answer [`sample`](Self::sample) (it declared `sampling`).
    pub fn client_can_sample(&self) -> bool {
        self.client_capabilities().is_some_and(|c| c.sampling)
    }

    /// Whether the client can answer [`elicit`](Self::elicit) (form-mode elicitation).
    pub fn client_can_elicit(&self) -> bool {
        self.client_capabilities()
            .is_some_and(|c| c.elicitation_form)
    }

    /// Whether the client can answer [`roots`](Self::roots).
    pub fn client_can_list_roots(&self) -> bool {
        self.client_capabilities().is_some_and(|c| c.roots)
    }

    fn client_capabilities(&self) -> Option<ClientCapabilities> {
        match (&self.inner.meta, &self.inner.session) {
            (Some(meta), _) => Some(meta.capabilities),
            (None, Some(session)) => Some(session.client()),
            (None, None) => None,
        }
    }

    /// Asks the client's LLM for a completion (`sampling/createMessage`).
    ///
    /// ```no_run
    /// # use mcp_runtime::{Context, Sampling, ToolError};
    /// async fn summarize(ctx: Context, text: String) -> Result<String, ToolError> {
    ///     let answer = ctx.sample(Sampling::new(200).user(format!("Summarize: {text}"))).await?;
    ///     Ok(answer.text())
    /// }
    /// ```
    pub async fn sample(&self, request: Sampling) -> Result<SamplingResult, ClientRequestError> {
        self.unnamed().sample(request).await
    }

    /// Asks the user for the fields of `T` (`elicitation/create`, form mode), with
    /// `message` saying why. `T`'s schema is generated and checked to be a flat form
    /// (strings, numbers, booleans, enums); defaults and documented enum variants are kept.
    ///
    /// ```no_run
    /// # use mcp_runtime::{Context, Elicitation, ToolError};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Confirm {
    ///     /// Type the repository name to confirm
    ///     repository: String,
    /// }
    ///
    /// async fn delete_repo(ctx: Context, name: String) -> Result<String, ToolError> {
    ///     match ctx.elicit::<Confirm>(format!("Delete {name}?")).await? {
    ///         Elicitation::Accept(c) if c.repository == name => Ok("deleted".into()),
    ///         Elicitation::Accept(_) => Err("the name did not match".into()),
    ///         Elicitation::Decline | Elicitation::Cancel => Ok("kept".into()),
    ///     }
    /// }
    /// ```
    pub async fn elicit<T: JsonSchema + DeserializeOwned>(
        &self,
        message: impl Into<String>,
    ) -> Result<Elicitation<T>, ClientRequestError> {
        self.unnamed().elicit(message).await
    }

    /// [`elicit`](Self::elicit) with a `requestedSchema` written by hand (sent as given);
    /// the accepted content is returned as JSON.
    pub async fn elicit_schema(
        &self,
        message: impl Into<String>,
        requested_schema: Value,
    ) -> Result<Elicitation<Value>, ClientRequestError> {
        self.unnamed()
            .elicit_schema(message, requested_schema)
            .await
    }

    /// Sends the user to a URL (URL-mode elicitation, 2025-11-25): for what must not pass
    /// through the client, such as credentials or a payment. `elicitation_id` names the
    /// interaction. The answer says whether the user agreed to open it, not that they
    /// finished.
    pub async fn elicit_url(
        &self,
        message: impl Into<String>,
        url: impl Into<String>,
        elicitation_id: impl Into<String>,
    ) -> Result<Elicitation<()>, ClientRequestError> {
        self.unnamed()
            .elicit_url(message, url, elicitation_id)
            .await
    }

    /// The client's roots (`roots/list`).
    pub async fn roots(&self) -> Result<Vec<Root>, ClientRequestError> {
        self.unnamed().roots().await
    }
}

/// The same requests as [`Context`]'s, under this ask's key.
impl Ask<'_> {
    /// Asks the client's LLM for a completion (`sampling/createMessage`).
    pub async fn sample(self, request: Sampling) -> Result<SamplingResult, ClientRequestError> {
        let params = request.into_params().map_err(ClientRequestError::Invalid)?;
        let answer = self.ask(SAMPLE, "sampling", |c| c.sampling, params).await?;
        decode(SAMPLE, answer)
    }

    /// Asks the user for the fields of `T` (`elicitation/create`, form mode), with
    /// `message` saying why. `T`'s schema is generated and checked to be a flat form
    /// (strings, numbers, booleans, enums); defaults and documented enum variants are kept.
    pub async fn elicit<T: JsonSchema + DeserializeOwned>(
        self,
        message: impl Into<String>,
    ) -> Result<Elicitation<T>, ClientRequestError> {
        let schema = elicitation::requested_schema::<T>().map_err(ClientRequestError::Invalid)?;
        match self.elicit_schema(message, schema).await? {
            Elicitation::Accept(content) => serde_json::from_value(content)
                .map(Elicitation::Accept)
                .map_err(|e| malformed(ELICIT, format!("the submitted form does not fit: {e}"))),
            Elicitation::Decline => Ok(Elicitation::Decline),
            Elicitation::Cancel => Ok(Elicitation::Cancel),
        }
    }

    /// [`elicit`](Self::elicit) with a `requestedSchema` written by hand (sent as given);
    /// the accepted content is returned as JSON.
    pub async fn elicit_schema(
        self,
        message: impl Into<String>,
        requested_schema: Value,
    ) -> Result<Elicitation<Value>, ClientRequestError> {
        let mut params = json!({ "message": message.into(), "requestedSchema": requested_schema });
        // `mode` exists from 2025-11-25 on; older clients know only forms.
        let inner = &self.ctx.inner;
        if inner.meta.is_some()
            || inner
                .session
                .as_ref()
                .is_some_and(|s| s.protocol_version() >= "2025-11-25")
        {
            params["mode"] = "form".into();
        }
        let answer = self
            .ask(ELICIT, "elicitation", |c| c.elicitation_form, params)
            .await?;
        elicitation_answer(answer)
    }

    /// Sends the user to a URL (URL-mode elicitation, 2025-11-25): for what must not pass
    /// through the client, such as credentials or a payment. `elicitation_id` names the
    /// interaction. The answer says whether the user agreed to open it, not that they
    /// finished.
    pub async fn elicit_url(
        self,
        message: impl Into<String>,
        url: impl Into<String>,
        elicitation_id: impl Into<String>,
    ) -> Result<Elicitation<()>, ClientRequestError> {
        let params = json!({ "mode": "url", "message": message.into(), "url": url.into(),
                             "elicitationId": elicitation_id.into() });
        let answer = self
            .ask(ELICIT, "elicitation.url", |c| c.elicitation_url, params)
            .await?;
        Ok(match elicitation_answer(answer)? {
            Elicitation::Accept(_) => Elicitation::Accept(()),
            Elicitation::Decline => Elicitation::Decline,
            Elicitation::Cancel => Elicitation::Cancel,
        })
    }

    /// The client's roots (`roots/list`).
    pub async fn roots(self) -> Result<Vec<Root>, ClientRequestError> {
        #[derive(Deserialize)]
        struct Roots {
            roots: Vec<Root>,
        }
        let answer = self.ask(ROOTS, "roots", |c| c.roots, json!({})).await?;
        decode::<Roots>(ROOTS, answer).map(|r| r.roots)
    }

    /// Sends one request to the client and waits for its answer.
    async fn ask(
        &self,
        method: &'static str,
        capability: &'static str,
        declared: fn(ClientCapabilities) -> bool,
        params: Value,
    ) -> Result<Value, ClientRequestError> {
        let inner = &self.ctx.inner;
        // A task's questions wait in the task (see `task_run`).
        if let Some(task) = inner.task.task.get() {
            return super::task_run::ask(
                inner,
                task,
                self.key.as_deref(),
                method,
                capability,
                declared,
                params,
            )
            .await;
        }
        // 2026-07-28: the request's own `_meta` says what the client can do; an answer the
        // request carries is used, and anything else ends the call with an input-required
        // result (see `input`).
        if let Some(meta) = &inner.meta {
            let inputs = inner.inputs.as_ref();
            let key = inputs.map(|i| i.key(self.key.as_deref(), method));
            if let (Some(inputs), Some(key)) = (inputs, &key)
                && let Some(answer) = inputs.answers.get(key)
            {
                // The client may answer an input request with its refusal.
                if let Some(refused) = refusal(method, answer) {
                    return Err(refused);
                }
                return Ok(answer.clone());
            }
            if !declared(meta.capabilities) {
                let root = capability.split('.').next().unwrap_or(capability);
                inner
                    .call
                    .fail_with(crate::server::modern::missing_capability(method, root));
                return Err(ClientRequestError::NotSupported { method, capability });
            }
            let (Some(inputs), Some(key)) = (inputs, key) else {
                return Err(ClientRequestError::Invalid(format!(
                    "{method} is answered through a tool call's input-required result; this \
                     request is not a tool call"
                )));
            };
            inputs.ask(key, method, params);
            // The call's task may be waiting elsewhere (an ask from a spawned task): it looks
            // at what was asked now.
            inner.call.wake();
            // Never resolves: the call ends with the input-required result instead.
            return std::future::pending().await;
        }
        let Some(session) = &inner.session else {
            return Err(ClientRequestError::NoSession { method });
        };
        if !declared(session.client()) {
            return Err(ClientRequestError::NotSupported { method, capability });
        }
        if !inner.call.notifies() {
            return Err(ClientRequestError::NoStream { method });
        }
        let (id, answer) = session.outgoing.register();
        // However the wait ends (an answer, the timeout, the call dropped), the id goes.
        let _forget = Forget(session, &id);
        inner.call.send(json!({
            "jsonrpc": "2.0", "id": id, "method": method, "params": params
        }));
        tracing::debug!(target: "mcp_runtime::rpc", tool = inner.tool, %method, %id, "request to the client");
        let after = session.request_timeout;
        match tokio::time::timeout(after, answer).await {
            Err(_) => Err(ClientRequestError::Timeout { method, after }),
            Ok(Err(_)) => Err(ClientRequestError::Closed { method }),
            Ok(Ok(Err(e))) => Err(ClientRequestError::Refused {
                method,
                code: e.code,
                message: e.message,
            }),
            Ok(Ok(Ok(result))) => Ok(result),
        }
    }
}

struct Forget<'a>(&'a crate::server::Session, &'a str);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.outgoing.forget(self.1);
    }
}

fn malformed(method: &'static str, reason: impl Into<String>) -> ClientRequestError {
    ClientRequestError::Malformed {
        method,
        reason: reason.into(),
    }
}

fn decode<T: DeserializeOwned>(
    method: &'static str,
    answer: Value,
) -> Result<T, ClientRequestError> {
    serde_json::from_value(answer).map_err(|e| malformed(method, e.to_string()))
}

fn elicitation_answer(answer: Value) -> Result<Elicitation<Value>, ClientRequestError> {
    match answer.get("action").and_then(Value::as_str) {
        Some("accept") => Ok(Elicitation::Accept(
            answer.get("content").cloned().unwrap_or_else(|| json!({})),
        )),
        Some("decline") => Ok(Elicitation::Decline),
        Some("cancel") => Ok(Elicitation::Cancel),
        Some(other) => Err(malformed(
            ELICIT,
            format!("`action` is `{other}`, not accept, decline or cancel"),
        )),
        None => Err(malformed(ELICIT, "it has no `action`")),
    }
}
