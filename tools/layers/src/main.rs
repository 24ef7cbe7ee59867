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

use std::path::PathBuf;
use std::process::ExitCode;

use mcp_layers::check;
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
