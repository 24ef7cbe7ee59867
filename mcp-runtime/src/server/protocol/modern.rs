//! The 2026-07-28 revision, the protocol side: no `initialize` and no session; every request
//! carries its revision, the client's capabilities and (optionally) its identity in `_meta`,
//! is checked against its HTTP headers, and is answered with `resultType` (and caching hints
//! on listings). `server/discover` says what the server offers.

use serde_json::{Map, Value, json};

use crate::server::call::LogLevel;
use crate::server::jsonrpc::{RpcError, code};
use crate::server::outgoing::ClientCapabilities;

/// The stateless revision.
pub(crate) const REVISION: &str = "2026-07-28";

/// `_meta` keys.
const VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
const CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";

pub(crate) use crate::model::rpc::code::{HEADER_MISMATCH, MISSING_CAPABILITY};

/// Methods the revision removed: answered like unknown ones.
const REMOVED: &[&str] = &[
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
    "notifications/initialized",
];

/// What a request says about itself in `_meta`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestMeta {
    /// The revision named (this one, borrowed; anything else is refused once checked).
    pub(crate) version: std::borrow::Cow<'static, str>,
    pub(crate) capabilities: ClientCapabilities,
    /// Log messages at or above this level are sent; none without it.
    pub(crate) log_level: Option<LogLevel>,
    /// The client's answers to an earlier input-required result (`inputResponses`).
    pub(crate) input_responses: Map<String, Value>,
    /// The state of that result, sent back (`requestState`).
    pub(crate) request_state: Option<String>,
}

/// The parts of a request its metadata is read from.
pub(crate) struct MetaParts<'a> {
    /// Whether `params._meta` is an object at all.
    pub(crate) present: bool,
    pub(crate) version: Option<&'a str>,
    pub(crate) capabilities: Option<&'a Value>,
    pub(crate) log_level: Option<&'a Value>,
    pub(crate) input_responses: Option<Map<String, Value>>,
    pub(crate) request_state: Option<String>,
}

/// Reads and checks `params._meta` (and the input-required fields) of any request: the
/// revision and capabilities are required.
pub(crate) fn request_meta(params: &Value) -> Result<RequestMeta, RpcError> {
    let meta = params.get("_meta").and_then(Value::as_object);
    let input_responses = match params.get("inputResponses") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            return Err(RpcError::invalid_params(
                "`inputResponses` must be an object of answers by key",
            ));
        }
    };
    let request_state = match params.get("requestState") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(RpcError::invalid_params("`requestState` must be a string")),
    };
    let version = meta.and_then(|m| m.get(VERSION_KEY));
    if version.is_some_and(|v| !v.is_string()) {
        return Err(RpcError::invalid_params(format!(
            "`params._meta` `{VERSION_KEY}` must be a string"
        )));
    }
    meta_from(MetaParts {
        present: meta.is_some(),
        version: version.and_then(Value::as_str),
        capabilities: meta.and_then(|m| m.get(CAPABILITIES_KEY)),
        log_level: meta.and_then(|m| m.get(LOG_LEVEL_KEY)),
        input_responses,
        request_state,
    })
}

/// Checks the parts and makes the metadata.
pub(crate) fn meta_from(parts: MetaParts<'_>) -> Result<RequestMeta, RpcError> {
    if !parts.present {
        return Err(RpcError::invalid_params(format!(
            "a {REVISION} request carries `params._meta` with `{VERSION_KEY}` and \
             `{CAPABILITIES_KEY}`"
        )));
    }
    let Some(version) = parts.version else {
        return Err(RpcError::invalid_params(format!(
            "`params._meta` lacks `{VERSION_KEY}` (a string)"
        )));
    };
    let Some(capabilities) = parts.capabilities.filter(|c| c.is_object()) else {
        return Err(RpcError::invalid_params(format!(
            "`params._meta` lacks `{CAPABILITIES_KEY}` (an object)"
        )));
    };
    let log_level = match parts.log_level {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().and_then(LogLevel::parse).ok_or_else(|| {
            RpcError::invalid_params(format!(
                "`{LOG_LEVEL_KEY}` must be one of debug, info, notice, warning, error, critical, \
                 alert, emergency; got {v}"
            ))
        })?),
    };
    Ok(RequestMeta {
        version: if version == REVISION {
            std::borrow::Cow::Borrowed(REVISION)
        } else {
            std::borrow::Cow::Owned(version.to_owned())
        },
        capabilities: ClientCapabilities::from_object(capabilities),
        log_level,
        input_responses: parts.input_responses.unwrap_or_default(),
        request_state: parts.request_state,
    })
}

