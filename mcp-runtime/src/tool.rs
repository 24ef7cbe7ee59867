//! Tools: their static metadata, their schemas and the type-erased call adapter.
//!
//! `#[mcp_tool]` generates a [`ToolDef`] implementation beside the user's function; the same
//! [`Tool`] can be built by hand with [`Tool::builder`] and [`ToolBuilder::handler`].

use std::any::TypeId;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use crate::extract::{ArgError, ToolCall, ToolParam};
use crate::result::{CallToolResult, IntoToolResult};
pub use crate::spec::ToolSpec;
use crate::spec::is_header_token;

/// Hints about a tool's behaviour (`ToolAnnotations` in the MCP specification).
///
/// `None` means "not stated"; clients then assume the specification's defaults. Build it with
/// [`new`](Self::new) and the `with_*` methods (the specification adds hints, so it is
/// `#[non_exhaustive]`):
///
/// ```
/// use mcp_runtime::ToolAnnotations;
/// let hints = ToolAnnotations::new().with_read_only(true).with_open_world(false);
/// assert_eq!(hints.read_only, Some(true));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ToolAnnotations {
    /// The tool does not modify its environment.
    pub read_only: Option<bool>,
    /// The tool may perform destructive updates.
    pub destructive: Option<bool>,
    /// Calling the tool repeatedly with the same arguments has no additional effect.
    pub idempotent: Option<bool>,
    /// The tool interacts with an open world of external entities.
    pub open_world: Option<bool>,
}

impl ToolAnnotations {
    /// No hints stated.
    pub const fn new() -> Self {
        ToolAnnotations {
            read_only: None,
            destructive: None,
            idempotent: None,
            open_world: None,
        }
    }
    /// States `readOnlyHint`.
    pub const fn with_read_only(mut self, v: bool) -> Self {
        self.read_only = Some(v);
        self
    }
    /// States `destructiveHint`.
    pub const fn with_destructive(mut self, v: bool) -> Self {
        self.destructive = Some(v);
        self
    }
    /// States `idempotentHint`.
    pub const fn with_idempotent(mut self, v: bool) -> Self {
        self.idempotent = Some(v);
        self
    }
    /// States `openWorldHint`.
    pub const fn with_open_world(mut self, v: bool) -> Self {
        self.open_world = Some(v);
        self
    }
    /// All four hints at once (what `#[mcp_tool]` generates).
    #[doc(hidden)]
    pub const fn __hints(
        read_only: Option<bool>,
        destructive: Option<bool>,
        idempotent: Option<bool>,
        open_world: Option<bool>,
    ) -> Self {
        ToolAnnotations {
            read_only,
            destructive,
            idempotent,
            open_world,
        }
    }

    fn to_json(self, title: Option<&str>) -> Option<Value> {
        let mut map = Map::new();
        if let Some(t) = title {
            map.insert("title".into(), t.into());
        }
        let hints = [
            ("readOnlyHint", self.read_only),
            ("destructiveHint", self.destructive),
            ("idempotentHint", self.idempotent),
            ("openWorldHint", self.open_world),
        ];
        for (key, value) in hints {
            if let Some(v) = value {
                map.insert(key.into(), v.into());
            }
        }
        (!map.is_empty()).then_some(Value::Object(map))
    }
}

/// The static description of a tool, as written in its attribute and doc comment.
#[derive(Debug, Clone)]
pub struct ToolMeta {
    /// The name clients call the tool by.
    pub name: &'static str,
    /// A human-readable title.
    pub title: Option<&'static str>,
    /// What the tool does, for the model.
    pub description: Option<&'static str>,
    /// Behaviour hints.
    pub annotations: ToolAnnotations,
    /// Scopes the caller must all have (`#[mcp_tool(scopes = ...)]`).
    pub scopes: &'static [&'static str],
    /// Scopes of which the caller must have at least one (`any_scopes = [...]`).
    pub any_scopes: &'static [&'static str],
    /// Where the tool was defined (`file:line`), for error messages.
    pub location: &'static str,
    /// Whether calls may run as tasks (`#[mcp_tool(task = "optional")]`).
    pub task: TaskSupport,
    /// Whether the task begins only when the tool calls
    /// [`Context::start_task`](crate::Context::start_task) (`task_start = "explicit"`), so
    /// that it can ask the client for input first; otherwise it begins with the call.
    pub task_start_explicit: bool,
    /// Callable without a token on a server with OAuth (`#[mcp_tool(public)]`).
    pub public: bool,
}

