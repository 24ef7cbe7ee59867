//! Why a client request failed.

use super::types::{PROTOCOL_VERSIONS, RpcError};
use crate::model::BoxError;

/// Why a client request failed. Each variant says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached or the connection broke; the HTTP client's error
    /// (a `mcp_runtime::reqwest::Error`) is the source.
    #[error("cannot reach the MCP server: {message}")]
    Http {
        /// What failed, and where.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
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
    /// The OAuth sign-in failed (discovery, registration, authorization or the token step);
    /// an HTTP or I/O error behind it is the source.
    #[error("sign-in failed: {message}")]
    Auth {
        /// What failed.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The configuration is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// Reading or writing stored credentials failed; the I/O error is the source.
    #[error("token store: {message}")]
    Store {
        /// What failed (the file).
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The request took longer than its timeout (the server was told to cancel it).
    #[error("the request timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The request was cancelled (the server was told).
    #[error("the request was cancelled")]
    Cancelled,
}

impl ClientError {
    /// A [`ClientError::Http`] caused by `source`.
    pub(crate) fn http(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        ClientError::Http {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A [`ClientError::Auth`] with no underlying error.
    pub(crate) fn auth(message: impl Into<String>) -> Self {
        ClientError::Auth {
            message: message.into(),
            source: None,
        }
    }

    /// A [`ClientError::Auth`] caused by `source`.
    pub(crate) fn auth_by(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        ClientError::Auth {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A [`ClientError::Store`] caused by `source`.
    pub(crate) fn store(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        ClientError::Store {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The JSON-RPC error, for [`ClientError::Rpc`].
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            ClientError::Rpc(e) => Some(e),
            _ => None,
        }
    }
}
