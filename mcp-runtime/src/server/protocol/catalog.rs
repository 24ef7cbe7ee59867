//! What a server offers (its tools, resources and prompts) as one immutable catalog, checked
//! by one set of rules at build and at run time. Adding or removing an item at run time
//! (`McpServer::add_tool`, ...) builds a new catalog and swaps it in whole: requests in flight
//! keep the one they started with, and no request ever sees half a change.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use super::prompts::{Prompt, Prompts};
use super::resources::{Resource, Resources};
use super::state::ServerKeyed;
use crate::extract::StateMap;
use crate::tool::{CallFn, Tool, ToolMeta};

/// A tool, ready to call.
pub(crate) struct ToolEntry {
    pub(crate) meta: ToolMeta,
    pub(crate) call: CallFn,
    /// The arguments sent as headers too (argument, header name), from `x-mcp-header`.
    pub(crate) headers: Vec<(String, String)>,
}

/// A tool's `tools/list` entry and the scopes that decide who sees it.
#[derive(Clone)]
pub(crate) struct Listed {
    pub(crate) name: &'static str,
    pub(crate) listing: Value,
    pub(crate) scopes: &'static [&'static str],
    pub(crate) any_scopes: &'static [&'static str],
    /// Callable without a token.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) public: bool,
}

/// What every item must satisfy.
pub(crate) struct Rules {
    pub(crate) has_oauth: bool,
    /// The server's declared scope set (`.scopes([...])`).
    pub(crate) declared: Option<Vec<String>>,
    pub(crate) state: Arc<StateMap>,
    pub(crate) page_size: usize,
    /// How long 2026-07-28 clients may cache a listing (`ttlMs`).
    pub(crate) list_ttl_ms: u64,
    /// At run time: the scopes the server advertised when it was built (its metadata's
    /// `scopes_supported`); an item added later may require only these.
    pub(crate) advertised: Option<Vec<String>>,
}

impl Rules {
    /// Problems with an item's scopes, and with needing a caller on a server without OAuth.
    fn check_scopes<'a>(
        &self,
        item: &str,
        scopes: impl IntoIterator<Item = &'a str>,
        needs_auth: bool,
        problems: &mut Vec<String>,
    ) {
        if needs_auth && !self.has_oauth {
            problems.push(format!(
                "{item} requires an authenticated caller (it takes `Auth` or requires scopes), \
                 but the server has no OAuth: add `.oauth(...)`"
            ));
        }
        for s in scopes {
            if let Some(declared) = &self.declared
                && !declared.iter().any(|d| d == s)
            {
                problems.push(format!(
                    "{item} requires scope `{s}`, which the server does not declare (declared: {})",
                    declared.join(", ")
                ));
            } else if let Some(advertised) = &self.advertised
                && !advertised.iter().any(|d| d == s)
            {
                problems.push(format!(
                    "{item} requires scope `{s}`, which the server did not advertise when it was \
                     built (its metadata lists: {}); declare every scope up front with \
                     `.scopes([...])`",
                    advertised.join(", ")
                ));
            }
        }
    }
}

/// The server's items.
pub(crate) struct Catalog {
    pub(crate) tools: ServerKeyed<&'static str, Arc<ToolEntry>>,
    /// Every tool's listing, in order.
    pub(crate) listings: Vec<Listed>,
    /// `tools/list`, paginated and serialized once per catalog.
    pub(crate) tool_pages: Vec<Bytes>,
    pub(crate) resources: Resources,
    pub(crate) prompts: Prompts,
    /// The definitions the indexes were built from, to build the next catalog.
    resource_defs: Vec<Resource>,
    prompt_defs: Vec<Prompt>,
    /// Whether some item is public (computed at the first anonymous request).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    public: std::sync::OnceLock<bool>,
}

impl Catalog {
    /// Checks and indexes the items; problems name the item.
    pub(crate) fn build(
        tools: Vec<Tool>,
        resources: Vec<Resource>,
        prompts: Vec<Prompt>,
        rules: &Rules,
        problems: &mut Vec<String>,
    ) -> Catalog {
        let mut catalog = Catalog {
            tools: ServerKeyed::default(),
            listings: Vec::new(),
            tool_pages: Vec::new(),
            resources: Resources::default(),
            prompts: Prompts::default(),
            resource_defs: Vec::new(),
            prompt_defs: Vec::new(),
            public: std::sync::OnceLock::new(),
        };
        for tool in tools {
            catalog.insert_tool(tool, rules, problems);
        }
        catalog.tool_pages = pages(&catalog.listings, rules.page_size);
        catalog.set_resources(resources, rules, problems);
        catalog.set_prompts(prompts, rules, problems);
        catalog
    }

