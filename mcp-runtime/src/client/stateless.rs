//! The 2026-07-28 revision's wire, the client's side: no `initialize`; every request carries
//! its revision, capabilities and client info in `_meta`, and names its method (`Mcp-Method`),
//! item (`Mcp-Name`) and the tool arguments the tool designates (`Mcp-Param-*`) in headers;
//! a result may ask for input (`resultType: input_required`) before it completes.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::handler::{self, ClientHandler};

/// The revision without sessions or `initialize`.
pub(crate) const STATELESS_VERSION: &str = "2026-07-28";

/// Whether `version` is served without sessions.
pub(crate) fn is_stateless(version: &str) -> bool {
    version >= STATELESS_VERSION
}

/// Adds the request metadata every 2026-07-28 request carries.
pub(crate) fn add_meta(
    params: &mut Value,
    version: &str,
    capabilities: &Value,
    client_info: &Value,
) {
    if !params.is_object() {
        *params = json!({});
    }
    let meta = &mut params["_meta"];
    if !meta.is_object() {
        *meta = json!({});
    }
    meta["io.modelcontextprotocol/protocolVersion"] = json!(version);
    meta["io.modelcontextprotocol/clientCapabilities"] = capabilities.clone();
    meta["io.modelcontextprotocol/clientInfo"] = client_info.clone();
}

/// `Mcp-Method`, `Mcp-Name` and the `Mcp-Param-*` headers of a request.
pub(crate) fn headers(
    method: &str,
    params: &Value,
    schema: Option<&Value>,
) -> Vec<(String, String)> {
    let mut h = vec![("mcp-method".to_owned(), method.to_owned())];
    let name = match method {
        "tools/call" | "prompts/get" => params.get("name"),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => params.get("uri"),
        m if m.starts_with("tasks/") => params.get("taskId"),
        _ => None,
    };
    if let Some(n) = name.and_then(Value::as_str) {
        h.push(("mcp-name".to_owned(), n.to_owned()));
    }
    if method == "tools/call"
        && let (Some(schema), Some(args)) = (schema, params.get("arguments"))
    {
        for (arg, header) in designated(schema) {
            if let Some(v) = args.get(&arg).and_then(encode) {
                h.push((format!("mcp-param-{header}"), v));
            }
        }
    }
    h
}

/// The (argument, header name) pairs a tool's schema designates with `x-mcp-header`.
fn designated(schema: &Value) -> Vec<(String, String)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter_map(|(k, p)| {
                    p.get("x-mcp-header")
                        .and_then(Value::as_str)
                        .map(|h| (k.clone(), h.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A header value for an argument: strings as they are when they are safe (visible ASCII and
/// inner spaces), else `=?base64?…?=`; integers and booleans as text; null is no header.
fn encode(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            // A literal that looks like the encoding itself is encoded, so that it reads back
            // as written.
            let safe = s.bytes().all(|b| (0x20..=0x7e).contains(&b))
                && !s.starts_with(' ')
                && !s.ends_with(' ')
                && !s.starts_with("=?base64?");
            Some(if safe {
                s.clone()
            } else {
                format!(
                    "=?base64?{}?=",
                    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
                )
            })
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Why a tool's `x-mcp-header` designations are unusable, if they are: names must be
/// non-empty visible ASCII without `:` and unique regardless of case, on string, integer or
/// boolean properties only.
pub(crate) fn invalid_headers(schema: &Value) -> Option<String> {
    let props = schema.get("properties").and_then(Value::as_object)?;
    let mut seen: Vec<String> = Vec::new();
    for (k, p) in props {
        let Some(h) = p.get("x-mcp-header") else {
            continue;
        };
        let Some(name) = h.as_str() else {
            return Some(format!("`{k}`: x-mcp-header is not a string"));
        };
        if name.is_empty() {
            return Some(format!("`{k}`: x-mcp-header is empty"));
        }
        if !name
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b':')
        {
            return Some(format!("`{k}`: x-mcp-header `{name}` is not a header name"));
        }
        let primitive = match p.get("type") {
            Some(Value::String(t)) => matches!(t.as_str(), "string" | "integer" | "boolean"),
            _ => false,
        };
        if !primitive {
            return Some(format!(
                "`{k}`: x-mcp-header is allowed on string, integer and boolean properties only"
            ));
        }
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Some(format!("x-mcp-header `{name}` is used twice"));
        }
        seen.push(lower);
    }
    None
}

/// The answers to an input-required result's `inputRequests`, from the handler.
pub(crate) async fn input_responses(
    handler: &dyn ClientHandler,
    requests: &Map<String, Value>,
) -> Value {
    let mut out = Map::new();
    for (key, req) in requests {
        let method = req.get("method").and_then(Value::as_str).unwrap_or("");
        let params = req.get("params").cloned().unwrap_or(Value::Null);
        let answer = handler::answer(handler, method, params).await;
        // A refusal is answered as the error it is.
        let value = answer.get("result").cloned().unwrap_or_else(
            || json!({"error": answer.get("error").cloned().unwrap_or(Value::Null)}),
        );
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_the_method_the_item_and_designated_arguments() {
        let schema = json!({"properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "n": {"type": "integer", "x-mcp-header": "N"},
            "note": {"type": "string", "x-mcp-header": "Note"},
            "q": {"type": "string"}
        }});
        let params = json!({"name": "t", "arguments": {"region": "us-west1", "n": 3, "note": " x", "q": "no"}});
        let h = headers("tools/call", &params, Some(&schema));
        assert!(h.contains(&("mcp-method".into(), "tools/call".into())));
        assert!(h.contains(&("mcp-name".into(), "t".into())));
        assert!(h.contains(&("mcp-param-Region".into(), "us-west1".into())));
        assert!(h.contains(&("mcp-param-N".into(), "3".into())));
        assert!(h.contains(&("mcp-param-Note".into(), "=?base64?IHg=?=".into())));
        assert_eq!(h.len(), 5);
        let read = headers("resources/read", &json!({"uri": "file:///a%20b"}), None);
        assert!(read.contains(&("mcp-name".into(), "file:///a%20b".into())));
    }

    #[test]
    fn bad_designations_are_found() {
        let t = |p: Value| invalid_headers(&json!({"properties": p}));
        assert!(t(json!({"a": {"type": "string", "x-mcp-header": "A"}})).is_none());
        assert!(t(json!({"a": {"type": "string", "x-mcp-header": ""}})).is_some());
        assert!(t(json!({"a": {"type": "number", "x-mcp-header": "A"}})).is_some());
        assert!(t(json!({"a": {"type": "string", "x-mcp-header": "My A"}})).is_some());
        assert!(t(json!({"a": {"type": "string", "x-mcp-header": "Région"}})).is_some());
        assert!(t(json!({"a": {"type": "string", "x-mcp-header": "A"}, "b": {"type": "integer", "x-mcp-header": "a"}})).is_some());
    }
}
