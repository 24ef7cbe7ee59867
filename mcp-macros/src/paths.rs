//! Every path the expansions name, all through the runtime's `__private` module.

use proc_macro2::TokenStream;
use quote::quote;

/// The runtime crate's path: `::mcp_runtime`, or what `crate = "..."` says.
#[derive(Clone)]
pub(crate) struct Paths {
    root: TokenStream,
}

impl Paths {
    pub(crate) fn new(krate: Option<&syn::Path>) -> Self {
        let root = match krate {
            Some(p) => quote!(#p),
            None => quote!(::mcp_runtime),
        };
        Paths { root }
    }

    /// `<root>::__private`
    pub(crate) fn private(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root::__private)
    }
}