    /// Whether some tool, resource or prompt may be used without a token: then a request
    /// without one is admitted (as anonymous) on a server with OAuth.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn has_public(&self) -> bool {
        *self.public.get_or_init(|| {
            self.listings.iter().any(|l| l.public)
                || self.resource_defs.iter().any(|r| r.public)
                || self.prompt_defs.iter().any(|p| p.public)
        })
    }

    /// Every scope an item requires, each once.
    pub(crate) fn scopes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let tools = self
            .listings
            .iter()
            .flat_map(|l| l.scopes.iter().chain(l.any_scopes).copied());
        for s in tools
            .chain(self.resources.scopes())
            .chain(self.prompts.scopes())
        {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    fn insert_tool(&mut self, tool: Tool, rules: &Rules, problems: &mut Vec<String>) {
        let name = tool.meta.name;
        let location = tool.meta.location;
        if let Some(prev) = self.tools.get(name) {
            problems.push(format!(
                "two tools are named `{name}`: one defined at {}, the other at {location}",
                prev.meta.location
            ));
            return;
        }
        let built = match tool.build() {
            Ok(built) => built,
            Err(errs) => {
                problems.extend(
                    errs.into_iter()
                        .map(|e| format!("tool `{name}` ({location}): {e}")),
                );
                return;
            }
        };
        let before = problems.len();
        for (id, type_name) in &built.states {
            if !rules.state.contains(*id) {
                problems.push(format!(
                    "tool `{name}` ({location}) takes `State<{type_name}>`, but no state of that \
                     type was registered: add `.state(value)` to the builder"
                ));
            }
        }
        rules.check_scopes(
            &format!("tool `{name}` ({location})"),
            built
                .meta
                .scopes
                .iter()
                .chain(built.meta.any_scopes)
                .copied(),
            built.needs_auth,
            problems,
        );
        if built.meta.public {
            if !built.meta.scopes.is_empty() || !built.meta.any_scopes.is_empty() {
                problems.push(format!(
                    "tool `{name}` ({location}) is public, so it is called without a token, and \
                     cannot require scopes: drop `public`, or the scopes"
                ));
            } else if built.needs_auth {
                problems.push(format!(
                    "tool `{name}` ({location}) is public, so it is called without a token, and \
                     cannot take `Auth`: take `Option<Auth>`"
                ));
            }
        }
        if problems.len() > before {
            return;
        }
        let headers = match built
            .listing
            .get("inputSchema")
            .map(crate::tool::designated_headers)
            .unwrap_or(Ok(Vec::new()))
        {
            Ok(h) => h,
            Err(e) => {
                problems.push(format!("tool `{name}` ({location}): {e}"));
                return;
            }
        };
        self.listings.push(Listed {
            name,
            listing: built.listing,
            scopes: built.meta.scopes,
            any_scopes: built.meta.any_scopes,
            public: built.meta.public,
        });
        self.tools.insert(
            name,
            Arc::new(ToolEntry {
                meta: built.meta,
                call: built.call,
                headers,
            }),
        );
    }

    fn set_resources(&mut self, defs: Vec<Resource>, rules: &Rules, problems: &mut Vec<String>) {
        for r in &defs {
            rules.check_scopes(
                &format!("resource `{}`", r.uri),
                r.scopes.iter().map(String::as_str),
                !r.scopes.is_empty(),
                problems,
            );
            if r.public && !r.scopes.is_empty() {
                problems.push(format!(
                    "resource `{}` is public, so it is read without a token, and cannot require \
                     scopes: drop `public`, or the scopes",
                    r.uri
                ));
            }
        }
        self.resources = Resources::build(defs.clone(), rules.page_size, problems);
        self.resource_defs = defs;
    }

    fn set_prompts(&mut self, defs: Vec<Prompt>, rules: &Rules, problems: &mut Vec<String>) {
        for p in &defs {
            rules.check_scopes(
                &format!("prompt `{}`", p.name),
                p.scopes.iter().map(String::as_str),
                !p.scopes.is_empty(),
                problems,
            );
            if p.public && !p.scopes.is_empty() {
                problems.push(format!(
                    "prompt `{}` is public, so it is used without a token, and cannot require \
                     scopes: drop `public`, or the scopes",
                    p.name
                ));
            }
        }
        self.prompts = Prompts::build(defs.clone(), rules.page_size, problems);
        self.prompt_defs = defs;
    }

    /// A copy sharing every item (the tools' entries are shared, not rebuilt).
    fn copy(&self, rules: &Rules) -> Catalog {
        let mut none = Vec::new();
        let mut c = Catalog {
            tools: self.tools.clone(),
            listings: self.listings.clone(),
            tool_pages: self.tool_pages.clone(),
            resources: Resources::default(),
            prompts: Prompts::default(),
            resource_defs: Vec::new(),
            prompt_defs: Vec::new(),
            public: std::sync::OnceLock::new(),
        };
        c.set_resources(self.resource_defs.clone(), rules, &mut none);
        c.set_prompts(self.prompt_defs.clone(), rules, &mut none);
        c
    }

    /// The catalog with `tool` added, or why it cannot be.
    pub(crate) fn with_tool(&self, tool: Tool, rules: &Rules) -> Result<Catalog, Vec<String>> {
        let mut next = self.copy(rules);
        let mut problems = Vec::new();
        next.insert_tool(tool, rules, &mut problems);
        next.tool_pages = pages(&next.listings, rules.page_size);
        problems.is_empty().then_some(next).ok_or(problems)
    }

    /// The catalog without the tool `name`; `None` if there is no such tool.
    pub(crate) fn without_tool(&self, name: &str, rules: &Rules) -> Option<Catalog> {
        self.tools.get(name)?;
        let mut next = self.copy(rules);
        next.tools.remove(name);
        next.listings.retain(|l| l.name != name);
        next.tool_pages = pages(&next.listings, rules.page_size);
        Some(next)
    }

    /// The catalog with `resource` added, or why it cannot be.
    pub(crate) fn with_resource(
        &self,
        resource: Resource,
        rules: &Rules,
    ) -> Result<Catalog, Vec<String>> {
        let mut next = self.copy(rules);
        let mut defs = self.resource_defs.clone();
        defs.push(resource);
        let mut problems = Vec::new();
        next.set_resources(defs, rules, &mut problems);
        problems.is_empty().then_some(next).ok_or(problems)
    }

    /// The catalog without the resource (or template) `uri`; `None` if there is none.
    pub(crate) fn without_resource(&self, uri: &str, rules: &Rules) -> Option<Catalog> {
        let defs: Vec<Resource> = self
            .resource_defs
            .iter()
            .filter(|r| r.uri != uri)
            .cloned()
            .collect();
        if defs.len() == self.resource_defs.len() {
            return None;
        }
        let mut next = self.copy(rules);
        next.set_resources(defs, rules, &mut Vec::new());
        Some(next)
    }

    /// The catalog with `prompt` added, or why it cannot be.
    pub(crate) fn with_prompt(
        &self,
        prompt: Prompt,
        rules: &Rules,
    ) -> Result<Catalog, Vec<String>> {
        let mut next = self.copy(rules);
        let mut defs = self.prompt_defs.clone();
        defs.push(prompt);
        let mut problems = Vec::new();
        next.set_prompts(defs, rules, &mut problems);
        problems.is_empty().then_some(next).ok_or(problems)
    }

    /// The catalog without the prompt `name`; `None` if there is none.
    pub(crate) fn without_prompt(&self, name: &str, rules: &Rules) -> Option<Catalog> {
        let defs: Vec<Prompt> = self
            .prompt_defs
            .iter()
            .filter(|p| p.name != name)
            .cloned()
            .collect();
        if defs.len() == self.prompt_defs.len() {
            return None;
        }
        let mut next = self.copy(rules);
        next.set_prompts(defs, rules, &mut Vec::new());
        Some(next)
    }
}

/// `tools/list` pages of these listings.
pub(crate) fn pages(listings: &[Listed], page_size: usize) -> Vec<Bytes> {
    let all: Vec<Value> = listings.iter().map(|l| l.listing.clone()).collect();
    super::listing::paginate(&all, page_size)
}
