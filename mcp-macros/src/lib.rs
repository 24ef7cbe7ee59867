//! Procedural macros of `mcp-runtime`: `#[mcp_tool]`, `#[mcp_resource]`, `#[mcp_prompt]` and
//! `#[mcp_server]`.
//!
//! Use them through `mcp_runtime` (`use mcp_runtime::prelude::*`), which re-exports them;
//! generated code reaches the runtime only through `mcp_runtime::__private`.
//!
//! Set `MCP_MACROS_DEBUG=1` while building to print every expansion to standard error.

mod args;
mod diag;
mod item;
mod paths;
mod prompt;
mod resource;
mod server;
mod tool;

use proc_macro::TokenStream;

/// Turns an `async fn` into an MCP tool.
///
/// ```ignore
/// /// Deletes a document. Admins only.            <- the description
/// #[mcp_tool(name = "delete-doc", scopes = "admin", destructive)]
/// async fn delete_doc(auth: Auth, id: String) -> Result<String, ToolError> { ... }
/// ```
///
/// The function stays callable as written; a companion item of the same name (in the type
/// namespace) carries the tool for `tools![...]` and `#[mcp_server(tools = [...])]`.
///
/// | key | value | meaning |
/// | --- | --- | --- |
/// | `name` | string | the MCP tool name (default: the fn's name); letters, digits, `_`, `-`, `.`, 1 to 128 characters |
/// | `title` | string | a human-readable title (`annotations.title`) |
/// | `description` | string | overrides the doc comment as the description |
/// | `read_only` | flag or `= bool` | `readOnlyHint` |
/// | `destructive` | flag or `= bool` | `destructiveHint` |
/// | `idempotent` | flag or `= bool` | `idempotentHint` |
/// | `open_world` | flag or `= bool` | `openWorldHint` |
/// | `scopes` | `"admin"` or `["a", "b"]` | the caller needs every one of these OAuth scopes (403 with a step-up challenge otherwise) |
/// | `any_scopes` | `"a"` or `["a", "b"]` | the caller needs at least one of these |
/// | `task` | `"optional"` or `"required"` | calls run as tasks (2026-07-28's tasks extension) when the request declares it; `"required"` refuses 2026-07-28 requests that do not |
/// | `task_start` | `"explicit"` | the task begins when the body calls `ctx.start_task().await` (questions before it are input-required rounds); by default it begins with the call |
/// | `crate` | path | where `mcp_runtime` is, when it is renamed in `Cargo.toml` |
///
/// Parameters are the tool's input fields (any `Deserialize + JsonSchema` type; their doc
/// comments describe them in the schema; `#[header("Region")]` also sends one as the
/// `Mcp-Param-Region` HTTP header under 2026-07-28) or extractors: `Auth` (the caller), `State<T>`,
/// `Context` (progress, logging, cancellation), `Input<T>` (the whole input as one struct).
/// The return type is anything `IntoToolResult`: text, numbers, `Json<T>` (structured content
/// with an output schema), `Content`, `CallToolResult`, or a `Result` of these.
///
/// Misuse is a compile error at the smallest span: an unknown key (with "did you mean"), a
/// scope that is not an RFC 6749 scope token, a fn that is not `async`, a method, a borrowed
/// parameter, a parameter or return type without the traits it needs.
#[proc_macro_attribute]
pub fn mcp_tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    debug_print("mcp_tool", tool::expand(attr.into(), item.into())).into()
}

/// Turns an `async fn` into an MCP resource (a fixed URI) or resource template.
///
/// ```ignore
/// /// A user's profile.                                  <- the description
/// #[mcp_resource(uri = "users://{id}/profile", mime_type = "application/json", scopes = "users:read")]
/// async fn profile(#[complete(user_ids)] id: u64, auth: Auth) -> Result<Json<Profile>, ToolError> { ... }
/// ```
///
/// | key | value | meaning |
/// | --- | --- | --- |
/// | `uri` | string | the URI, or a template whose `{variables}` are the fn's parameters (required) |
/// | `name` | string | the resource's name (default: the fn's name) |
/// | `title` | string | a display title |
/// | `description` | string | overrides the doc comment |
/// | `mime_type` | string | the media type of its contents |
/// | `scopes` | `"a"` or `["a", "b"]` | the caller needs every one (403 with a step-up challenge otherwise) |
/// | `crate` | path | where `mcp_runtime` is, when it is renamed |
///
/// Parameters are the template's variables, by name (`String` or any `FromStr` type), and
/// `Auth` or `ResourceRequest`; `#[complete(fn)]` on a variable names its completer. The fn
/// returns text, bytes (`Vec<u8>`), `Json<T>`, or a `Result` of these. A variable without a
/// parameter, a parameter that is not a variable (with "did you mean") and a malformed
/// template are compile errors.
#[proc_macro_attribute]
pub fn mcp_resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    debug_print("mcp_resource", resource::expand(attr.into(), item.into())).into()
}

