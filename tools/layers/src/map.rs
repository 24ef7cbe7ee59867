//! The `# Layers` table of the crate docs.
//!
//! ```text
//! //! # Layers
//! //!
//! //! | layer | modules | may import |
//! //! | --- | --- | --- |
//! //! | model | `model` | |
//! //! | store | `store` | model |
//! //! | auth | `auth`, `config` | model, store |
//! ```
//!
//! Rows run bottom first; a row may list only rows above it, so the map itself has no circle.
//! A module is on the layer of the longest module path in the table that begins it:
//! `server::protocol` may sit on a lower layer than the rest of `server`.

/// One row.
pub struct Row {
    pub name: String,
    pub modules: Vec<Vec<String>>,
    /// Indexes of the rows this one may import.
    pub imports: Vec<usize>,
}

pub struct Layers {
    pub rows: Vec<Row>,
}

impl Layers {
    /// The row of a module: the longest listed module path that is a prefix of it.
    pub fn layer_of(&self, module: &[String]) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (index, row) in self.rows.iter().enumerate() {
            for listed in &row.modules {
                if module.starts_with(listed) && best.is_none_or(|(len, _)| listed.len() > len) {
                    best = Some((listed.len(), index));
                }
            }
        }
        best.map(|(_, index)| index)
    }
}

/// Reads the table from the crate root's source.
pub fn parse(source: &str) -> Result<Layers, String> {
    let docs: Vec<&str> = source
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("//!"))
        .map(str::trim)
        .collect();
    let start = docs
        .iter()
        .position(|line| *line == "# Layers")
        .ok_or("the crate docs have no `# Layers` section")?;
    let mut rows: Vec<Row> = Vec::new();
    let mut in_table = false;
    for line in &docs[start + 1..] {
        if line.starts_with('#') {
            break;
        }
        if !line.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if !in_table {
            in_table = true; // the header
            continue;
        }
        if cells
            .iter()
            .all(|cell| cell.chars().all(|c| c == '-' || c == ':'))
        {
            continue;
        }
        let [name, modules, imports] = cells[..] else {
            return Err(format!(
                "a `# Layers` row needs 3 cells (layer | modules | may import): `{line}`"
            ));
        };
        let modules: Vec<Vec<String>> = modules
            .split(',')
            .map(|m| m.trim().trim_matches('`'))
            .filter(|m| !m.is_empty())
            .map(|m| m.split("::").map(str::to_owned).collect())
            .collect();
        if modules.is_empty() {
            return Err(format!("layer `{name}` lists no module"));
        }
        let mut indexes = Vec::new();
        for import in imports.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let index = rows
                .iter()
                .position(|row| row.name == import)
                .ok_or_else(|| {
                    format!("layer `{name}` may import `{import}`, which is not a row above it")
                })?;
            indexes.push(index);
        }
        rows.push(Row {
            name: name.to_owned(),
            modules,
            imports: indexes,
        });
    }
    if rows.is_empty() {
        return Err("the `# Layers` section has no table".into());
    }
    Ok(Layers { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "//! # Layers\n//!\n//! | layer | modules | may import |\n//! | --- | --- | --- |\n//! | model | `model` | |\n//! | server | `server`, `tool` | model |\n//! | transport | `server::transport` | server, model |\n";

    #[test]
    fn rows_and_longest_prefix() {
        let layers = parse(MAP).expect("map");
        assert_eq!(layers.rows.len(), 3);
        let path = |p: &str| p.split("::").map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(layers.layer_of(&path("model::content")), Some(0));
        assert_eq!(layers.layer_of(&path("server::builder")), Some(1));
        assert_eq!(layers.layer_of(&path("server::transport::http")), Some(2));
        assert_eq!(layers.layer_of(&path("client")), None);
        assert_eq!(layers.rows[2].imports, vec![1, 0]);
    }

    #[test]
    fn a_row_may_import_only_rows_above_it() {
        let map = MAP.replace("| model | `model` | |", "| model | `model` | server |");
        let error = parse(&map).err().expect("refused");
        assert!(
            error.contains("`server`, which is not a row above it"),
            "{error}"
        );
    }
}