/// Every revision this server speaks, newest first.
pub(crate) fn supported_versions() -> Vec<&'static str> {
    let mut v = vec![REVISION];
    v.extend(crate::model::SUPPORTED_PROTOCOL_VERSIONS);
    v
}

/// The error for a revision this server does not speak: the supported ones and the
/// requested one in `data`.
pub(crate) fn unsupported(requested: &str) -> RpcError {
    let supported = supported_versions();
    let mut e = RpcError::new(
        code::UNSUPPORTED_PROTOCOL_VERSION,
        format!(
            "unsupported protocol version `{requested}`; this server supports {}",
            supported.join(", ")
        ),
    );
    e.data = Some(json!({ "supported": supported, "requested": requested }));
    e
}

/// A header that does not say what the body says.
pub(crate) fn header_mismatch(message: impl Into<String>) -> RpcError {
    RpcError::new(HEADER_MISMATCH, message)
}

/// A method the revision removed or this server does not have.
pub(crate) fn method_not_found(method: &str) -> RpcError {
    let why = if REMOVED.contains(&method) {
        format!("`{method}` does not exist in protocol version {REVISION}")
    } else {
        format!("method `{method}` is not supported by this server")
    };
    RpcError::new(code::METHOD_NOT_FOUND, why)
}

/// Whether the revision removed `method`.
pub(crate) fn is_removed(method: &str) -> bool {
    REMOVED.contains(&method)
}

/// The error for a request that needs a capability the client did not declare.
pub(crate) fn missing_capability(method: &str, capability: &str) -> RpcError {
    let mut e = RpcError::new(
        MISSING_CAPABILITY,
        format!(
            "{method} needs the client capability `{capability}`, which this request's \
             `{CAPABILITIES_KEY}` does not declare"
        ),
    );
    e.data = Some(json!({ "requiredCapabilities": { capability: {} } }));
    e
}

/// The HTTP status of an error under this revision.
pub(crate) fn status_of(e: &RpcError) -> u16 {
    match e.code {
        code::METHOD_NOT_FOUND => 404,
        code::PARSE_ERROR
        | code::INVALID_REQUEST
        | code::UNSUPPORTED_PROTOCOL_VERSION
        | HEADER_MISMATCH
        | MISSING_CAPABILITY => 400,
        _ => 200,
    }
}

/// The fields written first into every result: `resultType`, and the caching hints of
/// `server/discover`, listings and resource reads (private when they may depend on the
/// caller).
pub(crate) fn result_fields(method: &str, ttl_ms: u64, per_caller: bool) -> String {
    let cacheable = matches!(
        method,
        "server/discover"
            | "tools/list"
            | "resources/list"
            | "resources/templates/list"
            | "prompts/list"
            | "resources/read"
    );
    if cacheable {
        let scope = if per_caller { "private" } else { "public" };
        format!(r#""resultType":"complete","ttlMs":{ttl_ms},"cacheScope":"{scope}""#)
    } else {
        r#""resultType":"complete""#.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_is_required_and_named() {
        let err = |p: Value| request_meta(&p).expect_err("refused").message;
        assert!(err(json!({})).contains("carries `params._meta`"));
        assert!(err(json!({"_meta": {CAPABILITIES_KEY: {}}})).contains(VERSION_KEY));
        assert!(err(json!({"_meta": {VERSION_KEY: REVISION}})).contains(CAPABILITIES_KEY));
        assert!(err(json!({"_meta": {VERSION_KEY: REVISION, CAPABILITIES_KEY: {}, LOG_LEVEL_KEY: "loud"}})).contains("logLevel"));
        let ok = request_meta(&json!({"_meta": {VERSION_KEY: REVISION,
            CAPABILITIES_KEY: {"sampling": {}}, LOG_LEVEL_KEY: "warning"}}))
        .expect("valid");
        assert!(ok.capabilities.sampling && !ok.capabilities.roots);
        assert_eq!(ok.log_level, Some(LogLevel::Warning));
    }

    #[test]
    fn errors_have_their_statuses() {
        assert_eq!(status_of(&method_not_found("ping")), 404);
        assert!(
            method_not_found("ping")
                .message
                .contains("does not exist in protocol version")
        );
        assert_eq!(status_of(&header_mismatch("x")), 400);
        let missing = missing_capability("sampling/createMessage", "sampling");
        assert_eq!(
            (status_of(&missing), missing.data),
            (400, Some(json!({"requiredCapabilities": {"sampling": {}}})))
        );
        assert_eq!(unsupported("v9").data.expect("data")["requested"], "v9");
        assert_eq!(status_of(&RpcError::invalid_params("x")), 200);
    }
}
