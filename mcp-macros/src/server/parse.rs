//! The attribute: `#[mcp_server(name = "...", version = "...", tools = [a, b], ...)]`.

use proc_macro2::TokenStream;
use syn::LitStr;

use crate::args::{self, Item};
use crate::diag::Diag;

const KEYS: &[&str] = &[
    "name",
    "version",
    "title",
    "instructions",
    "tools",
    "resources",
    "prompts",
    "stateless",
    "oauth",
    "scopes",
    "crate",
];

/// The OAuth presets the runtime knows (`mcp_runtime::providers::PRESETS`).
const PRESETS: &[&str] = &[
    "auth0",
    "better_auth",
    "clerk",
    "custom",
    "dev",
    "entra",
    "github",
    "google",
    "keycloak",
    "okta",
    "proxy",
    "supabase",
    "workos",
];

/// `oauth = "preset"`, or `oauth = path::to::fn` returning `OAuth` (or a `Result` of one).
pub(crate) enum OAuthSpec {
    Preset(LitStr),
    Fn(syn::Path),
}

#[derive(Default)]
pub(crate) struct ServerModel {
    pub(crate) name: Option<LitStr>,
    pub(crate) version: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) instructions: Option<LitStr>,
    pub(crate) tools: Vec<syn::Path>,
    pub(crate) resources: Vec<syn::Path>,
    pub(crate) prompts: Vec<syn::Path>,
    pub(crate) stateless: Option<bool>,
    pub(crate) krate: Option<syn::Path>,
    pub(crate) oauth: Option<OAuthSpec>,
    pub(crate) scopes: Option<Vec<LitStr>>,
}

pub(crate) fn parse(tokens: TokenStream, diag: &mut Diag) -> ServerModel {
    let mut m = ServerModel::default();
    let parsed = match args::parse(tokens) {
        Ok(a) => a,
        Err(e) => {
            diag.push(e);
            return m;
        }
    };
    args::each(parsed, KEYS, diag, |key, arg, diag| match key {
        "name" => m.name = arg.string(diag),
        "version" => m.version = arg.string(diag),
        "title" => m.title = arg.string(diag),
        "instructions" => m.instructions = arg.string(diag),
        "stateless" => m.stateless = arg.flag(diag),
        "crate" => m.krate = arg.path(diag),
        "scopes" => m.scopes = Some(crate::tool::scope_list(arg, diag)),
        "oauth" => {
            if let Some(crate::args::Value::Path(_)) = &arg.value {
                m.oauth = arg.path(diag).map(OAuthSpec::Fn);
            } else if let Some(preset) = arg.string(diag) {
                if PRESETS.contains(&preset.value().as_str()) {
                    m.oauth = Some(OAuthSpec::Preset(preset));
                } else {
                    let mut msg = format!(
                        "unknown OAuth preset `{}`; known presets: {}",
                        preset.value(),
                        PRESETS.join(", ")
                    );
                    if let Some(s) = crate::diag::did_you_mean(&preset.value(), PRESETS) {
                        msg.push_str(&format!("\n\n  help: did you mean `{s}`?"));
                    }
                    diag.error(preset.span(), msg);
                }
            }
        }
        "tools" => m.tools = fns(arg, "tool", "tools = [add, search]", diag),
        "resources" => m.resources = fns(arg, "resource", "resources = [today_log]", diag),
        "prompts" => m.prompts = fns(arg, "prompt", "prompts = [review]", diag),
        _ => {}
    });
    m
}

/// `key = [f, g]`: the annotated fns themselves.
fn fns(arg: args::Arg, kind: &str, example: &str, diag: &mut Diag) -> Vec<syn::Path> {
    let mut out = Vec::new();
    for item in arg.list(diag).unwrap_or_default() {
        match item {
            Item::Path(p) => out.push(p),
            Item::Str(s) => diag.error(
                s.span(),
                format!("list the {kind} functions themselves, not their names: `{example}`"),
            ),
        }
    }
    out
}
