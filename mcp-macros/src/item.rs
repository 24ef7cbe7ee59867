//! What `#[mcp_resource]` and `#[mcp_prompt]` share: the function's shape, its parameters
//! (named ones and extractors, with their doc comments and `#[complete(fn)]` attributes), the
//! doc comment as a description, and the stub emitted beside errors.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{FnArg, ItemFn, Pat, Type};

use crate::diag::Diag;

/// One parameter of the function.
pub(crate) struct Param {
    /// Its name (`None` for a pattern).
    pub(crate) name: Option<String>,
    pub(crate) span: Span,
    pub(crate) ty: Type,
    /// `Auth`, `Context`, `ResourceRequest` or `PromptRequest`: taken from the request, not
    /// named.
    pub(crate) extractor: bool,
    /// Its doc comment (a prompt argument's description).
    pub(crate) doc: Option<String>,
    /// `#[complete(path)]`: the completer of this argument or variable.
    pub(crate) complete: Option<syn::Path>,
}

/// Types taken from the request rather than named by the item.
const EXTRACTORS: &[&str] = &["Auth", "Context", "ResourceRequest", "PromptRequest"];

fn is_extractor(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            EXTRACTORS.iter().any(|e| s.ident == e)
                // `Option<Auth>`: the caller when there is one (a public item's).
                || (s.ident == "Option"
                    && matches!(&s.arguments, syn::PathArguments::AngleBracketed(a)
                        if matches!(a.args.first(), Some(syn::GenericArgument::Type(Type::Path(inner)))
                            if inner.path.segments.last().is_some_and(|i| i.ident == "Auth"))))
        }),
        _ => false,
    }
}

/// `public` on a resource or prompt: it cannot require scopes (see [`public_scopes`]) nor take
/// `Auth` (checked by the compiler, through the const this returns, spanned at `public`).
pub(crate) fn public_check(
    public: Option<Span>,
    what: &str,
    needs_auth: TokenStream,
) -> TokenStream {
    let Some(span) = public else {
        return TokenStream::new();
    };
    let msg = format!(
        "a public {what} is used without a token, so it cannot take `Auth`: take `Option<Auth>`"
    );
    quote_spanned!(span=> const _: () = ::core::assert!(!(#needs_auth), #msg);)
}

/// A public item requiring scopes is an error at `public`.
pub(crate) fn public_scopes(
    public: Option<Span>,
    scopes: &[syn::LitStr],
    what: &str,
    diag: &mut Diag,
) {
    if let Some(span) = public
        && !scopes.is_empty()
    {
        diag.error(
            span,
            format!(
                "a public {what} is used without a token, so it cannot require scopes: drop \
                 `public`, or the scopes"
            ),
        );
    }
}

/// The parameters, with their `#[doc]` and `#[complete]` attributes taken off the function
/// (where rustc would refuse them).
pub(crate) fn params(func: &mut ItemFn, what: &str, diag: &mut Diag) -> Vec<Param> {
    let mut out = Vec::new();
    for input in &mut func.sig.inputs {
        let pt = match input {
            FnArg::Receiver(r) => {
                diag.error(
                    r.self_token.span,
                    format!("{what} cannot take `self`: make it a free `async fn`"),
                );
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let mut doc = Vec::new();
        let mut complete = None;
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut pt.attrs) {
            if attr.path().is_ident("doc") {
                if let Some(line) = doc_line(&attr) {
                    doc.push(line);
                }
            } else if attr.path().is_ident("complete") {
                match attr.parse_args::<syn::Path>() {
                    Ok(p) => complete = Some(p),
                    Err(_) => diag.error(
                        attr.span(),
                        "`#[complete(...)]` names the completer fn: `#[complete(city_names)]`",
                    ),
                }
            } else {
                kept.push(attr);
            }
        }
        pt.attrs = kept;
        let name = match &*pt.pat {
            Pat::Ident(pi) => {
                let n = pi.ident.to_string();
                Some(n.strip_prefix("r#").unwrap_or(&n).to_owned())
            }
            _ => None,
        };
        let doc = doc.join("\n").trim().to_owned();
        out.push(Param {
            name,
            span: pt.pat.span(),
            extractor: is_extractor(&pt.ty),
            ty: (*pt.ty).clone(),
            doc: (!doc.is_empty()).then_some(doc),
            complete,
        });
    }
    out
}

fn doc_line(attr: &syn::Attribute) -> Option<String> {
    if let syn::Meta::NameValue(nv) = &attr.meta
        && let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &nv.value
    {
        let v = s.value();
        return Some(v.strip_prefix(' ').unwrap_or(&v).trim_end().to_owned());
    }
    None
}

/// The doc comment, with the one leading space of `/// text` removed.
pub(crate) fn doc_comment(attrs: &[syn::Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(doc_line)
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The shape every item function must have: `async`, not `const`, `unsafe`, generic or
/// variadic, and no borrowed or `impl Trait` parameters.
pub(crate) fn check_fn(func: &ItemFn, what: &str, params: &[Param], diag: &mut Diag) {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        diag.error(
            sig.fn_token.span,
            format!("#[{what}] requires an `async fn`: write `async fn`"),
        );
    }
    if let Some(c) = &sig.constness {
        diag.error(c.span, format!("#[{what}] cannot be on a `const fn`"));
    }
    if let Some(u) = &sig.unsafety {
        diag.error(u.span, format!("#[{what}] cannot be on an `unsafe fn`"));
    }
    if !sig.generics.params.is_empty() {
        diag.error(
            sig.generics.params.span(),
            format!("#[{what}] cannot be on a generic fn"),
        );
    }
    if let Some(v) = &sig.variadic {
        diag.error(v.span(), format!("#[{what}] cannot be on a variadic fn"));
    }
    for p in params {
        if let Type::Reference(r) = &p.ty {
            diag.error(
                r.and_token.span,
                "this parameter cannot borrow: it is made from the request; take an owned type \
                 (`String` for `&str`)",
            );
        }
        if matches!(p.ty, Type::ImplTrait(_)) {
            diag.error(
                p.ty.span(),
                "`impl Trait` parameters are not supported: name a type",
            );
        }
        if p.name.is_none() && !p.extractor {
            diag.error(
                p.span,
                "name this parameter: its name is the argument's (or variable's) name",
            );
        }
    }
}

/// The companion struct beside the function: `struct <fn name> {}`.
pub(crate) fn companion_decl(func: &ItemFn, doc: &str) -> TokenStream {
    let vis = &func.vis;
    let ident = &func.sig.ident;
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #ident {}
    }
}

/// A key no other item has, for the stub of a broken item (so that listing two broken
/// items in a server reports no duplicate).
pub(crate) fn broken_key(func: &ItemFn) -> TokenStream {
    quote_spanned!(func.sig.ident.span()=>
        ::core::concat!("\u{0}broken item at ", ::core::file!(), ":", ::core::line!(), ":", ::core::column!()))
}

/// The closest variable or argument name, as a help line.
pub(crate) fn suggest(word: &str, names: &[String]) -> String {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::diag::did_you_mean(word, &names)
        .map(|s| format!("\n\n  help: did you mean `{s}`?"))
        .unwrap_or_default()
}
