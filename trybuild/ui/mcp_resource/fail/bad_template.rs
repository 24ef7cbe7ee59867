use mcp_runtime::prelude::*;

#[mcp_resource(uri = "users://{id}{name}")]
async fn user(id: String, name: String) -> String {
    format!("{id}{name}")
}

#[mcp_resource(mime_type = "text/plain")]
async fn no_uri() -> String {
    String::new()
}

fn main() {}
