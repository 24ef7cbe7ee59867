//! JSON-RPC errors: the error object and the codes, the same on both sides of the wire.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// JSON-RPC error codes (those of JSON-RPC 2.0, and those MCP adds).
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
    /// The requested protocol revision is not served; `data.supported` lists those that are
    /// (the code of the 2026-07-28 revision, which clients use to fall back).
    pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;
    /// A 2026-07-28 request's `Mcp-Method`/`Mcp-Name` (or argument) headers disagree with its
    /// body.
    pub const HEADER_MISMATCH: i32 = -32020;
    /// A 2026-07-28 request needs a client capability the request's `_meta` did not declare.
    pub const MISSING_CAPABILITY: i32 = -32021;
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} (JSON-RPC error {code})")]
pub struct RpcError {
    /// The error code.
    pub code: i32,
    /// A message that says what to fix.
    pub message: String,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAMS, message)
    }
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_REQUEST, message)
    }
}
