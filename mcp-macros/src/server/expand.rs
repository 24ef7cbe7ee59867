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
    let kinds = [
        Kind::new(
            "tool",
            &m.tools,
            quote!(#p::ToolDef),
            quote!(NAME),
            "MCP tool name",
            "rename one with #[mcp_tool(name = \"...\")]",
        ),
        Kind::new(
            "resource",
            &m.resources,
            quote!(#p::ResourceDef),
            quote!(URI),
            "URI",
            "change one's `uri`",
        ),
        Kind::new(
            "prompt",
            &m.prompts,
            quote!(#p::PromptDef),
            quote!(NAME),
            "prompt name",
            "rename one with #[mcp_prompt(name = \"...\")]",
        ),
    ];
    let mut checks = Vec::new();
    for k in &kinds {
        checks.extend(k.duplicates(&p));
        if let Some(declared) = &m.scopes {
            checks.extend(k.undeclared(&p, declared));
        }
        if m.oauth.is_none() {
            checks.extend(k.needs_auth());
        }
    }
    let declared = m.scopes.as_ref().map(|s| quote!(.scopes([#(#s),*])));
    let tools = m
        .tools
        .iter()
        .map(|t| quote_spanned!(t.span()=> <#t as #p::ToolDef>::tool()));
    let resources = m
        .resources
        .iter()
        .map(|r| quote_spanned!(r.span()=> <#r as #p::ResourceDef>::resource()));
    let prompts = m
        .prompts
        .iter()
        .map(|r| quote_spanned!(r.span()=> <#r as #p::PromptDef>::prompt()));

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
                    .resources([#(#resources),*])
                    .prompts([#(#prompts),*])
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

        #(#checks)*
    }
}

/// On error: `builder`, `build`, `serve` and `run` with the real signatures, never run.
pub(crate) fn stubs(item: &syn::ItemStruct, m: &ServerModel) -> TokenStream {
    let p = Paths::new(m.krate.as_ref()).private();
    let ident = &item.ident;
    let msg = "this #[mcp_server] did not compile";
    quote! {
        #[allow(dead_code, unreachable_code)]
        impl #ident {
            pub fn builder() -> #p::McpServerBuilder { ::core::panic!(#msg) }
            pub fn build() -> ::core::result::Result<#p::McpServer, #p::BuildError> {
                ::core::panic!(#msg)
            }
            pub async fn serve() -> ::core::result::Result<(), #p::ServeError> {
                ::core::panic!(#msg)
            }
            pub fn run() -> ::core::result::Result<(), #p::ServeError> { ::core::panic!(#msg) }
        }
    }
}

/// One kind of item listed in the attribute, and the compile-time checks over its list.
struct Kind<'a> {
    word: &'static str,
    list: &'a [syn::Path],
    def: TokenStream,
    key: TokenStream,
    key_name: &'static str,
    fix: &'static str,
}

impl<'a> Kind<'a> {
    fn new(
        word: &'static str,
        list: &'a [syn::Path],
        def: TokenStream,
        key: TokenStream,
        key_name: &'static str,
        fix: &'static str,
    ) -> Self {
        Kind {
            word,
            list,
            def,
            key,
            key_name,
            fix,
        }
    }

    /// Two items with one name (or URI): a const evaluation that fails at the second.
    fn duplicates(&self, p: &TokenStream) -> Vec<TokenStream> {
        let (def, key) = (&self.def, &self.key);
        let mut out = Vec::new();
        for (j, b) in self.list.iter().enumerate() {
            for a in &self.list[..j] {
                let msg = format!(
                    "{}s `{}` and `{}` have the same {}; {}",
                    self.word,
                    a.to_token_stream(),
                    b.to_token_stream(),
                    self.key_name,
                    self.fix
                );
                out.push(quote_spanned! {b.span()=>
                    const _: () = if #p::str_eq(<#a as #def>::#key, <#b as #def>::#key) {
                        ::core::panic!(#msg)
                    };
                });
            }
        }
        out
    }

    /// Every scope must be declared: a const evaluation at the item.
    fn undeclared(&self, p: &TokenStream, declared: &[syn::LitStr]) -> Vec<TokenStream> {
        let (def, key, word) = (&self.def, &self.key, self.word);
        self.list
            .iter()
            .map(|t| {
                // Only tools have `any_scopes`.
                let any = if word == "tool" {
                    quote!(<#t as #def>::ANY_SCOPES)
                } else {
                    quote!(&[])
                };
                quote_spanned! {t.span()=>
                    const _: () = if let ::core::option::Option::Some(m) = #p::undeclared_scope(
                        #word,
                        <#t as #def>::#key,
                        <#t as #def>::SCOPES,
                        #any,
                        &[#(#declared),*],
                    ) {
                        ::core::panic!("{}", m.as_str())
                    };
                }
            })
            .collect()
    }

    /// Without OAuth, an item that needs a caller cannot be used: a const evaluation at it.
    fn needs_auth(&self) -> Vec<TokenStream> {
        let def = &self.def;
        self.list
            .iter()
            .map(|t| {
                let msg = format!(
                    "{} `{}` needs an authenticated caller (it takes `Auth` or requires scopes), \
                     but this server has no OAuth: add `oauth = \"dev\"` (or another preset, or a \
                     fn returning `OAuth`) to #[mcp_server]",
                    self.word,
                    t.to_token_stream()
                );
                quote_spanned! {t.span()=>
                    const _: () = if <#t as #def>::NEEDS_AUTH {
                        ::core::panic!(#msg)
                    };
                }
            })
            .collect()
    }
}
