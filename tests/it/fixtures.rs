//! Tools shared by the integration tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::{McpServer, McpServerBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Echo the text back.
#[mcp_tool(read_only, idempotent)]
pub async fn echo(text: String) -> String {
    text
}

/// Add two integers.
#[mcp_tool(name = "add-numbers", title = "Adder", read_only, open_world = false)]
pub async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// A search request.
#[derive(Deserialize, JsonSchema)]
pub struct Query {
    /// Words to look for.
    pub query: String,
    /// At most this many hits.
    pub limit: Option<u32>,
}

/// Search results.
#[derive(Serialize, JsonSchema)]
pub struct Hits {
    /// The hits.
    pub hits: Vec<String>,
}

/// Search things.
#[mcp_tool]
pub async fn search(Input(q): Input<Query>) -> Json<Hits> {
    let n = q.limit.unwrap_or(2) as usize;
    Json(Hits {
        hits: (0..n).map(|i| format!("{}-{i}", q.query)).collect(),
    })
}

/// Always fails.
#[mcp_tool(destructive)]
pub async fn fail() -> Result<String, ToolError> {
    Err(ToolError::new("the disk is on fire"))
}

/// Reports progress three times.
#[mcp_tool]
pub async fn progress(ctx: Context) -> &'static str {
    for i in 1..=3 {
        ctx.progress(f64::from(i), Some(3.0), None);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    "done"
}

/// Logs at info and at error.
#[mcp_tool]
pub async fn logs(ctx: Context) -> &'static str {
    ctx.info("an info line");
    ctx.error("an error line");
    tokio::time::sleep(Duration::from_millis(10)).await;
    "logged"
}

/// Set when `wait` is dropped (its future cancelled).
#[derive(Default)]
pub struct Dropped {
    pub flag: Arc<AtomicBool>,
}

struct SetOnDrop(Arc<AtomicBool>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Waits until cancelled.
#[mcp_tool]
pub async fn wait(dropped: State<Dropped>) -> &'static str {
    let _guard = SetOnDrop(dropped.flag.clone());
    tokio::time::sleep(Duration::from_secs(3600)).await;
    "never"
}

/// Panics.
#[mcp_tool]
pub async fn boom() -> String {
    panic!("boom")
}

/// A server with every fixture tool.
pub fn builder() -> (McpServerBuilder, Arc<AtomicBool>) {
    let dropped = Dropped::default();
    let flag = dropped.flag.clone();
    let b = McpServer::builder()
        .name("it")
        .version("0.0.1")
        .instructions("test server")
        .state(dropped)
        .tools(tools![echo, add, search, fail, progress, logs, wait, boom]);
    (b, flag)
}