/// Whether a tool's calls may run as tasks (2026-07-28's tasks extension,
/// `io.modelcontextprotocol/tasks`): the server answers the call at once with a task the
/// client polls (`tasks/get`), answers the tool's questions through (`tasks/update`) and may
/// cancel (`tasks/cancel`).
///
/// Only requests that declare the extension get a task; clients of the older revisions
/// (which have no such extension here) get the result on the call's own response, as for any
/// tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskSupport {
    /// The call is answered on its own response (the default).
    #[default]
    Never,
    /// The call runs as a task when the request declares the extension, and on its own
    /// response otherwise.
    Optional,
    /// The call runs as a task; a 2026-07-28 request without the extension is refused with
    /// -32021 naming it.
    Required,
}

/// The type-erased call adapter of a tool.
pub(crate) type CallFn =
    Arc<dyn Fn(ToolCall) -> BoxFuture<'static, Result<CallToolResult, ArgError>> + Send + Sync>;

/// A tool, ready to be registered with a server.
///
/// Made by `#[mcp_tool]` (through [`ToolDef::tool`] or `tools![...]`) or by hand with
/// [`Tool::builder`].
#[derive(Clone)]
pub struct Tool {
    pub(crate) meta: ToolMeta,
    pub(crate) describe: Arc<dyn Fn(&mut ToolSpec) + Send + Sync>,
    pub(crate) call: CallFn,
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl Tool {
    /// Starts a hand-built tool named `name`.
    ///
    /// ```
    /// use mcp_runtime::prelude::*;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Echo { text: String }
    ///
    /// let tool = Tool::builder("echo")
    ///     .description("Echo the text back.")
    ///     .handler(|Input(args): Input<Echo>| async move { args.text });
    /// assert_eq!(tool.name(), "echo");
    /// ```
    pub fn builder(name: &'static str) -> ToolBuilder {
        ToolBuilder {
            meta: ToolMeta {
                name,
                title: None,
                description: None,
                annotations: ToolAnnotations::default(),
                scopes: &[],
                any_scopes: &[],
                location: "<built by hand>",
                task: TaskSupport::Never,
                task_start_explicit: false,
                public: false,
            },
        }
    }

    /// Assembles a tool from its parts; this is what `#[mcp_tool]` expands to.
    #[doc(hidden)]
    pub fn __from_parts<F, D>(meta: ToolMeta, describe: D, call: F) -> Self
    where
        D: Fn(&mut ToolSpec) + Send + Sync + 'static,
        F: Fn(ToolCall) -> BoxFuture<'static, Result<CallToolResult, ArgError>>
            + Send
            + Sync
            + 'static,
    {
        Tool {
            meta,
            describe: Arc::new(describe),
            call: Arc::new(call),
        }
    }

    /// The name clients call this tool by.
    pub fn name(&self) -> &'static str {
        self.meta.name
    }

    /// The tool's static metadata.
    pub fn meta(&self) -> &ToolMeta {
        &self.meta
    }
}

/// Builds a [`Tool`] by hand; see [`Tool::builder`].
#[derive(Debug, Clone)]
pub struct ToolBuilder {
    meta: ToolMeta,
}

impl ToolBuilder {
    /// Sets the description shown to the model.
    pub fn description(mut self, description: &'static str) -> Self {
        self.meta.description = Some(description);
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: &'static str) -> Self {
        self.meta.title = Some(title);
        self
    }

