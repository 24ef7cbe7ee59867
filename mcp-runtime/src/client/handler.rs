//! What the server may ask of the client (sampling, elicitation, roots) and tell it
//! (progress, log messages, list changes): one trait, every method optional.

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::types::RpcError;

/// The client's side of the conversation. Implement what your application supports and
/// declare it in [`capabilities`](Self::capabilities); the rest answers "method not found".
///
/// ```
/// use mcp_runtime::client::{ClientHandler, RpcError};
/// use futures_util::future::BoxFuture;
/// use serde_json::{Value, json};
///
/// struct Accepting;
///
/// impl ClientHandler for Accepting {
///     fn capabilities(&self) -> Value {
///         json!({"elicitation": {}})
///     }
///     fn elicit(&self, _params: Value) -> BoxFuture<'_, Result<Value, RpcError>> {
///         Box::pin(async { Ok(json!({"action": "accept", "content": {"confirm": true}})) })
///     }
/// }
/// ```
pub trait ClientHandler: Send + Sync + 'static {
    /// The capabilities sent in `initialize` (`sampling`, `elicitation`, `roots`).
    fn capabilities(&self) -> Value {
        json!({})
    }

    /// `sampling/createMessage`: the server asks for an LLM completion.
    fn create_message(&self, _params: Value) -> BoxFuture<'_, Result<Value, RpcError>> {
        Box::pin(async { Err(not_supported("sampling/createMessage")) })
    }

    /// `elicitation/create`: the server asks the user for input.
    fn elicit(&self, _params: Value) -> BoxFuture<'_, Result<Value, RpcError>> {
        Box::pin(async { Err(not_supported("elicitation/create")) })
    }

    /// `roots/list`: the server asks which roots the client exposes.
    fn list_roots(&self) -> BoxFuture<'_, Result<Value, RpcError>> {
        Box::pin(async { Err(not_supported("roots/list")) })
    }

    /// `notifications/progress` (`progressToken`, `progress`, `total`, `message`).
    fn progress(&self, _params: &Value) {}

    /// `notifications/message`: a log message from the server.
    fn log(&self, params: &Value) {
        tracing::debug!(target: "mcp_runtime::client", "server log: {params}");
    }

    /// Any other notification (`notifications/tools/list_changed`, ...).
    fn notification(&self, _method: &str, _params: &Value) {}
}

fn not_supported(method: &str) -> RpcError {
    RpcError::new(-32601, format!("this client does not support {method}"))
}

/// The `default` of each property of an elicitation's `requestedSchema` (SEP-1034): what a
/// client fills in for fields the user leaves alone.
pub fn schema_defaults(requested_schema: &Value) -> serde_json::Map<String, Value> {
    requested_schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter_map(|(k, p)| p.get("default").map(|d| (k.clone(), d.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// The handler of a client that supports nothing the server may ask.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHandler;

impl ClientHandler for NoHandler {}

/// Answers one request from the server through the handler.
pub(crate) async fn answer(handler: &dyn ClientHandler, method: &str, params: Value) -> Value {
    let result = match method {
        "ping" => Ok(json!({})),
        "sampling/createMessage" => handler.create_message(params).await,
        "elicitation/create" => handler.elicit(params).await,
        "roots/list" => handler.list_roots().await,
        other => Err(RpcError::new(-32601, format!("unknown method `{other}`"))),
    };
    match result {
        Ok(r) => json!({"result": r}),
        Err(e) => json!({"error": e}),
    }
}

/// Passes one notification from the server to the handler.
pub(crate) fn notify(handler: &dyn ClientHandler, method: &str, params: &Value) {
    match method {
        "notifications/progress" => handler.progress(params),
        "notifications/message" => handler.log(params),
        other => handler.notification(other, params),
    }
}
