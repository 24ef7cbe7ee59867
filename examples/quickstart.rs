//! A few tools, two resources and a prompt on an MCP server: `cargo run --example quickstart`,
//! then point an MCP client at http://127.0.0.1:3000/mcp (HOST and PORT change the address).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::{Completion, CompletionRequest};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Add two numbers.
#[mcp_tool(read_only, idempotent)]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Greet someone by name.
#[mcp_tool(read_only)]
async fn greet(name: String, excited: Option<bool>) -> String {
    let mark = if excited.unwrap_or(false) { "!" } else { "." };
    format!("Hello, {name}{mark}")
}

/// What to look for.
#[derive(Deserialize, JsonSchema)]
struct SearchQuery {
    /// Words that must appear in the title.
    query: String,
    /// At most this many results (default 3).
    limit: Option<usize>,
}

/// The matching documents.
#[derive(Serialize, JsonSchema)]
struct SearchResults {
    /// Titles of the matches, best first.
    titles: Vec<String>,
    /// How many documents matched before the limit.
    total: usize,
}

const LIBRARY: [&str; 5] = [
    "Rust async book",
    "The MCP specification",
    "OAuth 2.1 for MCP servers",
    "Rust API guidelines",
    "Streamable HTTP explained",
];

/// Search the document library by title.
#[mcp_tool(read_only, title = "Search documents")]
async fn search(Input(q): Input<SearchQuery>) -> Json<SearchResults> {
    let needle = q.query.to_lowercase();
    let hits: Vec<String> = LIBRARY
        .iter()
        .filter(|t| t.to_lowercase().contains(&needle))
        .map(|t| (*t).to_owned())
        .collect();
    let total = hits.len();
    Json(SearchResults {
        titles: hits.into_iter().take(q.limit.unwrap_or(3)).collect(),
        total,
    })
}

/// Count slowly to `steps`, reporting progress after each step.
#[mcp_tool(read_only)]
async fn count_slowly(ctx: Context, steps: u32) -> Result<String, ToolError> {
    if steps > 100 {
        return Err(ToolError::new("steps must be at most 100"));
    }
    for i in 1..=steps {
        tokio::time::sleep(Duration::from_millis(50)).await;
        ctx.progress(
            f64::from(i),
            Some(f64::from(steps)),
            Some(&format!("step {i} of {steps}")),
        );
    }
    ctx.info(format!("counted to {steps}"));
    Ok(format!("counted to {steps}"))
}

/// Shared state: how many times `visit` was called.
#[derive(Default)]
struct Visits {
    count: AtomicU64,
}

/// Record a visit and return the running total.
#[mcp_tool]
async fn visit(visits: State<Visits>) -> u64 {
    visits.count.fetch_add(1, Ordering::Relaxed) + 1
}

/// The titles of the library's documents, one per line.
#[mcp_resource(uri = "docs://library", name = "library", mime_type = "text/plain")]
async fn library() -> String {
    LIBRARY.join("\n")
}

/// Suggests document numbers (0 to 4) from what was typed.
async fn document_numbers(req: CompletionRequest) -> Result<Completion, ToolError> {
    let numbers = (0..LIBRARY.len()).map(|i| i.to_string());
    Ok(Completion::matching(&req.value, numbers))
}

/// One document of the library, by number.
#[mcp_resource(
    uri = "docs://library/{number}",
    name = "document",
    mime_type = "text/plain"
)]
async fn document(#[complete(document_numbers)] number: usize) -> Result<String, ToolError> {
    LIBRARY
        .get(number)
        .map(|title| format!("{title}\n\n(the full text would be here)"))
        .ok_or_else(|| {
            ToolError::new(format!(
                "no document {number}; the library has {}",
                LIBRARY.len()
            ))
        })
}

/// Suggests document titles that start with what was typed.
async fn titles(req: CompletionRequest) -> Result<Completion, ToolError> {
    Ok(Completion::matching(&req.value, LIBRARY))
}

/// Ask the model to summarize a document for an audience.
#[mcp_prompt]
async fn summarize(
    /// The document's title
    #[complete(titles)]
    title: String,
    /// Who the summary is for (default: engineers)
    audience: Option<String>,
) -> String {
    let audience = audience.unwrap_or_else(|| "engineers".into());
    format!("Summarize \"{title}\" in five bullet points for {audience}.")
}

#[mcp_server(
    name = "quickstart",
    version = "1.0.0",
    instructions = "Arithmetic, greetings, a document search, a slow counter and a visit counter; \
                    the library as resources, and a prompt to summarize a document.",
    tools = [add, greet, search, count_slowly, visit],
    resources = [library, document],
    prompts = [summarize]
)]
struct Quickstart;

fn main() -> Result<(), ServeError> {
    // `.env` and the `MCP_*` settings (`MCP_STATELESS`, `MCP_ALLOWED_HOSTS`, ...) are read by
    // default; what is set here in code wins.
    let server = Quickstart::builder().state(Visits::default()).build()?;
    server.run()
}
