//! What `#[mcp_server]` can check from its own tokens.

use quote::ToTokens as _;
use syn::spanned::Spanned as _;

use super::parse::ServerModel;
use crate::diag::Diag;

pub(crate) fn check(item: &syn::ItemStruct, model: &ServerModel, diag: &mut Diag) {
    if !item.generics.params.is_empty() {
        diag.error(
            item.generics.span(),
            "an #[mcp_server] struct cannot be generic",
        );
    }
    for (kind, list) in [
        ("tool", &model.tools),
        ("resource", &model.resources),
        ("prompt", &model.prompts),
    ] {
        let mut seen: Vec<String> = Vec::new();
        for path in list {
            let text = path.to_token_stream().to_string();
            if seen.contains(&text) {
                diag.error(path.span(), format!("{kind} `{text}` is listed twice"));
            }
            seen.push(text);
        }
    }
    if let Some(name) = &model.name
        && name.value().trim().is_empty()
    {
        diag.error(name.span(), "the server name must not be empty");
    }
}
