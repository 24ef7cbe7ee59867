//! Why a request to the client (sampling, elicitation, roots) failed.

use std::time::Duration;

use serde_json::Value;

/// Why a request to the client failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientRequestError {
    /// The client did not declare the capability at `initialize`.
    #[error(
        "the client does not support {method}: it did not declare the `{capability}` capability"
    )]
    NotSupported {
        /// The request (`sampling/createMessage`, ...).
        method: &'static str,
        /// The capability it needs.
        capability: &'static str,
    },
    /// Requests to the client need a session, and this server runs stateless.
    #[error(
        "{method} needs an MCP session to carry the client's answer, and this server runs \
         without sessions (stateless)"
    )]
    NoSession {
        /// The request.
        method: &'static str,
    },
    /// The call's response cannot carry a request to the client: the client did not accept
    /// `text/event-stream`, or streaming is turned off.
    #[error(
        "{method} cannot reach the client: this call's response is not a stream (the client \
         must accept text/event-stream, and the server must stream)"
    )]
    NoStream {
        /// The request.
        method: &'static str,
    },
    /// The client did not answer in time.
    #[error("the client did not answer {method} within {after:?}")]
    Timeout {
        /// The request.
        method: &'static str,
        /// How long the call waited.
        after: Duration,
    },
    /// The session ended before the client answered.
    #[error("the session ended before the client answered {method}")]
    Closed {
        /// The request.
        method: &'static str,
    },
    /// The client answered with a JSON-RPC error.
    #[error("the client refused {method}: {message} (error {code})")]
    Refused {
        /// The request.
        method: &'static str,
        /// The client's error code.
        code: i32,
        /// The client's message.
        message: String,
    },
    /// The client's answer is not what the request asked for.
    #[error("the client's answer to {method} is malformed: {reason}")]
    Malformed {
        /// The request.
        method: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be made (an empty sampling request, a type that cannot be a
    /// form).
    #[error("{0}")]
    Invalid(String),
}

impl From<ClientRequestError> for crate::result::ToolError {
    fn from(e: ClientRequestError) -> Self {
        crate::result::ToolError::new(e.to_string())
    }
}

/// The client's refusal, when its answer to an input request is one (`{"error": {...}}`).
pub(crate) fn refusal(method: &'static str, answer: &Value) -> Option<ClientRequestError> {
    let e = answer.get("error").filter(|e| e.is_object())?;
    Some(ClientRequestError::Refused {
        method,
        code: e
            .get("code")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(crate::server::jsonrpc::code::INTERNAL_ERROR),
        message: e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message")
            .to_owned(),
    })
}
