//! JSON-RPC 2.0 messages: parsing what clients send and framing what the server answers.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::result::{CallToolResult, Content};

pub use crate::model::rpc::{RpcError, code};

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
    /// A response to a request the server sent (sampling, elicitation, roots).
    Response {
        id: Value,
        /// `Ok(result)` or `Err(error)`, both raw.
        outcome: Result<&'a RawValue, &'a RawValue>,
    },
}

/// A string of the request body, borrowed unless it has escapes.
///
/// serde borrows a `Cow<str>` field only when it is the field's whole type: an
/// `Option<Cow<str>>` is always an owned copy, and this newtype is what keeps it borrowed.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct BodyStr<'a>(#[serde(borrow)] pub(crate) Cow<'a, str>);

/// `T`, accepted only from a JSON object: a derived struct also accepts an array (its fields
/// by position), which JSON-RPC does not.
pub(crate) struct InObject<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for InObject<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(ObjectVisitor(PhantomData)).map(InObject)
    }
}

/// The envelope, parsed without building a `Value` tree: `params` stays raw JSON until the
/// method that needs it decodes it.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow)]
    jsonrpc: Option<BodyStr<'a>>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    #[serde(default, borrow)]
    method: Option<BodyStr<'a>>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

/// `Some` whenever the key is present, even as `null` (which MCP forbids for ids).
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
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
    if env.jsonrpc.as_ref().map(|v| &*v.0) != Some("2.0") {
        return fail("`jsonrpc` must be \"2.0\"");
    }
    if let Some(id) = &env.id
        && !matches!(id, Value::String(_) | Value::Number(_))
    {
        return fail("`id` must be a string or a number (MCP does not allow null)");
    }
    match env.method {
        Some(BodyStr(method)) => {
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
            let outcome = match (env.result, env.error) {
                (Some(result), None) => Ok(result),
                (None, Some(error)) => Err(error),
                _ => return fail("a response has either a `result` or an `error`, not both"),
            };
            Ok(Message::Response {
                id: env.id.unwrap_or(Value::Null),
                outcome,
            })
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
    /// A tool's result, serialized straight into the response when it is framed.
    Tool(CallToolResult),
    /// An error.
    Err(RpcError),
    /// The client cancelled the request: per the specification no response is due.
    Cancelled,
}

impl Reply {
    pub(crate) fn ok<T: Serialize>(value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(v) => Reply::Ok(Bytes::from(v)),
            Err(e) => Reply::Err(serialize_error(&e)),
        }
    }
}

fn serialize_error(e: &serde_json::Error) -> RpcError {
    RpcError::new(code::INTERNAL_ERROR, format!("serializing the result: {e}"))
}

/// Frames a reply to request `id` as a JSON-RPC response.
pub(crate) fn frame(id: &Value, reply: &Reply) -> Option<Vec<u8>> {
    frame_with(id, reply, "")
}

/// Frames a reply with `fields` (`"key":value` pairs, comma-separated) written first into
/// its result object: the 2026-07-28 revision's `resultType` and caching hints, with no copy
/// of the result.
pub(crate) fn frame_with(id: &Value, reply: &Reply, fields: &str) -> Option<Vec<u8>> {
    const HEAD: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":";
    const RESULT: &[u8] = b",\"result\":";
    let start = |result_len: usize| {
        let mut out = Vec::with_capacity(HEAD.len() + 24 + RESULT.len() + result_len + 1);
        out.extend_from_slice(HEAD);
        // Ids are strings or numbers: serializing them cannot fail.
        let _ = serde_json::to_writer(&mut out, id);
        out.extend_from_slice(RESULT);
        out
    };
    match reply {
        Reply::Ok(result) => {
            let mut out = start(result.len() + fields.len() + 1);
            // A result that says its own type (input required) is written as it is.
            match result.strip_prefix(b"{") {
                Some(rest) if !fields.is_empty() && !rest.starts_with(b"\"resultType\"") => {
                    out.push(b'{');
                    out.extend_from_slice(fields.as_bytes());
                    if rest.first() != Some(&b'}') {
                        out.push(b',');
                    }
                    out.extend_from_slice(rest);
                }
                _ => out.extend_from_slice(result),
            }
            out.push(b'}');
            Some(out)
        }
        Reply::Tool(result) => {
            let mut out = start(64);
            if let Err(e) = write_tool_result(&mut out, result, fields) {
                return Some(error_body(id, &serialize_error(&e)));
            }
            out.push(b'}');
            Some(out)
        }
        Reply::Err(err) => Some(error_body(id, err)),
        Reply::Cancelled => None,
    }
}

