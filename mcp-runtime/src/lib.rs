//! Write MCP servers in Rust: annotate async functions as tools, list them, run.
//!
//! ```no_run
//! use mcp_runtime::prelude::*;
//!
//! /// Add two numbers.
//! #[mcp_tool(read_only)]
//! async fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! #[mcp_server(name = "calc", version = "1.0.0", tools = [add])]
//! struct Calc;
//!
//! fn main() -> Result<(), ServeError> {
//!     Calc::run() // serves http://127.0.0.1:3000/mcp (HOST and PORT override)
//! }
//! ```
//!
//! - [`macro@mcp_tool`] turns an `async fn` into a [`Tool`]: its name, its doc comment as the
//!   description, a JSON Schema generated from its parameters, and a call adapter that checks
//!   the arguments before the body runs. The function stays callable as written.
//! - [`macro@mcp_server`] makes a type a complete server; [`McpServer::builder`] is the same
//!   by hand, and [`tools!`] lists tools for it.
//! - Parameters are input fields (anything `Deserialize + JsonSchema`) or extractors:
//!   [`Context`] (progress, logging, cancellation), [`State<T>`] (shared state) and
//!   [`Input<T>`] (the whole input as one struct).
//! - Results: text, numbers, [`Json<T>`] (structured content with an `outputSchema`),
//!   [`Content`] (images, audio, resources), [`CallToolResult`], or `Result<_, E>` of these;
//!   `Err` becomes an `isError` result.
//!
//! The transport is MCP Streamable HTTP (protocol versions 2025-11-25, 2025-06-18 and
//! 2025-03-26) on actix-web, with sessions (or a stateless mode), DNS-rebinding protection,
//! body limits, cancellation and SSE streaming of progress and log notifications.
//!
//! Logs use `tracing` with the targets `mcp_runtime::server`, `mcp_runtime::rpc` and
//! `mcp_runtime::config`, e.g. `RUST_LOG=info,mcp_runtime::rpc=debug`.

pub mod auth;
pub mod config;
mod extract;
pub mod providers;
mod result;
pub mod server;
mod tool;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use config::ServeError;
pub use extract::{ArgError, Context, Input, LogLevel, State, ToolCall, ToolParam};
pub use mcp_macros::{mcp_server, mcp_tool};
pub use result::{CallToolResult, Content, IntoToolResult, Json, ResourceContents, ToolError};
pub use server::{BuildError, McpServer, McpServerBuilder, RpcError, RunningServer};
pub use tool::{
    Handler, Tool, ToolAnnotations, ToolBuilder, ToolDef, ToolMeta, ToolSpec, validate_tool_name,
};

/// Re-exported so that custom routes need no direct dependency.
pub use actix_web;

/// Lists tools for [`McpServerBuilder::tools`]: `tools![add, search]`.
///
/// Each name must be a function annotated with [`macro@mcp_tool`].
#[macro_export]
macro_rules! tools {
    ($($tool:path),* $(,)?) => {
        $crate::__private::tools([$(<$tool as $crate::__private::ToolDef>::tool()),*])
    };
}

/// Everything a server file needs: `use mcp_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::{
        CallToolResult, Content, Context, Input, IntoToolResult, Json, LogLevel, McpServer,
        ServeError, State, Tool, ToolAnnotations, ToolError, auth::Auth, mcp_server, mcp_tool,
        tools,
    };
}