    /// Requires all of these scopes (checked before the arguments are parsed).
    pub fn scopes(mut self, scopes: &'static [&'static str]) -> Self {
        self.meta.scopes = scopes;
        self
    }

    /// Requires at least one of these scopes.
    pub fn any_scopes(mut self, scopes: &'static [&'static str]) -> Self {
        self.meta.any_scopes = scopes;
        self
    }

    /// Callable without a token on a server with OAuth (what `#[mcp_tool(public)]` sets); a
    /// public tool cannot require scopes or take [`Auth`](crate::auth::Auth) (it may take
    /// `Option<Auth>`).
    pub fn public(mut self) -> Self {
        self.meta.public = true;
        self
    }

    /// Lets calls run as tasks (see [`TaskSupport`]).
    pub fn task(mut self, support: TaskSupport) -> Self {
        self.meta.task = support;
        self
    }

    /// Begins the task only when the tool calls
    /// [`Context::start_task`](crate::Context::start_task): until then the call may ask the
    /// client for input through input-required results.
    pub fn task_starts_explicitly(mut self) -> Self {
        self.meta.task_start_explicit = true;
        self
    }

    /// Sets the behaviour hints.
    pub fn annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.meta.annotations = annotations;
        self
    }

    /// Finishes the tool with an async handler whose parameters are all extractors
    /// ([`Input<T>`](crate::Input), [`Context`](crate::Context), [`State<T>`](crate::State)).
    pub fn handler<H, Args>(self, handler: H) -> Tool
    where
        H: Handler<Args>,
    {
        let handler = Arc::new(handler);
        Tool {
            meta: self.meta,
            describe: Arc::new(|spec| H::describe(spec)),
            call: Arc::new(move |call| handler.clone().call(call)),
        }
    }
}

/// The arguments an input schema designates as headers (`x-mcp-header`, SEP-2243), checked
/// as clients check them (a client must refuse a tool with a bad designation): a header
/// name, on a string, number or boolean property, each header once (case-insensitively).
pub(crate) fn designated_headers(input_schema: &Value) -> Result<Vec<(String, String)>, String> {
    let Some(props) = input_schema.get("properties").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (arg, prop) in props {
        let Some(h) = prop.get("x-mcp-header") else {
            continue;
        };
        let Some(h) = h.as_str().filter(|h| is_header_token(h)) else {
            return Err(format!(
                "property `{arg}`: `x-mcp-header` {h} is not a header name (RFC 9110 token)"
            ));
        };
        let typed = prop
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| matches!(t, "string" | "integer" | "number" | "boolean"));
        if !typed {
            return Err(format!(
                "property `{arg}`: only a string, number or boolean can be sent as a header \
                 (`x-mcp-header`)"
            ));
        }
        if out.iter().any(|(_, o)| o.eq_ignore_ascii_case(h)) {
            return Err(format!(
                "property `{arg}`: the header `Mcp-Param-{h}` is designated twice"
            ));
        }
        out.push((arg.clone(), h.to_owned()));
    }
    Ok(out)
}

/// An async function usable as a hand-built tool: every parameter is an extractor.
#[diagnostic::on_unimplemented(
    message = "this function cannot be an MCP tool handler",
    note = "a handler is an `async` closure or fn whose parameters implement `ToolParam` \
            (Input<T>, Context, State<T>) and whose output implements `IntoToolResult`"
)]
pub trait Handler<Args>: Send + Sync + Sized + 'static {
    /// Adds the parameters' schemas to the tool's input schema.
    fn describe(spec: &mut ToolSpec);
    /// Extracts the parameters and runs the handler.
    fn call(
        self: Arc<Self>,
        call: ToolCall,
    ) -> BoxFuture<'static, Result<CallToolResult, ArgError>>;
}

