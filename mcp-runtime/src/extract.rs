//! Tool parameters: input fields and extractors.
//!
//! Every parameter of a tool implements [`ToolParam`]. Plain types that implement
//! `serde::Deserialize` and `schemars::JsonSchema` are input fields named after the parameter;
//! [`Context`], [`State<T>`] and [`Input<T>`] are extractors and stay out of the schema.
//! Which one applies is decided by the trait implementation, never by a type's spelling.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::server::call::ContextInner;
pub use crate::server::call::LogLevel;
use crate::server::session::Session;

/// Why a tool's arguments could not be turned into its parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgError {
    /// A required argument is absent.
    #[error("missing required argument `{name}`")]
    Missing {
        /// The argument's name.
        name: String,
    },
    /// An argument has the wrong type or value.
    #[error("invalid argument `{name}`: {reason}")]
    Invalid {
        /// The argument's name.
        name: String,
        /// What serde said.
        reason: String,
    },
    /// The arguments as a whole do not match the tool's input type.
    #[error("invalid arguments: {reason}")]
    InvalidInput {
        /// What serde said.
        reason: String,
    },
    /// An extractor could not produce its value.
    #[error("{0}")]
    Extractor(String),
}

/// The shared application state registered with `McpServerBuilder::state`.
#[derive(Default, Clone)]
pub(crate) struct StateMap(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl StateMap {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.0.insert(TypeId::of::<T>(), value);
    }
    pub(crate) fn contains(&self, id: TypeId) -> bool {
        self.0.contains_key(&id)
    }
    fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.0
            .get(&TypeId::of::<T>())
            .cloned()
            .and_then(|a| a.downcast::<T>().ok())
    }
}

/// Everything a tool call brings: the arguments, the request context and the app state.
pub struct ToolCall {
    pub(crate) arguments: Value,
    pub(crate) context: Context,
    pub(crate) state: Arc<StateMap>,
}

impl fmt::Debug for ToolCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolCall")
            .field("tool", &self.context.inner.tool)
            .finish_non_exhaustive()
    }
}

impl ToolCall {
    /// The caller, if the request had one: a parameter `Option<Auth>` (what a public tool
    /// takes, since it may be called without a token) is extracted with this.
    #[doc(hidden)]
    pub fn __caller(&self) -> Option<crate::auth::Auth> {
        self.context.inner.auth.clone()
    }

    /// The raw `arguments` object of the call.
    pub fn arguments(&self) -> &Value {
        &self.arguments
    }
    /// The request context.
    pub fn context(&self) -> &Context {
        &self.context
    }
}

/// A parameter of a tool: an input field or an extractor.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of an MCP tool",
    label = "this type is neither a tool input nor an extractor",
    note = "a tool input must implement `serde::Deserialize` and `schemars::JsonSchema` \
            (`#[derive(Deserialize, JsonSchema)]`); extractors are `Context`, `State<T>` and \
            `Input<T>`"
)]
pub trait ToolParam: Sized {
    /// The parameter needs an authenticated caller (`Auth`): known at compile time, so that
    /// `#[mcp_server]` refuses such a tool on a server without OAuth.
    const NEEDS_AUTH: bool = false;
    /// Adds this parameter to the tool's input schema (or records what it needs).
    /// `name` is the parameter's name, `None` when it has none (a pattern or a hand-built tool).
    fn describe(name: Option<&'static str>, spec: &mut crate::spec::ToolSpec);
    /// Produces the parameter's value for one call.
    fn extract(name: Option<&'static str>, call: &ToolCall) -> Result<Self, ArgError>;
}

impl<T: DeserializeOwned + JsonSchema> ToolParam for T {
    fn describe(name: Option<&'static str>, spec: &mut crate::spec::ToolSpec) {
        match name {
            Some(name) => {
                // Optional exactly when an absent argument is acceptable (`Option<T>`, ...).
                let required = T::deserialize(&Value::Null).is_err();
                spec.add_property::<T>(name, required);
            }
            None => spec.error(format!(
                "a parameter of type `{}` needs a plain name: it becomes the input field's name \
                 (or wrap the whole input in `Input<T>`)",
                std::any::type_name::<T>()
            )),
        }
    }

    fn extract(name: Option<&'static str>, call: &ToolCall) -> Result<Self, ArgError> {
        let name = name.unwrap_or("?");
        match call.arguments.get(name) {
            Some(value) => T::deserialize(value).map_err(|e| ArgError::Invalid {
                name: name.to_owned(),
                reason: e.to_string(),
            }),
            None => T::deserialize(&Value::Null).map_err(|_| ArgError::Missing {
                name: name.to_owned(),
            }),
        }
    }
}

/// The whole `arguments` object as one struct, whose fields (and their doc comments) become
/// the input schema's properties.
///
/// ```
/// use mcp_runtime::prelude::*;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Search {
///     /// Words to look for.
///     query: String,
///     /// At most this many hits.
///     limit: Option<u32>,
/// }
///
/// /// Search the documents.
/// #[mcp_tool]
/// async fn search(Input(s): Input<Search>) -> String {
///     format!("{} (limit {:?})", s.query, s.limit)
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Input<T>(pub T);

impl<T: DeserializeOwned + JsonSchema> ToolParam for Input<T> {
    fn describe(_: Option<&'static str>, spec: &mut crate::spec::ToolSpec) {
        spec.set_input_object::<T>();
    }
    fn extract(_: Option<&'static str>, call: &ToolCall) -> Result<Self, ArgError> {
        T::deserialize(&call.arguments)
            .map(Input)
            .map_err(|e| ArgError::InvalidInput {
                reason: e.to_string(),
            })
    }
}

impl<T> Deref for Input<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Shared application state registered with `McpServerBuilder::state`.
///
/// A tool that takes `State<T>` on a server without state of type `T` is refused when the
/// server is built, with a message that names the tool and the type.
#[derive(Debug)]
pub struct State<T>(pub Arc<T>);

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Send + Sync + 'static> ToolParam for State<T> {
    fn describe(_: Option<&'static str>, spec: &mut crate::spec::ToolSpec) {
        spec.require_state::<T>();
    }
    fn extract(_: Option<&'static str>, call: &ToolCall) -> Result<Self, ArgError> {
        call.state.get::<T>().map(State).ok_or_else(|| {
            ArgError::Extractor(format!("no state of type `{}`", std::any::type_name::<T>()))
        })
    }
}

/// The request context of a tool call: progress, logging and cancellation.
///
/// Take it as a parameter (`ctx: Context`); it is not part of the input schema.
#[derive(Clone)]
pub struct Context {
    pub(crate) inner: Arc<ContextInner>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("tool", &self.inner.tool)
            .field("session", &self.session_id())
            .finish_non_exhaustive()
    }
}

