//! What the expansion needs to know about the function.

use proc_macro2::Span;
use syn::{FnArg, ItemFn, LitStr, Pat, ReturnType, Type};

use super::parse::ToolAttr;
use crate::diag::Diag;
use crate::paths::Paths;

pub(crate) struct Param {
    /// The input field's name, when the parameter is a plain identifier.
    pub(crate) name: Option<String>,
    pub(crate) ty: Type,
    /// `#[header("Name")]`: the argument is also sent as the `Mcp-Param-Name` HTTP header
    /// (2026-07-28), which the server checks against the body.
    pub(crate) header: Option<LitStr>,
    /// The type is `Option<Auth>`: the caller when there is one.
    pub(crate) optional_auth: bool,
}

pub(crate) struct ToolModel {
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) annotations: [Option<bool>; 4],
    pub(crate) scopes: Vec<String>,
    pub(crate) any_scopes: Vec<String>,
    /// 0: never, 1: optional, 2: required.
    pub(crate) task: u8,
    pub(crate) task_start_explicit: bool,
    /// `public`, where it was written.
    pub(crate) public: Option<Span>,
    pub(crate) params: Vec<Param>,
    pub(crate) ret: Type,
    pub(crate) paths: Paths,
}

pub(crate) fn model(func: &mut ItemFn, attr: ToolAttr, diag: &mut Diag) -> ToolModel {
    let ident = func.sig.ident.to_string();
    let ident = ident.strip_prefix("r#").unwrap_or(&ident).to_owned();
    let (name, name_span) = match &attr.name {
        Some(n) => (n.value(), n.span()),
        None => (ident, func.sig.ident.span()),
    };
    let description = match &attr.description {
        Some(d) => Some(d.value()),
        None => doc_comment(func),
    };
    let mut params = Vec::new();
    for input in &mut func.sig.inputs {
        match input {
            FnArg::Receiver(r) => diag.error(
                r.self_token.span,
                "a tool cannot take `self`: make it a free `async fn` and share data with \
                 `State<T>` instead",
            ),
            FnArg::Typed(pt) => {
                let name = match &*pt.pat {
                    Pat::Ident(pi) => {
                        let n = pi.ident.to_string();
                        Some(n.strip_prefix("r#").unwrap_or(&n).to_owned())
                    }
                    _ => None,
                };
                let mut header = None;
                pt.attrs.retain(|a| {
                    if !a.path().is_ident("header") {
                        return true;
                    }
                    match a.parse_args::<LitStr>() {
                        Ok(h) => header = Some(h),
                        Err(_) => diag.error(
                            match &a.meta {
                                syn::Meta::List(l) => syn::spanned::Spanned::span(&l.tokens),
                                other => syn::spanned::Spanned::span(other.path()),
                            },
                            "`#[header(...)]` names the HTTP header: `#[header(\"Region\")]` \
                             sends the argument as `Mcp-Param-Region`",
                        ),
                    }
                    false
                });
                let optional_auth = option_of_auth(&pt.ty);
                if attr.public.is_some() && is_auth(&pt.ty) {
                    diag.error(
                        syn::spanned::Spanned::span(&*pt.ty),
                        "a public tool may be called without a token, so it cannot take `Auth`: \
                         take `Option<Auth>` (`None` when the caller sent no token)",
                    );
                }
                params.push(Param {
                    name,
                    ty: (*pt.ty).clone(),
                    header,
                    optional_auth,
                });
            }
        }
    }
    let ret = match &func.sig.output {
        ReturnType::Default => syn::parse_quote_spanned!(func.sig.paren_token.span.join()=> ()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    ToolModel {
        name,
        name_span,
        title: attr.title.map(|t| t.value()),
        description,
        annotations: [
            attr.read_only,
            attr.destructive,
            attr.idempotent,
            attr.open_world,
        ],
        scopes: attr.scopes.iter().map(LitStr::value).collect(),
        any_scopes: attr.any_scopes.iter().map(LitStr::value).collect(),
        task: attr.task,
        task_start_explicit: attr.task_start_explicit.is_some(),
        public: attr.public,
        params,
        ret,
        paths: Paths::new(attr.krate.as_ref()),
    }
}

/// Whether `ty` names `Auth` (`Auth`, `mcp_runtime::auth::Auth`): by its last segment, as the
/// macro sees types before they are resolved (an alias is caught by the compile-time check
/// the expansion adds).
fn is_auth(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Auth" && s.arguments.is_none()))
}

/// Whether `ty` is `Option<Auth>`.
fn option_of_auth(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if last.ident != "Option" {
        return false;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    matches!(args.args.first(), Some(syn::GenericArgument::Type(inner)) if args.args.len() == 1 && is_auth(inner))
}

/// The doc comment, with the one leading space of `/// text` removed.
fn doc_comment(func: &ItemFn) -> Option<String> {
    let mut lines = Vec::new();
    for attr in &func.attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let v = s.value();
            lines.push(v.strip_prefix(' ').unwrap_or(&v).trim_end().to_owned());
        }
    }
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}
