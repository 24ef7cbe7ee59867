//! Compile-time behaviour of the macros: what must compile, and the exact errors of what must
//! not. Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("trybuild/ui/*/pass/*.rs");
    t.compile_fail("trybuild/ui/*/fail/*.rs");
}
