//! JSON-RPC 2.0 messages: parsing what clients send and framing what the server answers.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

/// JSON-RPC error codes used by the server.
pub mod code {
    /// Invalid JSON.
    pub const PARSE_ERROR: i32 = -32700;
    /// Not a valid request object.
    pub const INVALID_REQUEST: i32 = -32600;
    /// The method does not exist.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i32 = -32602;
    /// Internal error.
    pub const INTERNAL_ERROR: i32 = -32603;
    /// The session named by `Mcp-Session-Id` does not exist (as the reference SDK answers).
    pub const SESSION_NOT_FOUND: i32 = -32001;
    /// The request was cancelled by the client.
    pub const REQUEST_CANCELLED: i32 = -32800;
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct RpcError {
    /// The error code.
    pub code: i32,
    /// A message that says what to fix.
    pub message: String,
    /// Extra data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with this code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }
    pub(crate) fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAMS, message)
    }
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_REQUEST, message)
    }
}

/// A message from the client.
#[derive(Debug)]
pub(crate) enum Message {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    Response,
}

/// Validates one JSON-RPC message. On error, returns the request id when one was readable.
pub(crate) fn parse_message(value: Value) -> Result<Message, (Value, RpcError)> {
    let Value::Object(mut obj) = value else {
        return Err((
            Value::Null,
            RpcError::invalid_request("a JSON-RPC message must be an object"),
        ));
    };
    let id = obj.remove("id");
    let id_for_error = match &id {
        Some(v @ (Value::String(_) | Value::Number(_))) => v.clone(),
        _ => Value::Null,
    };
    let fail = |msg: &str| Err((id_for_error.clone(), RpcError::invalid_request(msg)));
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return fail("`jsonrpc` must be \"2.0\"");
    }
    if let Some(id) = &id
        && !matches!(id, Value::String(_) | Value::Number(_))
    {
        return fail("`id` must be a string or a number (MCP does not allow null)");
    }
    match obj.remove("method") {
        Some(Value::String(method)) => {
            let params = match obj.remove("params") {
                None | Some(Value::Null) => Value::Null,
                Some(p @ Value::Object(_)) => p,
                Some(_) => {
                    return Err((
                        id_for_error,
                        RpcError::invalid_params(format!(
                            "`params` of `{method}` must be an object"
                        )),
                    ));
                }
            };
            Ok(match id {
                Some(id) => Message::Request { id, method, params },
                None => Message::Notification { method, params },
            })
        }
        Some(_) => fail("`method` must be a string"),
        None if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) => {
            Ok(Message::Response)
        }
        None => fail(
            "a message needs a `method` (request or notification) or a `result`/`error` (response)",
        ),
    }
}

/// The answer to one request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The serialized `result`.
    Ok(Bytes),
    /// An error.
    Err(RpcError),
    /// The client cancelled the request: per the specification no response is due.
    Cancelled,
}

impl Reply {
    pub(crate) fn ok<T: Serialize>(value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(v) => Reply::Ok(Bytes::from(v)),
            Err(e) => Reply::Err(RpcError::new(
                code::INTERNAL_ERROR,
                format!("serializing the result: {e}"),
            )),
        }
    }
}

/// Frames a reply to request `id` as a JSON-RPC response.
pub(crate) fn frame(id: &Value, reply: &Reply) -> Option<Vec<u8>> {
    match reply {
        Reply::Ok(result) => {
            let mut out = Vec::with_capacity(result.len() + 48);
            out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
            // Ids are strings or numbers: serializing them cannot fail.
            let _ = serde_json::to_writer(&mut out, id);
            out.extend_from_slice(b",\"result\":");
            out.extend_from_slice(result);
            out.push(b'}');
            Some(out)
        }
        Reply::Err(err) => Some(error_body(id, err)),
        Reply::Cancelled => None,
    }
}

/// A JSON-RPC error response.
pub(crate) fn error_body(id: &Value, err: &RpcError) -> Vec<u8> {
    #[derive(Serialize)]
    struct Envelope<'a> {
        jsonrpc: &'static str,
        id: &'a Value,
        error: &'a RpcError,
    }
    serde_json::to_vec(&Envelope {
        jsonrpc: "2.0",
        id,
        error: err,
    })
    .unwrap_or_default()
}

/// Frames one message as a Server-Sent Event.
pub(crate) fn sse_event(json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 24);
    out.extend_from_slice(b"event: message\ndata: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_messages() {
        let req = parse_message(json!({"jsonrpc":"2.0","id":1,"method":"ping"})).expect("request");
        assert!(matches!(req, Message::Request { ref method, .. } if method == "ping"));
        let note = parse_message(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .expect("notification");
        assert!(matches!(note, Message::Notification { .. }));
        let resp = parse_message(json!({"jsonrpc":"2.0","id":"a","result":{}})).expect("response");
        assert!(matches!(resp, Message::Response));
    }

    #[test]
    fn refuses_bad_messages_with_precise_errors() {
        let (id, err) =
            parse_message(json!({"jsonrpc":"1.0","id":7,"method":"ping"})).expect_err("version");
        assert_eq!((id, err.code), (json!(7), code::INVALID_REQUEST));
        let (_, err) =
            parse_message(json!({"jsonrpc":"2.0","id":null,"method":"ping"})).expect_err("null id");
        assert!(err.message.contains("must be a string or a number"));
        let (_, err) = parse_message(json!({"jsonrpc":"2.0","id":1,"method":"x","params":[1]}))
            .expect_err("array params");
        assert_eq!(err.code, code::INVALID_PARAMS);
        let (_, err) = parse_message(json!([1])).expect_err("not an object");
        assert_eq!(err.message, "a JSON-RPC message must be an object");
    }

    #[test]
    fn frames_results_and_errors() {
        let body = frame(&json!("x"), &Reply::Ok(Bytes::from_static(b"{}"))).expect("framed");
        assert_eq!(body, br#"{"jsonrpc":"2.0","id":"x","result":{}}"#);
        let body = error_body(&json!(1), &RpcError::new(-32601, "nope"));
        assert_eq!(
            body,
            br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}"#
        );
        assert!(frame(&json!(1), &Reply::Cancelled).is_none());
    }
}
