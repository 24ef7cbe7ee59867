//! Checks that a crate's modules import one way.
//!
//! `mcp-layers <path/to/lib.rs>` reads the crate's module tree from its files, collects every
//! path each file names into the crate (in `use` lines, in code and in macro arguments), follows
//! re-exports to the module that defines the item, and checks two rules:
//!
//! 1. **The layer map.** The crate docs hold a `# Layers` table: one row per layer, bottom
//!    first, naming its modules and the layers it may import. A file may import from its own
//!    layer and from the layers its row lists, nothing else.
//! 2. **No circles.** The graph of files importing files has no cycle, so no circle spans two
//!    folders and none joins sibling files.
//!
//! Every violation is printed with the file and line of the import; the exit status is 1 if
//! there is one, 2 if the crate or its map cannot be read.

mod graph;
mod map;
mod modules;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(root) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: mcp-layers <path/to/lib.rs>");
        return ExitCode::from(2);
    };
    match check(&root) {
        Ok(report) if report.problems.is_empty() => {
            println!("{}", report.summary);
            ExitCode::SUCCESS
        }
        Ok(report) => {
            for problem in &report.problems {
                eprintln!("{problem}");
            }
            eprintln!(
                "\n{} problem(s); the layer map is the `# Layers` table in {}",
                report.problems.len(),
                root.display()
            );
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("mcp-layers: {error}");
            ExitCode::from(2)
        }
    }
}

/// What a check found.
pub struct Report {
    /// One line per violation, empty when the crate keeps its map.
    pub problems: Vec<String>,
    /// A line saying what was checked.
    pub summary: String,
}

/// Checks the crate whose root file is `root`.
pub fn check(root: &std::path::Path) -> Result<Report, String> {
    let source = std::fs::read_to_string(root)
        .map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    let layers = map::parse(&source).map_err(|e| format!("{}: {e}", root.display()))?;
    let crate_ = modules::load(root)?;
    let edges = graph::edges(&crate_);
    let mut problems = Vec::new();
    if std::env::var_os("MCP_LAYERS_EDGES").is_some() {
        for edge in &edges {
            println!(
                "{} -> {} : {}{}",
                crate_.files[edge.from].module.join("::"),
                crate_.files[edge.to].module.join("::"),
                edge.path,
                if edge.reexport { " (re-export)" } else { "" }
            );
        }
    }

    // Every module is on a layer.
    for file in &crate_.files {
        if file.module.is_empty() {
            continue;
        }
        if layers.layer_of(&file.module).is_none() {
            problems.push(format!(
                "{}: module `{}` is on no layer: add it to a row of the `# Layers` table",
                file.path.display(),
                file.module.join("::")
            ));
        }
    }

    // Rule 1: imports run down the map.
    for edge in &edges {
        let (from, to) = (&crate_.files[edge.from], &crate_.files[edge.to]);
        if from.module.is_empty() {
            continue; // the crate root re-exports the public API; it sits on top of everything
        }
        let (Some(a), Some(b)) = (layers.layer_of(&from.module), layers.layer_of(&to.module))
        else {
            continue;
        };
        if a != b && !layers.rows[a].imports.contains(&b) {
            problems.push(format!(
                "{}:{}: `{}` (layer {}) {} `{}` from `{}` (layer {}), which its row does not list",
                from.path.display(),
                edge.line,
                from.module.join("::"),
                layers.rows[a].name,
                if edge.reexport {
                    "re-exports"
                } else {
                    "imports"
                },
                edge.path,
                to.module.join("::"),
                layers.rows[b].name,
            ));
        }
    }

    // Rule 2: no circles.
    for (members, cycle) in graph::cycles(crate_.files.len(), &edges) {
        let names: Vec<String> = members
            .iter()
            .map(|&m| crate_.files[m].path.display().to_string())
            .collect();
        let mut text = format!(
            "import circle: {} files reach each other ({}); one circle among them:",
            members.len(),
            names.join(", ")
        );
        for edge in &cycle {
            let from = &crate_.files[edge.from];
            text.push_str(&format!(
                "\n    {}:{} imports `{}` ({})",
                from.path.display(),
                edge.line,
                edge.path,
                crate_.files[edge.to].path.display()
            ));
        }
        problems.push(text);
    }

    Ok(Report {
        problems,
        summary: format!(
            "layers: {} files, {} imports between them, {} layers; every import runs down the map and none closes a circle",
            crate_.files.len(),
            edges.len(),
            layers.rows.len()
        ),
    })
}
