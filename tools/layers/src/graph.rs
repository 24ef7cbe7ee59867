//! Which file imports which, and the circles among them.

use std::collections::{BTreeMap, HashSet};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

use crate::modules::{Crate, flatten_use};

/// One file naming an item of another.
#[derive(Clone)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// The first line of `from` that names it.
    pub line: usize,
    /// The path as the check resolved it, `crate::…`.
    pub path: String,
    /// Whether `from` only re-exports it (`pub use`): the module's public face, which counts
    /// for the layer map (a layer may not even re-export from above) and not for circles.
    pub reexport: bool,
}

/// Every file-to-file import of the crate, one edge per pair (the first place it is named).
pub fn edges(krate: &Crate) -> Vec<Edge> {
    let mut found: BTreeMap<(usize, usize), Edge> = BTreeMap::new();
    for (index, file) in krate.files.iter().enumerate() {
        let mut visitor = Collector {
            krate,
            file: index,
            context: file.module.clone(),
            found: &mut found,
        };
        visitor.visit_file(&file.syntax);
    }
    found.into_values().collect()
}

struct Collector<'a> {
    krate: &'a Crate,
    file: usize,
    /// The module the visitor is in (inline modules included).
    context: Vec<String>,
    found: &'a mut BTreeMap<(usize, usize), Edge>,
}

impl Collector<'_> {
    fn name(&mut self, path: &[String], line: usize, is_use: bool, reexport: bool) {
        let Some(absolute) = absolute(self.krate, &self.context, path, 0) else {
            return;
        };
        if self.krate.files[self.file].module.is_empty() {
            return; // the crate root re-exports the public API from above every layer
        }
        let Some((module, names_module)) = resolve(self.krate, &absolute) else {
            return;
        };
        if is_use && names_module {
            // `use crate::auth;` is not a dependency on `auth/mod.rs`; the paths through it are.
            return;
        }
        let Some(scope) = self.krate.scopes.get(&module) else {
            return;
        };
        if scope.file == self.file {
            return;
        }
        let path = || format!("crate::{}", absolute.join("::"));
        let edge = self
            .found
            .entry((self.file, scope.file))
            .or_insert_with(|| Edge {
                from: self.file,
                to: scope.file,
                line,
                path: path(),
                reexport,
            });
        if edge.reexport && !reexport {
            // A use in code outweighs a re-export of the same file.
            edge.line = line;
            edge.path = path();
            edge.reexport = false;
        }
    }

    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            if let TokenTree::Group(group) = &trees[i] {
                self.tokens(group.stream());
                i += 1;
                continue;
            }
            let TokenTree::Ident(first) = &trees[i] else {
                i += 1;
                continue;
            };
            // A path: ident (:: ident)*, starting with crate/super/self or a name in scope.
            let line = first.span().start().line;
            let mut path = vec![first.to_string()];
            let mut j = i + 1;
            while j + 2 < trees.len() && is_colon2(&trees[j], &trees[j + 1]) {
                if let TokenTree::Ident(next) = &trees[j + 2] {
                    path.push(next.to_string());
                    j += 3;
                } else {
                    break;
                }
            }
            let preceded_by_dollar =
                i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
            if path.len() > 1 && !preceded_by_dollar {
                self.name(&path, line, false, false);
            }
            i = j.max(i + 1);
        }
    }
}

