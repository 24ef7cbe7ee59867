//! The import check of `mcp-layers` (see the binary's documentation): [`check`] reads a
//! crate's files and returns every import that runs up its layer map or closes a circle.

mod graph;
mod map;
mod modules;

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
