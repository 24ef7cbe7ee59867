//! The protocol model the server and the client share: one definition of each wire object
//! (protocol versions, JSON-RPC errors, content and tool results), so a change to the wire
//! format is made once.

pub mod content;
pub mod error;
pub mod implementation;
pub mod rpc;
#[cfg(feature = "opentelemetry")]
pub(crate) mod trace_context;
pub mod version;

pub use content::{CallToolResult, Content, ResourceContents};
pub use error::{BoxError, Report};
pub use implementation::Implementation;
pub use rpc::RpcError;
pub use version::{DEFAULT_PROTOCOL_VERSION, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS};
