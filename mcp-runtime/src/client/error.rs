//! Why a client request failed.

use super::types::{PROTOCOL_VERSIONS, RpcError};

/// Why a client request failed. Each variant says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached or the connection broke.
    #[error("cannot reach the MCP server: {0}")]
    Http(String),
    /// The server answered an unexpected HTTP status.
    #[error("the MCP server answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// The status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// The server answered with a JSON-RPC error.
    #[error("{0}")]
    Rpc(RpcError),
    /// The server's answer breaks the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The server speaks a revision this client does not.
    #[error("the server answered protocol version {0}, which this client does not speak (it speaks {speaks})", speaks = PROTOCOL_VERSIONS.join(", "))]
    UnsupportedVersion(String),
    /// 401 and no way to obtain a token.
    #[error("not authorized: {0}")]
    Unauthorized(String),
    /// 403: the token lacks a scope, and stepping up did not help.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The OAuth sign-in failed (discovery, registration, authorization or the token step).
    #[error("sign-in failed: {0}")]
    Auth(String),
    /// The configuration is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// Reading or writing stored credentials failed.
    #[error("token store: {0}")]
    Store(String),
    /// The request took longer than its timeout (the server was told to cancel it).
    #[error("the request timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The request was cancelled (the server was told).
    #[error("the request was cancelled")]
    Cancelled,
}

impl ClientError {
    /// The JSON-RPC error, for [`ClientError::Rpc`].
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            ClientError::Rpc(e) => Some(e),
            _ => None,
        }
    }
}
