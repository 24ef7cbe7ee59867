//! The check against small crates written for each rule, and against mcp-runtime itself with a
//! deliberate back-import.

use std::path::{Path, PathBuf};

use mcp_layers::check;

/// A crate in a fresh temporary folder: `(path, contents)` pairs under `src/`.
struct Fixture(PathBuf);

impl Fixture {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("mcp-layers-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join("src").join(path);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
            std::fs::write(path, text).expect("file");
        }
        Fixture(dir)
    }

    fn root(&self) -> PathBuf {
        self.0.join("src/lib.rs")
    }

    fn problems(&self) -> Vec<String> {
        check(&self.root()).expect("readable").problems
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const MAP: &str = "//! # Layers\n//!\n//! | layer | modules | may import |\n//! | --- | --- | --- |\n//! | model | `model` | |\n//! | server | `server` | model |\n\npub mod model;\npub mod server;\n";

#[test]
fn imports_down_the_map_pass() {
    let f = Fixture::new(
        "down",
        &[
            ("lib.rs", MAP),
            ("model.rs", "pub struct Content;\n"),
            ("server/mod.rs", "mod a;\nmod b;\npub use a::Handler;\n"),
            (
                "server/a.rs",
                "use super::b::helper;\npub struct Handler(crate::model::Content);\nfn f() { helper() }\n",
            ),
            ("server/b.rs", "pub(crate) fn helper() {}\n"),
        ],
    );
    let report = check(&f.root()).expect("readable");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.summary.contains("5 files"), "{}", report.summary);
}

#[test]
fn an_import_up_the_map_is_named_with_its_line() {
    let f = Fixture::new(
        "up",
        &[
            ("lib.rs", MAP),
            (
                "model.rs",
                "pub struct Content;\n\nfn f() -> crate::server::Handler { todo!() }\n",
            ),
            ("server.rs", "pub struct Handler;\n"),
        ],
    );
    let problems = f.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("model.rs:3: `model` (layer model) imports `crate::server::Handler` from `server` (layer server), which its row does not list"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_re_export_from_above_counts_too() {
    let f = Fixture::new(
        "reexport",
        &[
            ("lib.rs", MAP),
            ("model.rs", "pub use crate::server::Handler;\n"),
            ("server.rs", "pub struct Handler;\n"),
        ],
    );
    let problems = f.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("re-exports `crate::server::Handler`"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_circle_between_sibling_files_is_shown_edge_by_edge() {
    let f = Fixture::new(
        "circle",
        &[
            ("lib.rs", MAP),
            ("model.rs", ""),
            ("server/mod.rs", "mod a;\nmod b;\n"),
            (
                "server/a.rs",
                "pub(crate) struct A;\nfn f(_: super::b::B) {}\n",
            ),
            (
                "server/b.rs",
                "\npub(crate) struct B;\nfn g() { let _ = crate::server::a::A; }\n",
            ),
        ],
    );
    let problems = f.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert!(
        p.starts_with("import circle: 2 files reach each other"),
        "{p}"
    );
    assert!(
        p.contains("server/a.rs:2 imports `crate::server::b::B`"),
        "{p}"
    );
    assert!(
        p.contains("server/b.rs:3 imports `crate::server::a::A`"),
        "{p}"
    );
}

#[test]
fn unit_tests_values_and_re_exports_of_children_make_no_circle() {
    let f = Fixture::new(
        "allowed",
        &[
            ("lib.rs", MAP),
            ("model.rs", ""),
            // The folder's face re-exports its child, which uses the folder's own type.
            (
                "server/mod.rs",
                "mod a;\npub use a::A;\npub struct Shared;\n\n#[cfg(test)]\nmod tests {\n    use super::a::A;\n}\n",
            ),
            // `a` is also a local variable's name in `a == a`: a value, not the module.
            (
                "server/a.rs",
                "pub struct A(super::Shared);\nfn f(a: u8) -> bool { a == a }\n",
            ),
        ],
    );
    let problems = f.problems();
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn a_module_on_no_layer_and_a_malformed_map_are_refused() {
    let f = Fixture::new(
        "unlisted",
        &[
            ("lib.rs", &format!("{MAP}pub mod extra;\n")),
            ("model.rs", ""),
            ("server.rs", ""),
            ("extra.rs", ""),
        ],
    );
    let problems = f.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("module `extra` is on no layer"),
        "{}",
        problems[0]
    );

    let f = Fixture::new("nomap", &[("lib.rs", "pub mod model;\n"), ("model.rs", "")]);
    let error = check(&f.root()).err().expect("refused");
    assert!(error.contains("no `# Layers` section"), "{error}");
}

/// mcp-runtime as it is passes; with one import from the resource server back up to the
/// authorization server it fails, naming the file, the line and the layers.
#[test]
fn mcp_runtime_keeps_its_map_and_a_back_import_breaks_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../mcp-runtime/src");
    let real = check(&src.join("lib.rs")).expect("readable");
    assert!(real.problems.is_empty(), "{:#?}", real.problems);

    let copy = std::env::temp_dir().join(format!("mcp-layers-runtime-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&src, &copy);
    let scope = copy.join("auth/scope.rs");
    let mut text = std::fs::read_to_string(&scope).expect("auth/scope.rs");
    let line = text.lines().count() + 2;
    text.push_str("\n#[allow(unused_imports)]\nuse crate::oauth::AuthServer;\n");
    std::fs::write(&scope, text).expect("write");
    let broken = check(&copy.join("lib.rs")).expect("readable");
    let _ = std::fs::remove_dir_all(&copy);
    assert_eq!(broken.problems.len(), 1, "{:#?}", broken.problems);
    let expected = format!(
        "auth/scope.rs:{}: `auth::scope` (layer auth) imports `crate::oauth::AuthServer` from `oauth` (layer oauth), which its row does not list",
        line + 1
    );
    assert!(
        broken.problems[0].ends_with(&expected),
        "{}\nexpected: {expected}",
        broken.problems[0]
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for entry in std::fs::read_dir(from).expect("listing") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}
