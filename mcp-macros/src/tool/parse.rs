//! The attribute: `#[mcp_tool(name = "...", title = "...", description = "...", read_only, ...)]`.

use proc_macro2::TokenStream;
use syn::LitStr;

use crate::args;
use crate::diag::Diag;

const KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "crate",
];

#[derive(Default)]
pub(crate) struct ToolAttr {
    pub(crate) name: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) read_only: Option<bool>,
    pub(crate) destructive: Option<bool>,
    pub(crate) idempotent: Option<bool>,
    pub(crate) open_world: Option<bool>,
    pub(crate) krate: Option<syn::Path>,
}

pub(crate) fn parse(tokens: TokenStream, diag: &mut Diag) -> ToolAttr {
    let mut attr = ToolAttr::default();
    let parsed = match args::parse(tokens) {
        Ok(a) => a,
        Err(e) => {
            diag.push(e);
            return attr;
        }
    };
    args::each(parsed, KEYS, diag, |key, arg, diag| match key {
        "name" => attr.name = arg.string(diag),
        "title" => attr.title = arg.string(diag),
        "description" => attr.description = arg.string(diag),
        "read_only" => attr.read_only = arg.flag(diag),
        "destructive" => attr.destructive = arg.flag(diag),
        "idempotent" => attr.idempotent = arg.flag(diag),
        "open_world" => attr.open_world = arg.flag(diag),
        "crate" => attr.krate = arg.path(diag),
        _ => {}
    });
    attr
}
