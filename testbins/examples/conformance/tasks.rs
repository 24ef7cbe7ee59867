//! The tools the tasks scenarios call (2026-07-28's tasks extension, SEP-2663).

use std::time::Duration;

use mcp_runtime::Elicitation;
use mcp_runtime::prelude::*;

/// Greets someone (never a task).
#[mcp_tool]
pub async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

/// Waits `seconds`, then says so: a task when the client supports tasks.
#[mcp_tool(task = "optional")]
pub async fn slow_compute(seconds: u64, label: Option<String>) -> String {
    tokio::time::sleep(Duration::from_secs(seconds.min(3600))).await;
    format!(
        "Computed {} after {seconds}s",
        label.as_deref().unwrap_or("result")
    )
}

/// Fails as a tool after a second (a task, always).
#[mcp_tool(task = "required")]
pub async fn failing_job() -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err(ToolError::new(
        "the job failed: the input could not be processed",
    ))
}

/// Panics: a protocol error, so the task fails.
#[mcp_tool(task = "optional")]
pub async fn protocol_error_job() -> String {
    tokio::time::sleep(Duration::from_millis(100)).await;
    panic!("protocol_error_job always panics")
}

/// The answer to a confirmation.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Confirm {
    /// Whether to go ahead
    #[serde(default)]
    confirm: bool,
}

/// Asks before deleting `filename` (the question waits in the task).
#[mcp_tool(task = "optional")]
pub async fn confirm_delete(ctx: Context, filename: String) -> Result<String, ToolError> {
    Ok(
        match ctx.elicit::<Confirm>(format!("Delete {filename}?")).await? {
            Elicitation::Accept(Confirm { confirm: true }) => format!("Deleted {filename}"),
            _ => format!("Kept {filename}"),
        },
    )
}

/// One of the answers `multi_input` asks for.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Part {
    /// A name
    #[serde(default)]
    name: Option<String>,
    /// Whether to go ahead
    #[serde(default)]
    confirm: Option<bool>,
}

/// Asks two questions at once.
#[mcp_tool(task = "optional")]
pub async fn multi_input(ctx: Context) -> Result<String, ToolError> {
    let (a, b) = tokio::join!(
        ctx.elicit::<Part>("First part?"),
        ctx.elicit::<Part>("Second part?")
    );
    let name = |e: Elicitation<Part>| match e {
        Elicitation::Accept(Part {
            name,
            confirm: Some(false),
        }) => format!("{} (declined)", name.unwrap_or_default()),
        Elicitation::Accept(p) => p.name.unwrap_or_default(),
        other => other.action().to_owned(),
    };
    Ok(format!("Got {} and {}", name(a?), name(b?)))
}

/// A user's name.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct UserName {
    /// Your name
    name: String,
}

/// Asks for a name on the request itself, then works on it as a task.
#[mcp_tool(task = "required", task_start = "explicit")]
pub async fn test_tool_with_task(ctx: Context) -> Result<String, ToolError> {
    let name = match ctx
        .input("user_name")
        .elicit::<UserName>("What is your name?")
        .await?
    {
        Elicitation::Accept(u) => u.name,
        other => return Ok(format!("No name ({})", other.action())),
    };
    ctx.start_task().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(format!("Hello, {name}! (finished as a task)"))
}