fn is_colon2(a: &TokenTree, b: &TokenTree) -> bool {
    matches!((a, b), (TokenTree::Punct(x), TokenTree::Punct(y))
        if x.as_char() == ':' && y.as_char() == ':' && x.spacing() == proc_macro2::Spacing::Joint)
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        // A re-export is the module's public face: the files that name `auth::Gate` depend
        // on the file that defines it (paths resolve through re-exports), not on `auth/mod.rs`.
        let reexport = !matches!(item.vis, syn::Visibility::Inherited);
        let line = item.use_token.span.start().line;
        let mut names = Vec::new();
        flatten_use(&item.tree, Vec::new(), &mut names);
        for (_, path) in names {
            self.name(&path, line, true, reexport);
        }
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        // Unit tests (`#[cfg(test)]`) may build what they test from anywhere in the crate:
        // the map is about the library as it is compiled.
        if !item_attrs(item).iter().any(is_cfg_test) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if let Some((_, items)) = &item.content {
            self.context.push(item.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.context.pop();
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        // One segment is a value, a type or a name a `use` brought (whose edge the `use`
        // made), never a module: `scope` in `s == scope` is a variable.
        if let Some(first) = path.segments.first().filter(|_| segments.len() > 1) {
            self.name(&segments, first.ident.span().start().line, false, false);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        syn::visit::visit_macro(self, mac);
        self.tokens(mac.tokens.clone());
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        // `macro_rules!` bodies use `$crate`, skipped; other item macros are scanned.
        syn::visit::visit_item_macro(self, item);
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[cfg(test)]`.
fn is_cfg_test(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("cfg")
        && attr
            .parse_args::<syn::Ident>()
            .is_ok_and(|ident| ident == "test")
}

/// A path as written in module `context`, made absolute (without `crate`); `None` when it
/// leaves the crate or names something local.
fn absolute(
    krate: &Crate,
    context: &[String],
    path: &[String],
    depth: usize,
) -> Option<Vec<String>> {
    if depth > 16 || path.is_empty() {
        return None;
    }
    let first = path[0].as_str();
    match first {
        "crate" => Some(path[1..].to_vec()),
        "self" => Some([context, &path[1..]].concat()),
        "super" => {
            let ups = path.iter().take_while(|s| *s == "super").count();
            let base = context.get(..context.len().checked_sub(ups)?)?;
            Some([base, &path[ups..]].concat())
        }
        "Self" | "$crate" => None,
        _ => {
            let scope = krate.scopes.get(context)?;
            if scope.children.iter().any(|c| c == first) {
                return Some([context, path].concat());
            }
            let (target, _) = scope.aliases.get(first)?;
            if target.len() == 1 && target[0] == first {
                return None; // `use serde_json;`: an extern crate
            }
            let base = absolute(krate, context, target, depth + 1)?;
            Some([&base[..], &path[1..]].concat())
        }
    }
}

/// The module that defines what an absolute path names (following re-exports), and whether
/// the path names that module itself.
fn resolve(krate: &Crate, path: &[String]) -> Option<(Vec<String>, bool)> {
    let mut path = path.to_vec();
    let mut current: Vec<String> = Vec::new();
    let mut i = 0;
    for _ in 0..64 {
        if i == path.len() {
            return Some((current, true));
        }
        let scope = krate.scopes.get(&current)?;
        let segment = &path[i];
        if scope.children.iter().any(|c| c == segment) {
            current.push(segment.clone());
            i += 1;
            continue;
        }
        if let Some((target, true)) = scope.aliases.get(segment) {
            let base = absolute(krate, &current, target, 0)?;
            path = [&base[..], &path[i + 1..]].concat();
            current.clear();
            i = 0;
            continue;
        }
        return Some((current, false));
    }
    None
}

/// The circles of the graph: for each strongly connected component of more than one file, one
/// shortest circle through it, as its edges.
pub fn cycles(nodes: usize, edges: &[Edge]) -> Vec<(Vec<usize>, Vec<Edge>)> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    for (index, edge) in edges.iter().enumerate().filter(|(_, e)| !e.reexport) {
        out[edge.from].push(index);
    }
    let components = tarjan(nodes, edges, &out);
    let mut circles = Vec::new();
    for component in components.into_iter().filter(|c| c.len() > 1) {
        let members: HashSet<usize> = component.iter().copied().collect();
        let start = *component.iter().min().unwrap_or(&0);
        // Breadth-first from `start` back to it, inside the component.
        let mut previous: Vec<Option<usize>> = vec![None; nodes];
        let mut queue = std::collections::VecDeque::from([start]);
        let mut seen = HashSet::from([start]);
        let mut closing = None;
        'search: while let Some(node) = queue.pop_front() {
            for &e in &out[node] {
                let to = edges[e].to;
                if !members.contains(&to) {
                    continue;
                }
                if to == start {
                    closing = Some(e);
                    break 'search;
                }
                if seen.insert(to) {
                    previous[to] = Some(e);
                    queue.push_back(to);
                }
            }
        }
        let Some(last) = closing else { continue };
        let mut circle = vec![edges[last].clone()];
        let mut node = edges[last].from;
        while node != start {
            let Some(e) = previous[node] else { break };
            circle.push(edges[e].clone());
            node = edges[e].from;
        }
        circle.reverse();
        let mut component = component;
        component.sort_unstable();
        circles.push((component, circle));
    }
    circles
}

fn tarjan(nodes: usize, edges: &[Edge], out: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(v: usize, s: &mut State, edges: &[Edge], out: &[Vec<usize>]) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &e in &out[v] {
            let w = edges[e].to;
            match s.index[w] {
                None => {
                    visit(w, s, edges, out);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(index) if s.on_stack[w] => s.low[v] = s.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.components.push(component);
        }
    }
    let mut state = State {
        index: vec![None; nodes],
        low: vec![0; nodes],
        on_stack: vec![false; nodes],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..nodes {
        if state.index[v].is_none() {
            visit(v, &mut state, edges, out);
        }
    }
    state.components
}
