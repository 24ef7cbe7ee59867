//! The crate's module tree, read from its files the way rustc finds them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One source file: a module with a file of its own (inline modules belong to their file).
pub struct File {
    pub path: PathBuf,
    /// The module path, empty for the crate root.
    pub module: Vec<String>,
    pub syntax: syn::File,
}

/// What a module (a file's or an inline one) declares that paths resolve through.
#[derive(Default)]
pub struct Scope {
    /// The file the module's items are in.
    pub file: usize,
    /// Child modules, by name.
    pub children: Vec<String>,
    /// `use` aliases: name → absolute path, and whether other modules can path through it.
    pub aliases: HashMap<String, (Vec<String>, bool)>,
}

pub struct Crate {
    pub files: Vec<File>,
    pub scopes: HashMap<Vec<String>, Scope>,
}

/// Reads every file of the crate whose root is `root`.
pub fn load(root: &Path) -> Result<Crate, String> {
    let mut krate = Crate {
        files: Vec::new(),
        scopes: HashMap::new(),
    };
    let dir = root.parent().unwrap_or(Path::new(".")).to_path_buf();
    load_file(&mut krate, root.to_path_buf(), Vec::new(), dir)?;
    Ok(krate)
}

fn load_file(
    krate: &mut Crate,
    path: PathBuf,
    module: Vec<String>,
    child_dir: PathBuf,
) -> Result<(), String> {
    let source = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let syntax =
        syn::parse_file(&source).map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
    let index = krate.files.len();
    let items = syntax.items.clone();
    krate.files.push(File {
        path: path.clone(),
        module: module.clone(),
        syntax,
    });
    let file_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    load_items(krate, index, &items, module, child_dir, &file_dir)
}

fn load_items(
    krate: &mut Crate,
    file: usize,
    items: &[syn::Item],
    module: Vec<String>,
    child_dir: PathBuf,
    file_dir: &Path,
) -> Result<(), String> {
    krate.scopes.entry(module.clone()).or_default().file = file;
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                let name = m.ident.to_string();
                let mut child = module.clone();
                child.push(name.clone());
                krate
                    .scopes
                    .entry(module.clone())
                    .or_default()
                    .children
                    .push(name.clone());
                if let Some((_, inline)) = &m.content {
                    load_items(krate, file, inline, child, child_dir.join(&name), file_dir)?;
                } else {
                    let explicit = m.attrs.iter().find_map(path_attribute);
                    let (path, dir) = match explicit {
                        Some(p) => {
                            let path = file_dir.join(p);
                            let dir = path.with_extension("");
                            (path, dir)
                        }
                        None => {
                            let flat = child_dir.join(format!("{name}.rs"));
                            if flat.exists() {
                                (flat, child_dir.join(&name))
                            } else {
                                (child_dir.join(&name).join("mod.rs"), child_dir.join(&name))
                            }
                        }
                    };
                    load_file(krate, path, child, dir)?;
                }
            }
            syn::Item::Use(u) => {
                let exported = !matches!(u.vis, syn::Visibility::Inherited);
                let mut aliases = Vec::new();
                flatten_use(&u.tree, Vec::new(), &mut aliases);
                let scope = krate.scopes.entry(module.clone()).or_default();
                for (alias, target) in aliases {
                    if let Some(alias) = alias {
                        scope.aliases.insert(alias, (target, exported));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn path_attribute(attr: &syn::Attribute) -> Option<String> {
    let syn::Meta::NameValue(nv) = &attr.meta else {
        return None;
    };
    if !nv.path.is_ident("path") {
        return None;
    }
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(s),
        ..
    }) = &nv.value
    else {
        return None;
    };
    Some(s.value())
}

/// A `use` tree as (name it brings, or `None` for a glob; the path as written).
pub fn flatten_use(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    out: &mut Vec<(Option<String>, Vec<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut prefix = prefix;
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            let mut path = prefix;
            if name == "self" {
                let alias = path.last().cloned();
                out.push((alias, path));
            } else {
                path.push(name.clone());
                out.push((Some(name), path));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix;
            let name = r.ident.to_string();
            if name != "self" {
                path.push(name);
            }
            let alias = r.rename.to_string();
            out.push(((alias != "_").then_some(alias), path));
        }
        syn::UseTree::Glob(_) => out.push((None, prefix)),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                flatten_use(tree, prefix.clone(), out);
            }
        }
    }
}
