//! The companion item: `struct <fn name> {}` implementing `ToolDef`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned as _;

use super::model::ToolModel;

fn opt_str(s: &Option<String>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

fn opt_bool(b: Option<bool>) -> TokenStream {
    match b {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    }
}

fn header(func: &ItemFn, model: &ToolModel) -> (TokenStream, TokenStream) {
    let vis = &func.vis;
    let ident = &func.sig.ident;
    let name = &model.name;
    let doc = format!("The MCP tool `{name}`: register it with `tools![{ident}]`.");
    let decl = quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #ident {}
    };
    (decl, quote!(#name))
}

pub(crate) fn companion(func: &ItemFn, model: &ToolModel) -> TokenStream {
    let p = model.paths.private();
    let ident = &func.sig.ident;
    let (decl, name) = header(func, model);
    let title = opt_str(&model.title);
    let description = opt_str(&model.description);
    let [ro, de, id, ow] = model.annotations.map(opt_bool);
    let scopes = &model.scopes;
    let any_scopes = &model.any_scopes;
    let location =
        quote_spanned!(ident.span()=> ::core::concat!(::core::file!(), ":", ::core::line!()));
    let task = match model.task {
        1 => quote!(#p::TaskSupport::Optional),
        2 => quote!(#p::TaskSupport::Required),
        _ => quote!(#p::TaskSupport::Never),
    };
    let task_start_explicit = model.task_start_explicit;
    let public = model.public.is_some();

    let mut describe = Vec::new();
    let mut needs_auth = Vec::new();
    let mut extract = Vec::new();
    let mut args = Vec::new();
    for (i, param) in model.params.iter().enumerate() {
        let ty = &param.ty;
        let pname = opt_str(&param.name);
        let var = format_ident!("__mcp_arg{}", i);
        // Spanned at the parameter's type: a type that is neither input nor extractor is
        // reported there, with the trait's on_unimplemented message.
        if param.optional_auth {
            // The caller when there is one: no input, and no token required.
            extract.push(quote_spanned!(ty.span()=>
                let #var: #ty = __call.__caller();
            ));
            args.push(var);
            continue;
        }
        needs_auth.push(quote_spanned!(ty.span()=> || <#ty as #p::ToolParam>::NEEDS_AUTH));
        describe.push(quote_spanned!(ty.span()=>
            <#ty as #p::ToolParam>::describe(#pname, __spec);
        ));
        if let (Some(h), Some(n)) = (&param.header, &param.name) {
            describe.push(quote_spanned!(h.span()=> __spec.header(#n, #h);));
        }
        extract.push(quote_spanned!(ty.span()=>
            let #var = <#ty as #p::ToolParam>::extract(#pname, &__call)?;
        ));
        args.push(var);
    }
    let ret = &model.ret;
    let output = quote_spanned!(ret.span()=> <#ret as #p::IntoToolResult>::output_schema);
    let convert = quote_spanned!(ret.span()=> #p::into_tool_result(__out));

    // Behind a type alias the parse cannot see `Auth`; the compiler can.
    let public_check = model.public.map(|span| {
        quote_spanned!(span=>
            const _: () = ::core::assert!(
                !<#ident as #p::ToolDef>::NEEDS_AUTH,
                "a public tool may be called without a token, so it cannot take `Auth`: take `Option<Auth>`"
            );
        )
    });
    quote! {
        #decl

        #public_check

        impl #p::ToolDef for #ident {
            const NAME: &'static str = #name;
            const SCOPES: &'static [&'static str] = &[#(#scopes),*];
            const ANY_SCOPES: &'static [&'static str] = &[#(#any_scopes),*];
            const NEEDS_AUTH: bool = !<Self as #p::ToolDef>::SCOPES.is_empty()
                || !<Self as #p::ToolDef>::ANY_SCOPES.is_empty()
                #(#needs_auth)*;

            fn tool() -> #p::Tool {
                #p::Tool::__from_parts(
                    #p::ToolMeta {
                        name: #name,
                        title: #title,
                        description: #description,
                        annotations: #p::ToolAnnotations::__hints(#ro, #de, #id, #ow),
                        scopes: <Self as #p::ToolDef>::SCOPES,
                        any_scopes: <Self as #p::ToolDef>::ANY_SCOPES,
                        location: #location,
                        task: #task,
                        task_start_explicit: #task_start_explicit,
                        public: #public,
                    },
                    |__spec: &mut #p::ToolSpec| {
                        #(#describe)*
                        __spec.set_output_schema(#output);
                    },
                    |__call: #p::ToolCall| -> #p::BoxFuture<
                        'static,
                        ::core::result::Result<#p::CallToolResult, #p::ArgError>,
                    > {
                        ::std::boxed::Box::pin(async move {
                            #(#extract)*
                            ::core::mem::drop(__call);
                            let __out = #ident(#(#args),*).await;
                            ::core::result::Result::Ok(#convert)
                        })
                    },
                )
            }
        }
    }
}

/// On error: the companion exists (so `tools![f]` adds no second error) but does nothing.
pub(crate) fn stub(func: &ItemFn, model: &ToolModel) -> TokenStream {
    let p = model.paths.private();
    let ident = &func.sig.ident;
    let (decl, name) = header(func, model);
    quote! {
        #decl
        impl #p::ToolDef for #ident {
            const NAME: &'static str = #name;
            fn tool() -> #p::Tool {
                ::core::panic!("this tool did not compile")
            }
        }
    }
}