impl Context {
    /// The authenticated caller, on a server with OAuth.
    pub fn auth(&self) -> Option<&crate::auth::Auth> {
        self.inner.auth.as_ref()
    }

    /// The name of the tool being called.
    pub fn tool_name(&self) -> &'static str {
        self.inner.tool
    }

    /// The MCP session this call belongs to, if the server keeps sessions.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.session.as_deref().map(Session::id)
    }

    /// Whether the client asked for progress notifications (sent a `progressToken`).
    pub fn wants_progress(&self) -> bool {
        self.inner.progress_token.is_some()
    }

    /// Reports progress (`notifications/progress`). A no-op when the client sent no
    /// `progressToken` or cannot receive notifications on this request.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.inner.progress_token else {
            return;
        };
        let mut params = serde_json::Map::new();
        params.insert("progressToken".into(), token.clone());
        params.insert("progress".into(), progress.into());
        if let Some(t) = total {
            params.insert("total".into(), t.into());
        }
        if let Some(m) = message {
            params.insert("message".into(), m.into());
        }
        self.notify("notifications/progress", Value::Object(params));
    }

    /// Sends a log message (`notifications/message`) to the client, if `level` is at or above
    /// the level the client chose with `logging/setLevel`.
    pub fn log(&self, level: LogLevel, data: impl Into<Value>) {
        // 2026-07-28: only at or above the level the request asked for, none without one.
        if let Some(meta) = &self.inner.meta
            && meta.log_level.is_none_or(|floor| level < floor)
        {
            return;
        }
        if let Some(session) = &self.inner.session
            && level < session.log_level()
        {
            return;
        }
        let mut params = serde_json::Map::new();
        params.insert("level".into(), level.as_str().into());
        params.insert("logger".into(), self.inner.tool.into());
        params.insert("data".into(), data.into());
        self.notify("notifications/message", Value::Object(params));
    }

    /// Logs at `debug`.
    pub fn debug(&self, data: impl Into<Value>) {
        self.log(LogLevel::Debug, data);
    }
    /// Logs at `info`.
    pub fn info(&self, data: impl Into<Value>) {
        self.log(LogLevel::Info, data);
    }
    /// Logs at `warning`.
    pub fn warning(&self, data: impl Into<Value>) {
        self.log(LogLevel::Warning, data);
    }
    /// Logs at `error`.
    pub fn error(&self, data: impl Into<Value>) {
        self.log(LogLevel::Error, data);
    }

    /// Whether the client cancelled this request (`notifications/cancelled`).
    pub fn is_cancelled(&self) -> bool {
        self.inner.call.is_cancelled()
    }

    /// Resolves when the client cancels this request. The tool's future is dropped on
    /// cancellation anyway; this is for work that must stop cleanly.
    pub async fn cancelled(&self) {
        self.inner.call.token().cancelled_owned().await;
    }

    /// Closes this call's SSE stream early, telling the client to reconnect after `retry`
    /// (SEP-1699, from 2025-11-25): the call goes on, and the client resumes the stream
    /// (`GET` with `Last-Event-ID`) to receive what it missed and the response. Frees a
    /// connection during long work. False (and nothing happens) when the stream cannot be
    /// resumed: no session, a client older than 2025-11-25, or a response that is not a stream.
    pub fn close_sse_stream(&self, retry: std::time::Duration) -> bool {
        self.inner.call.request_close(retry)
    }

    fn notify(&self, method: &str, params: Value) {
        if self.inner.call.notifies() {
            let mut msg = serde_json::Map::new();
            msg.insert("jsonrpc".into(), "2.0".into());
            msg.insert("method".into(), method.into());
            msg.insert("params".into(), params);
            // Dropped when the client stopped listening; nothing to do then.
            self.inner.call.send(Value::Object(msg));
        }
    }
}

impl ToolParam for crate::auth::Auth {
    const NEEDS_AUTH: bool = true;
    fn describe(_: Option<&'static str>, spec: &mut crate::spec::ToolSpec) {
        spec.require_auth();
    }
    fn extract(_: Option<&'static str>, call: &ToolCall) -> Result<Self, ArgError> {
        call.context.inner.auth.clone().ok_or_else(|| {
            ArgError::Extractor(
                "this tool needs an authenticated caller, but the request has none".into(),
            )
        })
    }
}

impl ToolParam for Context {
    fn describe(_: Option<&'static str>, _: &mut crate::spec::ToolSpec) {}
    fn extract(_: Option<&'static str>, call: &ToolCall) -> Result<Self, ArgError> {
        Ok(call.context.clone())
    }
}
