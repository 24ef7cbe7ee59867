//! `#[mcp_tool]`: parse the attribute, model the function, check, expand.

mod check;
mod expand;
mod model;
mod parse;

pub(crate) use parse::scope_list;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::Diag;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new_spanned(
                &item,
                "#[mcp_tool] goes on an `async fn`: `#[mcp_tool] async fn name(...) -> ... { ... }`",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    let mut diag = Diag::default();
    let attr = parse::parse(attr, &mut diag);
    let model = model::model(&mut func, attr, &mut diag);
    check::check(&func, &model, &mut diag);
    if diag.has_errors() {
        // One mistake, one error: emit the function and a stub companion beside the errors
        // (none for a method: a struct cannot stand inside an `impl`).
        let has_receiver = func
            .sig
            .inputs
            .iter()
            .any(|a| matches!(a, syn::FnArg::Receiver(_)));
        let stub = if has_receiver {
            TokenStream::new()
        } else {
            expand::stub(&func, &model)
        };
        let errors = diag.into_tokens();
        return quote!(#func #stub #errors);
    }
    let companion = expand::companion(&func, &model);
    quote!(#func #companion)
}
