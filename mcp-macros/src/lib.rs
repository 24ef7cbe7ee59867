//! Procedural macros of `mcp-runtime`: `#[mcp_tool]` and `#[mcp_server]`.
//!
//! Use them through `mcp_runtime` (`use mcp_runtime::prelude::*`), which re-exports them;
//! generated code reaches the runtime only through `mcp_runtime::__private`.
//!
//! Set `MCP_MACROS_DEBUG=1` while building to print every expansion to standard error.

mod args;
mod diag;
mod paths;
mod server;
mod tool;

use proc_macro::TokenStream;

/// Turns an `async fn` into an MCP tool. See the `mcp_runtime` documentation.
#[proc_macro_attribute]
pub fn mcp_tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    debug_print("mcp_tool", tool::expand(attr.into(), item.into())).into()
}

/// Makes a type a complete MCP server. See the `mcp_runtime` documentation.
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
