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
//! The transport is MCP Streamable HTTP (protocol versions 2026-07-28, 2025-11-25, 2025-06-18
//! and 2025-03-26) on actix-web, with sessions (or a stateless mode), DNS-rebinding protection,
//! body limits, cancellation and SSE streaming of progress and log notifications.
//!
//! Logs use `tracing` with the targets `mcp_runtime::server`, `mcp_runtime::rpc`,
//! `mcp_runtime::auth` and `mcp_runtime::config`, e.g. `RUST_LOG=info,mcp_runtime::rpc=debug`.
//! Every request to the endpoint runs in an `mcp.request` span (target
//! `mcp_runtime::request`, level DEBUG) with OpenTelemetry's MCP semantic conventions: named
//! `{mcp.method.name} {target}` through `otel.name`, with `mcp.method.name`,
//! `gen_ai.tool.name`, `mcp.session.id`, `mcp.protocol.version`, `jsonrpc.request.id` and
//! `error.type`; never a token, and the caller's `sub` only when asked for
//! ([`McpServerBuilder::trace_subject`]). See the [deployment guide](guides::deployment).
//!
//! The [`guides`] explain each part at length: tools, resources and prompts, servers, OAuth and
//! the presets, the proxy, the development authorization server, the client and the `mcp`
//! CLI, transport, deployment.
//!
//! # Cargo features
//!
//! Generated from the comments in `Cargo.toml`, so this list cannot drift from the manifest:
//!
#![doc = document_features::document_features!()]
//!
//! A server without OAuth needs only `default-features = false, features = ["server"]`: it
//! compiles without an HTTP client, JWT or TLS crates.
//!
//! # Layers
//!
//! The modules import one way: down this table, each row from its own modules and the rows it
//! lists. The bottom rows know nothing of the top ones: the store no record, the resource
//! server (`auth`) no authorization server, the authorization-server core (`oauth`) no preset.
//! Where a lower layer needs something of a higher one, it defines a trait the higher one
//! implements (tools reach a grant's upstream tokens through `auth`'s `EmbeddedIssuer`, which
//! `oauth` implements). The crate root re-exports the public API from above every row.
//!
//! - **model**: the wire objects the server and the client share ([`model`]).
//! - **config**: the environment and start-up settings, and their errors ([`config`]).
//! - **metrics**: the Prometheus counters (feature `metrics`); no HTTP.
//! - **store**: namespaced values with expiry and atomic takes ([`store`]); no record type.
//! - **auth**: the resource server: bearer tokens, verification, scopes, challenges, discovery
//!   documents, [`auth::Auth`].
//! - **oauth**: the authorization-server core (registration, authorization, consent, callback,
//!   tokens, keys), with the settings of its identity backends that presets fill in.
//! - **providers**: the presets ([`providers`]), configuring `auth` and `oauth` from code or
//!   mcp-use's environment variables.
//! - **protocol**: MCP without HTTP: JSON-RPC, dispatch, tools, resources, prompts, sessions,
//!   tasks, and the tool model (`tool`, `spec`, `extract`, `result`, `schema`).
//! - **transport**: Streamable HTTP on actix-web.
//! - **server**: the builder composing both, running and mounting, the macros' support.
//! - **guides**: documentation only ([`guides`]); no code.
//! - **client**: beside the server, on the model (`client`, feature `client`); the `mcp` CLI
//!   is a crate on top of it.
//!
//! | layer | modules | may import |
//! | --- | --- | --- |
//! | model | `model` | |
//! | config | `config` | model |
//! | metrics | `metrics` | |
//! | store | `store` | model, config |
//! | auth | `auth` | model, config, metrics, store |
//! | oauth | `oauth` | model, config, store, auth |
//! | providers | `providers` | config, store, auth, oauth |
//! | protocol | `server::protocol`, `tool`, `spec`, `extract`, `result`, `schema` | model, config, metrics, store, auth |
//! | transport | `server::transport` | model, config, metrics, store, auth, protocol |
//! | server | `server`, `__private` | model, config, metrics, store, auth, oauth, providers, protocol, transport |
//! | client | `client` | model |
//! | guides | `guides` | |
//!
//! Besides the rows, no file imports a file that imports it back, directly or through
//! others: no circle spans two folders, and none joins sibling files. A `pub use` that only
//! re-exports counts for the rows (a layer does not even re-export from above) but not for
//! circles (a folder's public face is not a dependency of its code). `scripts/test` checks
//! both with `tools/layers`.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
mod extract;
#[cfg(any(doc, doctest))]
pub mod guides;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(any(feature = "server", feature = "client"))]
pub mod model;
#[cfg(feature = "authorization-server")]
mod oauth;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    //! What the fuzz targets in `fuzz/` reach that is not public API. Not covered by semver.
    pub use crate::oauth::fuzzing::*;
}
#[cfg(feature = "oauth")]
#[cfg_attr(docsrs, doc(cfg(feature = "oauth")))]
pub mod providers;
#[cfg(feature = "server")]
mod result;
#[cfg(feature = "server")]
mod schema;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
mod spec;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
mod tool;