/// Writes `result` as `serde_json::to_writer` would, with its constant keys and text content
/// (what nearly every tool returns) written directly: through serde each key is escaped and
/// each struct and tag goes through a serializer state machine, which costs several times
/// more than the copy.
fn write_tool_result(
    out: &mut Vec<u8>,
    result: &CallToolResult,
    fields: &str,
) -> serde_json::Result<()> {
    // Destructured so that a new field cannot be forgotten here.
    let CallToolResult {
        content,
        structured_content,
        is_error,
        meta,
    } = result;
    out.push(b'{');
    if !fields.is_empty() {
        out.extend_from_slice(fields.as_bytes());
        out.push(b',');
    }
    out.extend_from_slice(b"\"content\":[");
    for (i, content) in content.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match content {
            Content::Text { text } => {
                out.extend_from_slice(b"{\"type\":\"text\",\"text\":");
                serde_json::to_writer(&mut *out, text)?;
                out.push(b'}');
            }
            other => serde_json::to_writer(&mut *out, other)?,
        }
    }
    out.push(b']');
    if let Some(structured) = structured_content {
        out.extend_from_slice(b",\"structuredContent\":");
        serde_json::to_writer(&mut *out, structured)?;
    }
    if *is_error {
        out.extend_from_slice(b",\"isError\":true");
    }
    if let Some(meta) = meta {
        out.extend_from_slice(b",\"_meta\":");
        serde_json::to_writer(&mut *out, meta)?;
    }
    out.push(b'}');
    Ok(())
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
        assert!(matches!(resp, Message::Response { outcome: Ok(r), .. } if r.get() == "{}"));
        let both = parse_message(r#"{"jsonrpc":"2.0","id":"a","result":{},"error":{}}"#);
        assert!(both.is_err());
        let with = parse_message(r#"{"jsonrpc":"2.0","id":2,"method":"x","params":{"a":1}}"#)
            .expect("params");
        assert!(
            matches!(with, Message::Request { params: Some(p), .. } if p.get() == r#"{"a":1}"#)
        );
    }

    #[test]
    fn tool_results_are_written_as_serde_writes_them() {
        let results = [
            CallToolResult::default(),
            CallToolResult::success([Content::text("42")]),
            CallToolResult::success([Content::text("a \"quoted\"\n\u{1} é 😀")]),
            CallToolResult::error("nope"),
            CallToolResult::success([
                Content::text("one"),
                Content::image(b"png", "image/png"),
                Content::resource_link("file:///x", "x"),
                Content::text("two"),
                Content::embedded_text("file:///y", "text/plain", "y"),
            ])
            .with_structured(json!({"b": [1, 2.5, null], "a": {"z": "\\"}})),
            CallToolResult {
                content: vec![Content::audio(b"wav", "audio/wav")],
                structured_content: Some(json!(null)),
                is_error: true,
                meta: None,
            },
            CallToolResult::error("sign in")
                .with_meta("mcp/www_authenticate", json!(["Bearer scope=\"a\""])),
        ];
        for result in results {
            let mut out = Vec::new();
            write_tool_result(&mut out, &result, "").expect("written");
            let expected = serde_json::to_vec(&result).expect("serialized");
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected)
            );
        }
    }

    #[test]
    fn borrows_strings_without_escapes() {
        let Ok(Message::Request { method, .. }) =
            parse_message(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#)
        else {
            panic!("not a request");
        };
        assert!(matches!(method, Cow::Borrowed("tools/call")));
        let Ok(Message::Request { method, .. }) =
            parse_message(r#"{"jsonrpc":"2.0","id":1,"method":"tools\/call"}"#)
        else {
            panic!("not a request");
        };
        assert_eq!(method, "tools/call");
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
        let with = |reply: &Reply| {
            let body = frame_with(&json!(1), reply, r#""resultType":"complete""#).expect("framed");
            serde_json::from_slice::<Value>(&body).expect("JSON")["result"].clone()
        };
        assert_eq!(
            with(&Reply::Ok(Bytes::from_static(b"{}"))),
            json!({"resultType": "complete"})
        );
        assert_eq!(
            with(&Reply::Ok(Bytes::from_static(br#"{"tools":[]}"#))),
            json!({"resultType": "complete", "tools": []})
        );
        assert_eq!(
            with(&Reply::Tool(CallToolResult::error("no"))),
            json!({"resultType": "complete", "content": [{"type": "text", "text": "no"}], "isError": true})
        );
        let body = error_body(&json!(1), &RpcError::new(-32601, "nope"));
        assert_eq!(
            body,
            br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}"#
        );
        assert!(frame(&json!(1), &Reply::Cancelled).is_none());
    }
}