/// Turns an `async fn` into an MCP prompt.
///
/// ```ignore
/// /// Review a change.                                   <- the description
/// #[mcp_prompt(name = "review", scopes = "reviews:write")]
/// async fn review(
///     /// The change to review                           <- the argument's description
///     diff: String,
///     /// What to focus on
///     #[complete(focus_areas)] focus: Option<String>,
/// ) -> Vec<PromptMessage> { ... }
/// ```
///
/// Keys: `name` (default: the fn's name), `title`, `description`, `scopes`, `crate`.
/// Parameters are its arguments: `String` (required) or `Option<String>` (optional), or
/// `Auth` and `PromptRequest`. It returns `Vec<PromptMessage>`, one `PromptMessage`, text
/// (one user message), or a `Result` of these.
#[proc_macro_attribute]
pub fn mcp_prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    debug_print("mcp_prompt", prompt::expand(attr.into(), item.into())).into()
}

/// Makes a type a complete MCP server: `Type::builder()`, `Type::build()`, `Type::serve()`
/// and `Type::run()` (loads `.env`, installs logging, serves until Ctrl-C).
///
/// ```ignore
/// #[mcp_server(name = "docs", version = "1.0.0", oauth = "workos",
///              scopes = ["read", "admin"], tools = [add, delete_doc])]
/// struct Docs;
///
/// fn main() -> Result<(), ServeError> { Docs::run() }
/// ```
///
/// | key | value | meaning |
/// | --- | --- | --- |
/// | `tools` | `[fn, ...]` | the tools, each a fn annotated with `#[mcp_tool]` |
/// | `resources` | `[fn, ...]` | the resources, each a fn annotated with `#[mcp_resource]` |
/// | `prompts` | `[fn, ...]` | the prompts, each a fn annotated with `#[mcp_prompt]` |
/// | `name` | string | `serverInfo.name` (default: the crate's name) |
/// | `version` | string | `serverInfo.version` (default: the crate's version) |
/// | `title` | string | `serverInfo.title` |
/// | `instructions` | string | instructions for the model, returned by `initialize` |
/// | `stateless` | flag or `= bool` | no sessions: every request stands alone |
/// | `oauth` | `"preset"` or a fn path | protects the server: a preset configured from the environment (`"dev"`, `"custom"`, `"auth0"`, `"workos"`, `"supabase"`, `"keycloak"`, `"clerk"`, `"better_auth"`), or a fn returning `OAuth` or `Result<OAuth, E>` |
/// | `scopes` | `["a", ...]` | the server's scope set: every tool's scopes must be in it |
/// | `crate` | path | where `mcp_runtime` is, when it is renamed in `Cargo.toml` |
///
/// Checked at compile time, each at the offending tool: two tools with one name, a tool scope
/// the server does not declare, a tool that needs a caller (`Auth` or scopes) on a server
/// without `oauth`, an unknown preset (with "did you mean"), and `oauth` on a runtime built
/// without its cargo feature.
///
/// At run time the server reads `HOST` and `PORT` (default `127.0.0.1:3000`), `MCP_URL` (its
/// public URL), `MCP_ALLOWED_HOSTS`, `MCP_ALLOWED_ORIGINS` and the preset's `MCP_USE_OAUTH_*`
/// variables.
#[proc_macro_attribute]
pub fn mcp_server(attr: TokenStream, item: TokenStream) -> TokenStream {
    debug_print("mcp_server", server::expand(attr.into(), item.into())).into()
}

fn debug_print(which: &str, tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    if std::env::var_os("MCP_MACROS_DEBUG").is_some_and(|v| v != "0") {
        eprintln!("#[{which}] expands to:\n{tokens}\n");
    }
    tokens
}
