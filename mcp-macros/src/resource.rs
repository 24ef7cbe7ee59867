//! `#[mcp_resource(uri = "...", ...)]`: a resource (fixed URI) or resource template
//! (`users://{id}/profile`) read by an async fn whose parameters are the template's variables,
//! checked against the template at compile time.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{ItemFn, LitStr};

use crate::args;
use crate::diag::Diag;
use crate::item::{self, Param};
use crate::paths::Paths;

const KEYS: &[&str] = &[
    "uri",
    "name",
    "title",
    "description",
    "mime_type",
    "scopes",
    "public",
    "crate",
];

#[derive(Default)]
struct Attr {
    uri: Option<LitStr>,
    name: Option<LitStr>,
    title: Option<LitStr>,
    description: Option<LitStr>,
    mime_type: Option<LitStr>,
    scopes: Vec<LitStr>,
    /// `public`, where it was written.
    public: Option<proc_macro2::Span>,
    krate: Option<syn::Path>,
}

fn parse(tokens: TokenStream, diag: &mut Diag) -> Attr {
    let mut attr = Attr::default();
    match args::parse(tokens) {
        Ok(parsed) => args::each(parsed, KEYS, diag, |key, arg, diag| match key {
            "uri" => attr.uri = arg.string(diag),
            "name" => attr.name = arg.string(diag),
            "title" => attr.title = arg.string(diag),
            "description" => attr.description = arg.string(diag),
            "mime_type" => attr.mime_type = arg.string(diag),
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
    item::public_scopes(attr.public, &attr.scopes, "resource", diag);
    attr
}

/// The variables of a URI template, or what is wrong with it (the runtime's rules).
pub(crate) fn variables(uri: &str) -> Result<Vec<String>, String> {
    let mut vars: Vec<String> = Vec::new();
    let mut rest = uri;
    let mut previous_var = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{') {
            let Some(close) = after.find('}') else {
                return Err("an unmatched `{`".into());
            };
            let v = &after[..close];
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "`{{{v}}}` is not a variable name (letters, digits, `_`)"
                ));
            }
            if previous_var {
                return Err("two variables need a literal between them".into());
            }
            if vars.iter().any(|x| x == v) {
                return Err(format!("the variable `{v}` appears twice"));
            }
            vars.push(v.to_owned());
            previous_var = true;
            rest = &after[close + 1..];
        } else {
            let next = rest.find('{').unwrap_or(rest.len());
            if rest[..next].contains('}') {
                return Err("an unmatched `}`".into());
            }
            previous_var = false;
            rest = &rest[next..];
        }
    }
    Ok(vars)
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new_spanned(
                &item,
                "#[mcp_resource] goes on an `async fn`: `#[mcp_resource(uri = \"...\")] async fn name(...) -> String { ... }`",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    let mut diag = Diag::default();
    let attr = parse(attr, &mut diag);
    let params = item::params(&mut func, "a resource", &mut diag);
    item::check_fn(&func, "mcp_resource", &params, &mut diag);
    let vars = check(&attr, &params, &mut diag);
    let paths = Paths::new(attr.krate.as_ref());
    let p = paths.private();
    let ident = &func.sig.ident;
    let Some(uri) = attr.uri.as_ref().filter(|_| !diag.has_errors()) else {
        let decl = item::companion_decl(&func, "A resource that did not compile.");
        let key = item::broken_key(&func);
        let errors = diag.into_tokens();
        return quote! {
            #func
            #decl
            impl #p::ResourceDef for #ident {
                const URI: &'static str = #key;
                fn resource() -> #p::Resource { ::core::panic!("this resource did not compile") }
            }
            #errors
        };
    };
    let doc = format!(
        "The MCP resource `{}`: register it with `resources = [{ident}]` in #[mcp_server] or \
         `.resource(<{ident} as ResourceDef>::resource())`.",
        uri.value()
    );
    let decl = item::companion_decl(&func, &doc);
    let name = attr.name.as_ref().map_or_else(
        || ident.to_string().trim_start_matches("r#").to_owned(),
        LitStr::value,
    );
    let make = if vars.is_empty() {
        quote!(#p::Resource::new(#uri, #name))
    } else {
        quote!(#p::Resource::template(#uri, #name))
    };
    let description = attr
        .description
        .as_ref()
        .map(LitStr::value)
        .or_else(|| item::doc_comment(&func.attrs))
        .map(|d| quote!(.description(#d)));
    let title = attr.title.as_ref().map(|t| quote!(.title(#t)));
    let mime = attr.mime_type.as_ref().map(|m| quote!(.mime_type(#m)));
    let scopes = &attr.scopes;
    let mut takes = Vec::new();
    let mut args = Vec::new();
    let mut needs_auth = Vec::new();
    let mut completers = Vec::new();
    for (i, param) in params.iter().enumerate() {
        let ty = &param.ty;
        let var = format_ident!("__mcp_arg{}", i);
        if param.extractor {
            needs_auth.push(quote_spanned!(ty.span()=>
                || <#ty as #p::ItemParam<#p::ResourceRequest>>::NEEDS_AUTH));
            takes.push(quote_spanned!(ty.span()=>
                let #var = <#ty as #p::ItemParam<#p::ResourceRequest>>::extract(&__req)?;));
        } else {
            let pname = param.name.clone().unwrap_or_default();
            takes.push(quote_spanned!(ty.span()=>
                let #var: #ty = #p::resource_var(&__req, #pname)?;));
            if let Some(c) = &param.complete {
                completers.push(quote_spanned!(c.span()=> .complete(#pname, #c)));
            }
        }
        args.push(var);
    }
    let ret = match &func.sig.output {
        syn::ReturnType::Default => quote_spanned!(func.sig.paren_token.span.join()=> ()),
        syn::ReturnType::Type(_, ty) => quote!(#ty),
    };
    let convert = quote_spanned!(ret.span()=> #p::into_resource(__out));
    let public = attr.public.map(|_| quote!(.public()));
    let public_check = item::public_check(
        attr.public,
        "resource",
        quote!(<#ident as #p::ResourceDef>::NEEDS_AUTH),
    );
    quote! {
        #func
        #decl
        #public_check
        impl #p::ResourceDef for #ident {
            const URI: &'static str = #uri;
            const SCOPES: &'static [&'static str] = &[#(#scopes),*];
            const NEEDS_AUTH: bool = !<Self as #p::ResourceDef>::SCOPES.is_empty() #(#needs_auth)*;

            fn resource() -> #p::Resource {
                #make
                    #description
                    #title
                    #mime
                    .scopes(<Self as #p::ResourceDef>::SCOPES.iter().copied())
                    #public
                    #(#completers)*
                    .read(|__req: #p::ResourceRequest| async move {
                        #(#takes)*
                        let __out = #ident(#(#args),*).await;
                        #convert
                    })
            }
        }
    }
}

/// The template's variables against the named parameters: each variable has a parameter,
/// each named parameter is a variable.
fn check(attr: &Attr, params: &[Param], diag: &mut Diag) -> Vec<String> {
    let Some(uri) = &attr.uri else {
        diag.error(
            Span::call_site(),
            "#[mcp_resource] needs the resource's URI: `#[mcp_resource(uri = \"file:///logs/today\")]` \
             or a template such as `uri = \"users://{id}/profile\"`",
        );
        return Vec::new();
    };
    let vars = match variables(&uri.value()) {
        Ok(v) => v,
        Err(why) => {
            diag.error(
                uri.span(),
                format!("invalid URI template `{}`: {why}", uri.value()),
            );
            return Vec::new();
        }
    };
    if uri.value().trim().is_empty() {
        diag.error(uri.span(), "the resource URI must not be empty");
    }
    // A misspelt parameter names the variable it was meant to be: that variable is not
    // reported again as missing (one mistake, one error).
    let mut meant: Vec<&str> = Vec::new();
    for param in params.iter().filter(|p| !p.extractor) {
        let Some(name) = &param.name else { continue };
        if vars.contains(name) {
            continue;
        }
        let names: Vec<&str> = vars.iter().map(String::as_str).collect();
        meant.extend(crate::diag::did_you_mean(name, &names));
        let msg = if vars.is_empty() {
            format!(
                "`{name}` is not a template variable: `{}` is a fixed URI. A resource fn takes \
                 its template's variables (by name), `Auth` and `ResourceRequest`",
                uri.value()
            )
        } else {
            format!(
                "`{name}` is not a variable of the URI template `{}` (its variables: {}){}",
                uri.value(),
                vars.join(", "),
                item::suggest(name, &vars)
            )
        };
        diag.error(param.span, msg);
    }
    for var in &vars {
        if !meant.contains(&var.as_str())
            && !params
                .iter()
                .any(|p| !p.extractor && p.name.as_ref() == Some(var))
        {
            diag.error(
                uri.span(),
                format!(
                    "the template variable `{var}` has no parameter: add `{var}: String` (or any \
                     `FromStr` type) to the function"
                ),
            );
        }
    }
    for param in params
        .iter()
        .filter(|p| p.extractor && p.complete.is_some())
    {
        diag.error(param.span, "`#[complete]` goes on a template variable");
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::variables;

    #[test]
    fn templates_follow_the_runtimes_rules() {
        assert_eq!(variables("file:///a").expect("fixed"), Vec::<String>::new());
        assert_eq!(
            variables("users://{id}/posts/{post_id}").expect("two"),
            vec!["id".to_owned(), "post_id".to_owned()]
        );
        for bad in [
            "a://{x}{y}",
            "a://{x",
            "a://x}",
            "a://{}",
            "a://{a-b}",
            "a://{x}/{x}",
        ] {
            assert!(variables(bad).is_err(), "{bad}");
        }
    }
}