#[cfg(feature = "server")]
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(feature = "server")]
pub use config::ServeError;
#[cfg(feature = "server")]
pub use extract::{ArgError, Context, Input, LogLevel, State, ToolCall, ToolParam};
#[cfg(feature = "server")]
pub use mcp_runtime_macros::{mcp_prompt, mcp_resource, mcp_server, mcp_tool};
#[cfg(feature = "server")]
pub use result::{CallToolResult, Content, IntoToolResult, Json, ResourceContents, ToolError};
#[cfg(feature = "server")]
pub use server::protocol::{
    ask::{Ask, ClientRequestError, Root},
    completion::{Completion, CompletionRequest},
    elicitation::Elicitation,
    items::{PromptDef, ResourceDef},
    prompts::{Prompt, PromptMessage, PromptRequest, Role},
    resources::{Resource, ResourceBody, ResourceRequest},
    sampling::{Sampling, SamplingResult},
};
#[cfg(feature = "server")]
pub use server::{BuildError, McpServer, McpServerBuilder, RpcError, RunningServer};
#[cfg(feature = "server")]
pub use tool::{
    Handler, TaskSupport, Tool, ToolAnnotations, ToolBuilder, ToolDef, ToolMeta, ToolSpec,
    validate_tool_name,
};

/// Re-exported so that custom routes need no direct dependency.
#[cfg(feature = "server")]
pub use actix_web;

/// The HTTP client the presets, the JWKS cache, userinfo and the client use, re-exported so
/// that a `reqwest::Client` handed to them (e.g. [`auth::jwks::JwksCache::new`]) is built from
/// the same version: `mcp_runtime::reqwest::Client::builder()`, or [`auth::http_client`].
#[cfg(any(feature = "oauth", feature = "client"))]
pub use reqwest;

/// The JSON Schema derive tool inputs and [`Json`] outputs use, re-exported so that a server
/// needs no version of its own to match:
///
/// ```
/// use mcp_runtime::prelude::*;
/// use mcp_runtime::schemars::JsonSchema;
///
/// #[derive(serde::Deserialize, JsonSchema)]
/// #[schemars(crate = "mcp_runtime::schemars")]
/// struct Query {
///     /// What to look for.
///     text: String,
/// }
///
/// #[mcp_tool(description = "Searches the notes")]
/// async fn search(Input(query): Input<Query>) -> String {
///     format!("nothing matches {}", query.text)
/// }
/// # fn main() {}
/// ```
#[cfg(feature = "server")]
pub use schemars;

/// The Prometheus client the metrics use, re-exported so that a registry you merge them into
/// ([`McpServer::metrics_collector`]) is of the same version. Feature `metrics`.
#[cfg(feature = "metrics")]
pub use prometheus_client;

/// Lists tools for [`McpServerBuilder::tools`]: `tools![add, search]`.
///
/// Each name must be a function annotated with [`macro@mcp_tool`].
#[cfg(feature = "server")]
#[macro_export]
macro_rules! tools {
    ($($tool:path),* $(,)?) => {
        $crate::__private::tools([$(<$tool as $crate::__private::ToolDef>::tool()),*])
    };
}

/// Everything a server file needs: `use mcp_runtime::prelude::*;`.
#[cfg(feature = "server")]
pub mod prelude {
    pub use crate::{
        CallToolResult, Content, Context, Input, IntoToolResult, Json, LogLevel, McpServer,
        PromptDef, PromptMessage, ResourceDef, ServeError, State, Tool, ToolAnnotations, ToolDef,
        ToolError, auth::Auth, mcp_prompt, mcp_resource, mcp_server, mcp_tool, tools,
    };
}

/// The crate's README (its page on crates.io), compiled as a doctest so it stays true.
#[cfg(all(doctest, feature = "dev-server"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
