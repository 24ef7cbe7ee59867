//! JSON-RPC 2.0 messages: parsing what clients send and framing what the server answers.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

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

/// A message from the client, borrowing from the request body.
#[derive(Debug)]
pub(crate) enum Message<'a> {
    Request {
        id: Value,
        method: Cow<'a, str>,
        params: Option<&'a RawValue>,
    },
    Notification {
        method: Cow<'a, str>,
        params: Option<&'a RawValue>,
    },
    Response,
}

/// The envelope, parsed without building a `Value` tree: `params` stays raw JSON until the
/// method that needs it decodes it.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow)]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    #[serde(default, borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

/// `Some` whenever the key is present, even as `null` (which MCP forbids for ids).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Classifies a serde_json failure: bad JSON is -32700, valid JSON of the wrong shape -32600.
pub(crate) fn json_error(e: &serde_json::Error) -> RpcError {
    match e.classify() {
        serde_json::error::Category::Data => {
            RpcError::invalid_request(format!("invalid JSON-RPC message: {e}"))
        }
        _ => RpcError::new(code::PARSE_ERROR, format!("invalid JSON: {e}")),
    }
}

/// Validates one JSON-RPC message. On error, returns the request id when one was readable.
pub(crate) fn parse_message(text: &str) -> Result<Message<'_>, (Value, RpcError)> {
    let env: Envelope<'_> = match serde_json::from_str(text) {
        Ok(env) => env,
        Err(e)
            if e.classify() == serde_json::error::Category::Data
                && !text.trim_start().starts_with('{') =>
        {
            return Err((
                Value::Null,
                RpcError::invalid_request("a JSON-RPC message must be an object"),
            ));
        }
        Err(e) => return Err((Value::Null, json_error(&e))),
    };
    let id_for_error = match &env.id {
        Some(v @ (Value::String(_) | Value::Number(_))) => v.clone(),
        _ => Value::Null,
    };
    let fail = |msg: &str| Err((id_for_error.clone(), RpcError::invalid_request(msg)));
    if env.jsonrpc.as_deref() != Some("2.0") {
        return fail("`jsonrpc` must be \"2.0\"");
    }
    if let Some(id) = &env.id
        && !matches!(id, Value::String(_) | Value::Number(_))
    {
        return fail("`id` must be a string or a number (MCP does not allow null)");
    }
    match env.method {
        Some(method) => {
            if let Some(p) = env.params
                && !p.get().starts_with('{')
                && p.get() != "null"
            {
                return Err((
                    id_for_error,
                    RpcError::invalid_params(format!("`params` of `{method}` must be an object")),
                ));
            }
            let params = env.params.filter(|p| p.get() != "null");
            Ok(match env.id {
                Some(id) => Message::Request { id, method, params },
                None => Message::Notification { method, params },
            })
        }
        None if env.id.is_some() && (env.result.is_some() || env.error.is_some()) => {
            Ok(Message::Response)
        }
        None => fail(
            "a message needs a `method` (request or notification) or a `result`/`error` (response)",
        ),
    }
}

/// Decodes `params` into a `Value` (an empty object when absent).
pub(crate) fn params_value(params: Option<&RawValue>) -> Value {
    params
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()))
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
        let req = parse_message(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).expect("request");
        assert!(
            matches!(req, Message::Request { ref method, params: None, .. } if method == "ping")
        );
        let note = parse_message(
            r#"{"jsonrpc":"2.0","method":"notifications/initialized","params":null}"#,
        )
        .expect("notification");
        assert!(matches!(note, Message::Notification { params: None, .. }));
        let resp = parse_message(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#).expect("response");
        assert!(matches!(resp, Message::Response));
        let with = parse_message(r#"{"jsonrpc":"2.0","id":2,"method":"x","params":{"a":1}}"#)
            .expect("params");
        assert!(
            matches!(with, Message::Request { params: Some(p), .. } if p.get() == r#"{"a":1}"#)
        );
    }

    #[test]
    fn refuses_bad_messages_with_precise_errors() {
        let (id, err) =
            parse_message(r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#).expect_err("version");
        assert_eq!((id, err.code), (json!(7), code::INVALID_REQUEST));
        let (_, err) =
            parse_message(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).expect_err("null id");
        assert!(err.message.contains("must be a string or a number"));
        let (_, err) = parse_message(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#)
            .expect_err("array params");
        assert_eq!(err.code, code::INVALID_PARAMS);
        let (_, err) = parse_message("[1]").expect_err("not an object");
        assert_eq!(err.message, "a JSON-RPC message must be an object");
        let (_, err) = parse_message("{oops").expect_err("syntax");
        assert_eq!(err.code, code::PARSE_ERROR);
        let (_, err) =
            parse_message(r#"{"jsonrpc":"2.0","id":1,"method":5}"#).expect_err("method type");
        assert_eq!(err.code, code::INVALID_REQUEST);
        assert!(
            err.message
                .starts_with("invalid JSON-RPC message: invalid type: integer `5`"),
            "{}",
            err.message
        );
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
