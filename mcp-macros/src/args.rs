//! The attribute-argument grammar both macros share:
//! `key`, `key = "str"`, `key = true`, `key = path`, `key = ["str", path, ...]`.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Ident, LitBool, LitStr, Token, bracketed};

use crate::diag::{Diag, unknown_key};

/// One entry of a list value.
pub(crate) enum Item {
    Str(LitStr),
    Path(syn::Path),
}

pub(crate) enum Value {
    Str(LitStr),
    Bool(LitBool),
    Path(syn::Path),
    List(Span, Vec<Item>),
}

pub(crate) struct Arg {
    pub(crate) key: Ident,
    pub(crate) value: Option<Value>,
}

impl Parse for Item {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let look = input.lookahead1();
        if look.peek(LitStr) {
            input.parse().map(Item::Str)
        } else if look.peek(Ident::peek_any) || look.peek(Token![::]) {
            input.parse().map(Item::Path)
        } else {
            Err(look.error())
        }
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = input.call(Ident::parse_any)?;
        if !input.peek(Token![=]) {
            return Ok(Arg { key, value: None });
        }
        input.parse::<Token![=]>()?;
        let look = input.lookahead1();
        let value = if look.peek(LitStr) {
            Value::Str(input.parse()?)
        } else if look.peek(LitBool) {
            Value::Bool(input.parse()?)
        } else if look.peek(syn::token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let items = Punctuated::<Item, Token![,]>::parse_terminated(&content)?;
            Value::List(bracket.span.join(), items.into_iter().collect())
        } else if look.peek(Ident::peek_any) || look.peek(Token![::]) {
            Value::Path(input.parse()?)
        } else {
            return Err(look.error());
        };
        Ok(Arg {
            key,
            value: Some(value),
        })
    }
}

/// Parses the attribute's arguments.
pub(crate) fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Vec<Arg>> {
    syn::parse::Parser::parse2(Punctuated::<Arg, Token![,]>::parse_terminated, tokens)
        .map(|p| p.into_iter().collect())
}

/// Walks the arguments, refusing unknown and repeated keys.
pub(crate) fn each(
    args: Vec<Arg>,
    known: &[&str],
    diag: &mut Diag,
    mut f: impl FnMut(&str, Arg, &mut Diag),
) {
    let mut seen: Vec<String> = Vec::new();
    for arg in args {
        let key = arg.key.unraw().to_string();
        if !known.contains(&key.as_str()) {
            diag.error(arg.key.span(), unknown_key(&key, known));
            continue;
        }
        if seen.contains(&key) {
            diag.error(arg.key.span(), format!("`{key}` is given more than once"));
            continue;
        }
        seen.push(key.clone());
        f(&key, arg, diag);
    }
}

impl Arg {
    pub(crate) fn span(&self) -> Span {
        match &self.value {
            Some(Value::Str(s)) => s.span(),
            Some(Value::Bool(b)) => b.span(),
            Some(Value::Path(p)) => p.span(),
            Some(Value::List(s, _)) => *s,
            None => self.key.span(),
        }
    }

    /// `key = "..."`
    pub(crate) fn string(self, diag: &mut Diag) -> Option<LitStr> {
        match self.value {
            Some(Value::Str(s)) => Some(s),
            _ => {
                let span = self.span();
                diag.error(
                    span,
                    format!("`{}` takes a string: `{} = \"...\"`", self.key, self.key),
                );
                None
            }
        }
    }

    /// `key` or `key = true|false`
    pub(crate) fn flag(self, diag: &mut Diag) -> Option<bool> {
        match self.value {
            None => Some(true),
            Some(Value::Bool(b)) => Some(b.value),
            _ => {
                let span = self.span();
                diag.error(
                    span,
                    format!(
                        "`{}` is a flag: write `{}` or `{} = false`",
                        self.key, self.key, self.key
                    ),
                );
                None
            }
        }
    }

    /// `key = "path::to::crate"` or `key = path::to::crate`
    pub(crate) fn path(self, diag: &mut Diag) -> Option<syn::Path> {
        match self.value {
            Some(Value::Path(p)) => Some(p),
            Some(Value::Str(s)) => match s.parse::<syn::Path>() {
                Ok(p) => Some(p),
                Err(_) => {
                    diag.error(s.span(), "expected a path such as `::mcp_runtime`");
                    None
                }
            },
            _ => {
                let span = self.span();
                diag.error(
                    span,
                    format!("`{}` takes a path: `{} = ::my_mcp`", self.key, self.key),
                );
                None
            }
        }
    }

    /// `key = [a, b]`
    pub(crate) fn list(self, diag: &mut Diag) -> Option<Vec<Item>> {
        match self.value {
            Some(Value::List(_, items)) => Some(items),
            _ => {
                let span = self.span();
                diag.error(
                    span,
                    format!("`{}` takes a list: `{} = [...]`", self.key, self.key),
                );
                None
            }
        }
    }
}
