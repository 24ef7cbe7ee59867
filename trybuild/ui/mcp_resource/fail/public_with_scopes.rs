use mcp_runtime::prelude::*;

/// A public resource is read without a token: it cannot need a scope.
#[mcp_resource(uri = "docs://x", public, scopes = "admin")]
async fn x() -> String {
    "x".into()
}

fn main() {}
