//! `#[mcp_prompt(...)]`: a prompt made by an async fn whose parameters are its arguments
//! (`String` required, `Option<String>` optional, described by their doc comments).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{ItemFn, LitStr, Type};

use crate::args;
use crate::diag::Diag;
use crate::item::{self, Param};
use crate::paths::Paths;

const KEYS: &[&str] = &["name", "title", "description", "scopes", "public", "crate"];

#[derive(Default)]
struct Attr {
    name: Option<LitStr>,
    title: Option<LitStr>,
    description: Option<LitStr>,
    scopes: Vec<LitStr>,
    /// `public`, where it was written.
    public: Option<proc_macro2::Span>,
    krate: Option<syn::Path>,
}

fn parse(tokens: TokenStream, diag: &mut Diag) -> Attr {
    let mut attr = Attr::default();
    match args::parse(tokens) {
        Ok(parsed) => args::each(parsed, KEYS, diag, |key, arg, diag| match key {
            "name" => attr.name = arg.string(diag),
            "title" => attr.title = arg.string(diag),
            "description" => attr.description = arg.string(diag),
            "scopes" => attr.scopes = crate::tool::scope_list(arg, diag),
            "public" => {
                let span = arg.span();
                if arg.flag(diag) == Some(true) {
                    attr.public = Some(span);
                }
            }
            "crate" => attr.krate = arg.path(diag),
            _ => {}
        }),
        Err(e) => diag.push(e),
    }
    item::public_scopes(attr.public, &attr.scopes, "prompt", diag);
    attr
}

/// `String` or `Option<String>`, as written.
fn is_string_arg(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if last.ident == "String" {
        return last.arguments.is_none();
    }
    if last.ident == "Option"
        && let syn::PathArguments::AngleBracketed(a) = &last.arguments
        && let [syn::GenericArgument::Type(inner)] = a.args.iter().collect::<Vec<_>>()[..]
    {
        return matches!(inner, Type::Path(i) if i.path.segments.last().is_some_and(|s| s.ident == "String"));
    }
    false
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new_spanned(
                &item,
                "#[mcp_prompt] goes on an `async fn`: `#[mcp_prompt] async fn review(diff: String) -> Vec<PromptMessage> { ... }`",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    let mut diag = Diag::default();
    let attr = parse(attr, &mut diag);
    let params = item::params(&mut func, "a prompt", &mut diag);
    item::check_fn(&func, "mcp_prompt", &params, &mut diag);
    check(&attr, &params, &mut diag);
    let p = Paths::new(attr.krate.as_ref()).private();
    let ident = &func.sig.ident;
    let name = attr.name.as_ref().map_or_else(
        || ident.to_string().trim_start_matches("r#").to_owned(),
        LitStr::value,
    );
    if diag.has_errors() {
        let decl = item::companion_decl(&func, "A prompt that did not compile.");
        let key = item::broken_key(&func);
        let errors = diag.into_tokens();
        return quote! {
            #func
            #decl
            impl #p::PromptDef for #ident {
                const NAME: &'static str = #key;
                fn prompt() -> #p::Prompt { ::core::panic!("this prompt did not compile") }
            }
            #errors
        };
    }
    let doc = format!(
        "The MCP prompt `{name}`: register it with `prompts = [{ident}]` in #[mcp_server] or \
         `.prompt(<{ident} as PromptDef>::prompt())`."
    );
    let decl = item::companion_decl(&func, &doc);
    let description = attr
        .description
        .as_ref()
        .map(LitStr::value)
        .or_else(|| item::doc_comment(&func.attrs))
        .map(|d| quote!(.description(#d)));
    let title = attr.title.as_ref().map(|t| quote!(.title(#t)));
    let scopes = &attr.scopes;
    let mut declare = Vec::new();
    let mut takes = Vec::new();
    let mut args = Vec::new();
    let mut needs_auth = Vec::new();
    for (i, param) in params.iter().enumerate() {
        let ty = &param.ty;
        let var = format_ident!("__mcp_arg{}", i);
        if param.extractor {
            needs_auth.push(quote_spanned!(ty.span()=>
                || <#ty as #p::ItemParam<#p::PromptRequest>>::NEEDS_AUTH));
            takes.push(quote_spanned!(ty.span()=>
                let #var = <#ty as #p::ItemParam<#p::PromptRequest>>::extract(&__req)?;));
        } else {
            let pname = param.name.clone().unwrap_or_default();
            let pdoc = param.doc.clone().unwrap_or_default();
            declare.push(quote_spanned!(ty.span()=>
                .argument(#pname, #pdoc, <#ty as #p::PromptArg>::REQUIRED)));
            if let Some(c) = &param.complete {
                declare.push(quote_spanned!(c.span()=> .complete(#pname, #c)));
            }
            takes.push(quote_spanned!(ty.span()=>
                let #var = <#ty as #p::PromptArg>::take(&__req, #pname);));
        }
        args.push(var);
    }
    let ret = match &func.sig.output {
        syn::ReturnType::Default => quote_spanned!(func.sig.paren_token.span.join()=> ()),
        syn::ReturnType::Type(_, ty) => quote!(#ty),
    };
    let convert = quote_spanned!(ret.span()=> #p::into_prompt(__out));
    let public = attr.public.map(|_| quote!(.public()));
    let public_check = item::public_check(
        attr.public,
        "prompt",
        quote!(<#ident as #p::PromptDef>::NEEDS_AUTH),
    );
    quote! {
        #func
        #decl
        #public_check
        impl #p::PromptDef for #ident {
            const NAME: &'static str = #name;
            const SCOPES: &'static [&'static str] = &[#(#scopes),*];
            const NEEDS_AUTH: bool = !<Self as #p::PromptDef>::SCOPES.is_empty() #(#needs_auth)*;

            fn prompt() -> #p::Prompt {
                #p::Prompt::new(#name)
                    #description
                    #title
                    .scopes(<Self as #p::PromptDef>::SCOPES.iter().copied())
                    #public
                    #(#declare)*
                    .get(|__req: #p::PromptRequest| async move {
                        #(#takes)*
                        let __out = #ident(#(#args),*).await;
                        #convert
                    })
            }
        }
    }
}

fn check(attr: &Attr, params: &[Param], diag: &mut Diag) {
    if let Some(n) = &attr.name
        && n.value().trim().is_empty()
    {
        diag.error(n.span(), "a prompt name must not be empty");
    }
    for param in params.iter().filter(|p| !p.extractor) {
        if !is_string_arg(&param.ty) && !matches!(param.ty, Type::Reference(_)) {
            diag.error(
                param.ty.span(),
                "a prompt argument is a string (clients send prompt arguments as strings): take \
                 `String` (required) or `Option<String>` (optional) and parse it in the body",
            );
        }
    }
}
