//! What `#[mcp_tool]` can check alone: async-ness, generics, names, parameter shapes.

use syn::spanned::Spanned as _;
use syn::{ItemFn, Type};

use super::model::ToolModel;
use crate::diag::Diag;

pub(crate) fn check(func: &ItemFn, model: &ToolModel, diag: &mut Diag) {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        diag.error(
            sig.fn_token.span,
            "#[mcp_tool] requires an `async fn`: write `async fn`",
        );
    }
    if let Some(c) = &sig.constness {
        diag.error(c.span, "a tool cannot be a `const fn`");
    }
    if let Some(u) = &sig.unsafety {
        diag.error(u.span, "a tool cannot be an `unsafe fn`");
    }
    if !sig.generics.params.is_empty() {
        diag.error(
            sig.generics.params.span(),
            "a tool cannot be generic: its input schema must be known when the server is built",
        );
    }
    if let Some(v) = &sig.variadic {
        diag.error(v.span(), "a tool cannot be variadic");
    }
    if let Err(msg) = check_tool_name(&model.name) {
        diag.error(model.name_span, msg);
    }
    for p in &model.params {
        if let Type::Reference(r) = &p.ty {
            diag.error(
                r.and_token.span,
                "a tool parameter cannot borrow: arguments are deserialized into owned values; \
                 take an owned type (`String` for `&str`, `Vec<T>` for `&[T]`)",
            );
        }
        if contains_impl_trait(&p.ty) {
            diag.error(
                p.ty.span(),
                "`impl Trait` parameters are not supported in tools: name a concrete type",
            );
        }
    }
    if contains_impl_trait(&model.ret) {
        diag.error(
            model.ret.span(),
            "a tool cannot return `impl Trait`: name a concrete type",
        );
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    match ty {
        Type::ImplTrait(_) => true,
        Type::Reference(r) => contains_impl_trait(&r.elem),
        Type::Paren(p) => contains_impl_trait(&p.elem),
        Type::Group(g) => contains_impl_trait(&g.elem),
        Type::Tuple(t) => t.elems.iter().any(contains_impl_trait),
        Type::Path(p) => p.path.segments.iter().any(|s| match &s.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|g| match g {
                syn::GenericArgument::Type(t) => contains_impl_trait(t),
                _ => false,
            }),
            _ => false,
        }),
        _ => false,
    }
}

/// The MCP tool-name rules (2025-11-25): 1 to 128 of `A-Z a-z 0-9 _ - .`.
fn check_tool_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a tool name must not be empty".into());
    }
    if name.len() > 128 {
        return Err(format!(
            "a tool name must be at most 128 characters; this one has {}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "invalid tool name `{name}`: `{c}` is not allowed; use ASCII letters, digits, `_`, `-` and `.`"
        ));
    }
    Ok(())
}