macro_rules! impl_handler {
    ($($arg:ident),*) => {
        impl<Func, Fut, Out, $($arg,)*> Handler<($($arg,)*)> for Func
        where
            Func: Fn($($arg),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Out> + Send + 'static,
            Out: IntoToolResult,
            $($arg: ToolParam + Send + 'static,)*
        {
            fn describe(spec: &mut ToolSpec) {
                $(<$arg as ToolParam>::describe(None, spec);)*
                spec.set_output_schema(Out::output_schema);
            }

            #[allow(non_snake_case, unused_variables)]
            fn call(
                self: Arc<Self>,
                call: ToolCall,
            ) -> BoxFuture<'static, Result<CallToolResult, ArgError>> {
                Box::pin(async move {
                    $(let $arg = <$arg as ToolParam>::extract(None, &call)?;)*
                    drop(call);
                    Ok(IntoToolResult::into_tool_result((self)($($arg),*).await))
                })
            }
        }
    };
}

impl_handler!();
impl_handler!(A1);
impl_handler!(A1, A2);
impl_handler!(A1, A2, A3);
impl_handler!(A1, A2, A3, A4);
impl_handler!(A1, A2, A3, A4, A5);
impl_handler!(A1, A2, A3, A4, A5, A6);

/// Implemented by the companion item that `#[mcp_tool]` generates beside a function.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an MCP tool",
    label = "not annotated with #[mcp_tool]",
    note = "annotate the async fn with `#[mcp_tool]` to register it as a tool"
)]
pub trait ToolDef {
    /// The tool's name, known at compile time (used for duplicate checks).
    const NAME: &'static str;
    /// Scopes the caller must all have, known at compile time.
    const SCOPES: &'static [&'static str] = &[];
    /// Scopes of which one suffices, known at compile time.
    const ANY_SCOPES: &'static [&'static str] = &[];
    /// The tool needs an authenticated caller: it requires scopes or takes `Auth`.
    const NEEDS_AUTH: bool = false;
    /// Builds the runtime description of the tool.
    fn tool() -> Tool;
}

/// Checks a tool name against the MCP rules (2025-11-25): 1 to 128 characters from
/// `A-Z a-z 0-9 _ - .`.
pub fn validate_tool_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a tool name must not be empty".into());
    }
    if name.len() > 128 {
        return Err(format!(
            "a tool name must be at most 128 characters, `{name}` has {}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "tool name `{name}` contains `{c}`; only ASCII letters, digits, `_`, `-` and `.` are allowed"
        ));
    }
    Ok(())
}

/// The build-time view of a tool: metadata plus its computed JSON description.
pub(crate) struct BuiltTool {
    pub(crate) meta: ToolMeta,
    pub(crate) call: CallFn,
    pub(crate) listing: Value,
    pub(crate) states: Vec<(TypeId, &'static str)>,
    /// It takes `Auth` or requires scopes.
    pub(crate) needs_auth: bool,
}

impl Tool {
    pub(crate) fn build(self) -> Result<BuiltTool, Vec<String>> {
        let mut spec = ToolSpec::new();
        (self.describe)(&mut spec);
        if let Err(e) = validate_tool_name(self.meta.name) {
            spec.errors.push(e);
        }
        if !spec.errors.is_empty() {
            return Err(std::mem::take(&mut spec.errors));
        }
        for scope in self.meta.scopes.iter().chain(self.meta.any_scopes) {
            if !crate::auth::is_scope_token(scope) {
                spec.errors.push(format!("`{scope}` is not a valid scope (RFC 6749 §3.3: printable ASCII, no spaces, `\"` or `\\`)"));
            }
        }
        if !spec.errors.is_empty() {
            return Err(std::mem::take(&mut spec.errors));
        }
        let states = std::mem::take(&mut spec.states);
        let needs_auth =
            spec.needs_auth || !self.meta.scopes.is_empty() || !self.meta.any_scopes.is_empty();
        let (input, output) = spec.finish();
        let mut listing = Map::new();
        listing.insert("name".into(), self.meta.name.into());
        if let Some(t) = self.meta.title {
            listing.insert("title".into(), t.into());
        }
        if let Some(d) = self.meta.description {
            listing.insert("description".into(), d.into());
        }
        listing.insert("inputSchema".into(), input);
        if let Some(o) = output {
            listing.insert("outputSchema".into(), o);
        }
        if let Some(a) = self.meta.annotations.to_json(self.meta.title) {
            listing.insert("annotations".into(), a);
        }
        Ok(BuiltTool {
            meta: self.meta,
            call: self.call,
            listing: Value::Object(listing),
            states,
            needs_auth,
        })
    }
}
