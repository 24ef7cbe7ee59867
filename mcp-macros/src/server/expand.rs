//! The server's inherent functions (`builder`, `build`, `serve`, `run`) and the compile-time
//! duplicate-name checks.

use proc_macro2::TokenStream;
use quote::{ToTokens as _, quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::parse::{OAuthSpec, ServerModel};
use crate::paths::Paths;

pub(crate) fn expand(item: &syn::ItemStruct, m: &ServerModel) -> TokenStream {
    let p = Paths::new(m.krate.as_ref()).private();
    let ident = &item.ident;
    let name = m
        .name
        .as_ref()
        .map_or_else(|| quote!(::core::env!("CARGO_PKG_NAME")), |n| quote!(#n));
    let version = m
        .version
        .as_ref()
        .map_or_else(|| quote!(::core::env!("CARGO_PKG_VERSION")), |v| quote!(#v));
    let title = m.title.as_ref().map(|t| quote!(.title(#t)));
    let instructions = m.instructions.as_ref().map(|i| quote!(.instructions(#i)));
    let stateless = m.stateless.map(|s| quote!(.stateless(#s)));
    // Through a runtime macro, so that a runtime built without the `oauth` (or `dev-server`)
    // feature answers with one precise error at the attribute's value.
    let oauth = m.oauth.as_ref().map(|o| match o {
        OAuthSpec::Preset(preset) => {
            quote_spanned!(preset.span()=> let __builder = #p::oauth_preset!(__builder, #preset);)
        }
        OAuthSpec::Fn(f) => {
            quote_spanned!(f.span()=> let __builder = #p::oauth_from!(__builder, #f());)
        }
    });
    // Without OAuth, a tool that needs a caller cannot run: a const evaluation at the tool.
    let auth_checks: Vec<_> = if m.oauth.is_some() {
        Vec::new()
    } else {
        m.tools
            .iter()
            .map(|t| {
                let msg = format!(
                    "tool `{}` needs an authenticated caller (it takes `Auth` or requires scopes), \
                     but this server has no OAuth: add `oauth = \"dev\"` (or another preset, or a \
                     fn returning `OAuth`) to #[mcp_server]",
                    t.to_token_stream()
                );
                quote_spanned! {t.span()=>
                    const _: () = if <#t as #p::ToolDef>::NEEDS_AUTH {
                        ::core::panic!(#msg)
                    };
                }
            })
            .collect()
    };
    let declared = m.scopes.as_ref().map(|s| quote!(.scopes([#(#s),*])));
    // Every tool's scopes must be declared: a const evaluation spanned at the tool.
    let scope_checks: Vec<_> = match &m.scopes {
        None => Vec::new(),
        Some(declared) => m
            .tools
            .iter()
            .map(|t| {
                quote_spanned! {t.span()=>
                    const _: () = if let ::core::option::Option::Some(m) = #p::undeclared_scope(
                        <#t as #p::ToolDef>::NAME,
                        <#t as #p::ToolDef>::SCOPES,
                        <#t as #p::ToolDef>::ANY_SCOPES,
                        &[#(#declared),*],
                    ) {
                        ::core::panic!("{}", m.as_str())
                    };
                }
            })
            .collect(),
    };
    let tools = m
        .tools
        .iter()
        .map(|t| quote_spanned!(t.span()=> <#t as #p::ToolDef>::tool()));

    // Two tools with one name: a const evaluation that fails, spanned at the second one.
    let mut dup_checks = Vec::new();
    for (j, b) in m.tools.iter().enumerate() {
        for a in &m.tools[..j] {
            let msg = format!(
                "tools `{}` and `{}` have the same MCP tool name; rename one with #[mcp_tool(name = \"...\")]",
                a.to_token_stream(),
                b.to_token_stream()
            );
            dup_checks.push(quote_spanned! {b.span()=>
                const _: () = if #p::str_eq(<#a as #p::ToolDef>::NAME, <#b as #p::ToolDef>::NAME) {
                    ::core::panic!(#msg)
                };
            });
        }
    }

    quote! {
        impl #ident {
            /// A builder preset from the `#[mcp_server]` attribute; add state, routes or
            /// settings, then `.build()`.
            #[allow(dead_code)]
            pub fn builder() -> #p::McpServerBuilder {
                let __builder = #p::McpServer::builder()
                    .name(#name)
                    .version(#version)
                    #title
                    #instructions
                    #stateless;
                #oauth
                __builder
                    #declared
                    .tools(#p::tools([#(#tools),*]))
            }

            /// Builds the server, reading `MCP_URL`, `MCP_ALLOWED_ORIGINS` and `MCP_ALLOWED_HOSTS`.
            #[allow(dead_code)]
            pub fn build() -> ::core::result::Result<#p::McpServer, #p::BuildError> {
                Self::builder().with_env().build()
            }

            /// Serves on `HOST`:`PORT` (default `127.0.0.1:3000`) in the current runtime.
            #[allow(dead_code)]
            pub async fn serve() -> ::core::result::Result<(), #p::ServeError> {
                Self::build()?.serve().await
            }

            /// Loads `.env`, installs logging and serves until Ctrl-C: all `main` needs.
            #[allow(dead_code)]
            pub fn run() -> ::core::result::Result<(), #p::ServeError> {
                #p::load_dotenv();
                // Before building: presets log their mode and warnings while they are set up.
                #p::init_tracing();
                Self::build()?.run()
            }
        }

        #(#dup_checks)*
        #(#scope_checks)*
        #(#auth_checks)*
    }
}
