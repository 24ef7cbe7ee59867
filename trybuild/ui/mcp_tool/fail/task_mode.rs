use mcp_runtime::prelude::*;

/// A task mode that does not exist.
#[mcp_tool(task = "sometimes")]
async fn report() -> &'static str {
    "done"
}

/// A start without a task.
#[mcp_tool(task_start = "explicit")]
async fn reindex() -> &'static str {
    "done"
}

/// A start that does not exist.
#[mcp_tool(task = "optional", task_start = "later")]
async fn rebuild() -> &'static str {
    "done"
}

fn main() {}
