use mcp_runtime::prelude::*;

/// A user's post: `idd` is misspelt (one error, with the fix).
#[mcp_resource(uri = "users://{id}/posts/{post}")]
async fn post(idd: String, post: u32) -> String {
    format!("{idd}/{post}")
}

/// A variable without a parameter.
#[mcp_resource(uri = "users://{id}/posts/{post}")]
async fn post_of(post: u32) -> String {
    format!("{post}")
}

/// A fixed URI has no variables.
#[mcp_resource(uri = "file:///logs/today")]
async fn today(day: String) -> String {
    day
}

fn main() {}
