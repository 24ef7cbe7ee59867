//! `#[mcp_server]`: parse the attribute, check, expand into a builder over `McpServer`.

mod check;
mod expand;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::Diag;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(s) => s,
        Err(_) => {
            let err = syn::Error::new_spanned(
                &item,
                "#[mcp_server] goes on a struct: `#[mcp_server(name = \"...\", tools = [...])] struct MyServer;`",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    let mut diag = Diag::default();
    let model = parse::parse(attr, &mut diag);
    check::check(&item, &model, &mut diag);
    if diag.has_errors() {
        // One mistake, one error: the inherent functions exist (and never run), so that
        // `main` calling `Server::run()` adds no second error.
        let stubs = expand::stubs(&item, &model);
        let errors = diag.into_tokens();
        return quote!(#item #stubs #errors);
    }
    let expanded = expand::expand(&item, &model);
    quote!(#item #expanded)
}
