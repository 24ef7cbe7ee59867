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
    "scopes",
    "any_scopes",
    "task",
    "task_start",
    "public",
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
    pub(crate) scopes: Vec<LitStr>,
    pub(crate) any_scopes: Vec<LitStr>,
    /// `task = "optional" | "required"`: 1 or 2 (0: never).
    pub(crate) task: u8,
    /// `task_start = "explicit"`, and where it was written.
    pub(crate) task_start_explicit: Option<proc_macro2::Span>,
    /// `public`, and where it was written.
    pub(crate) public: Option<proc_macro2::Span>,
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
        "public" => {
            let span = arg.span();
            if arg.flag(diag) == Some(true) {
                attr.public = Some(span);
            }
        }
        "scopes" => attr.scopes = scope_list(arg, diag),
        "any_scopes" => attr.any_scopes = scope_list(arg, diag),
        "task" => {
            if let Some(v) = arg.string(diag) {
                match v.value().as_str() {
                    "optional" => attr.task = 1,
                    "required" => attr.task = 2,
                    "never" => attr.task = 0,
                    other => diag.error(
                        v.span(),
                        format!(
                            "`task = \"{other}\"` is not a task mode: write `task = \"optional\"` \
                             (a task when the client supports tasks) or `task = \"required\"`"
                        ),
                    ),
                }
            }
        }
        "task_start" => {
            if let Some(v) = arg.string(diag) {
                match v.value().as_str() {
                    "explicit" => attr.task_start_explicit = Some(v.span()),
                    "immediate" => {}
                    other => diag.error(
                        v.span(),
                        format!(
                            "`task_start = \"{other}\"` is not a start: write \
                             `task_start = \"explicit\"` (the task begins at \
                             `ctx.start_task().await`) or leave it out (it begins with the call)"
                        ),
                    ),
                }
            }
        }
        _ => {}
    });
    if let Some(span) = attr.public
        && (!attr.scopes.is_empty() || !attr.any_scopes.is_empty())
    {
        diag.error(
            span,
            "a public tool is called without a token, so it cannot require scopes: drop \
             `public`, or the scopes",
        );
    }
    if let (Some(span), 0) = (attr.task_start_explicit, attr.task) {
        diag.error(
            span,
            "`task_start` needs `task = \"optional\"` or `task = \"required\"`: only a task can \
             start",
        );
    }
    attr
}

/// `scopes = "admin"` or `scopes = ["admin", "write"]`, each an RFC 6749 §3.3 scope-token.
pub(crate) fn scope_list(arg: args::Arg, diag: &mut Diag) -> Vec<LitStr> {
    let key = arg.key.to_string();
    let items = match arg.value {
        Some(args::Value::Str(s)) => vec![s],
        Some(args::Value::List(_, items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    args::Item::Str(s) => out.push(s),
                    args::Item::Path(p) => diag.error(
                        syn::spanned::Spanned::span(&p),
                        format!("`{key}` lists scopes as strings: `{key} = [\"admin\"]`"),
                    ),
                }
            }
            out
        }
        _ => {
            let span = arg.span();
            diag.error(span, format!("`{key}` takes a scope or a list: `{key} = \"admin\"` or `{key} = [\"a\", \"b\"]`"));
            return Vec::new();
        }
    };
    for s in &items {
        let v = s.value();
        if v.contains(' ') && !v.trim().is_empty() {
            diag.error(
                s.span(),
                format!(
                    "`{v}` is several scopes in one string; list them: `{key} = [{}]`",
                    v.split_whitespace()
                        .map(|x| format!("\"{x}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        } else if !is_scope_token(&v) {
            diag.error(s.span(), format!(
                "`{v}` is not a valid scope: RFC 6749 §3.3 allows printable ASCII except space, `\"` and `\\`, and no empty scope"
            ));
        }
    }
    items
}

/// RFC 6749 §3.3 `scope-token`.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}
