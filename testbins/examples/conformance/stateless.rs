//! The conformance server's tools for the 2026-07-28 revision: input-required results,
//! capability checks, per-request logging and run-time list changes.

use mcp_runtime::prelude::*;
use mcp_runtime::{Elicitation, Prompt, PromptRequest, Sampling};

/// Needs the client's sampling capability (2026-07-28: -32021 without it)
#[mcp_tool]
pub(crate) async fn test_missing_capability(ctx: Context) -> Result<String, ToolError> {
    let answer = ctx.sample(Sampling::new(10).user("hello")).await?;
    Ok(answer.text())
}

/// Logs one line at info
#[mcp_tool]
pub(crate) async fn test_logging_tool(ctx: Context) -> &'static str {
    ctx.info("a log line");
    "logged"
}

/// A form with one required string field.
fn one_field(field: &str, kind: &str) -> serde_json::Value {
    serde_json::json!({"type": "object", "properties": {field: {"type": kind}}, "required": [field]})
}

/// The name in an accepted form, or the action.
fn name_of(answer: &Elicitation<serde_json::Value>, field: &str) -> String {
    match answer {
        Elicitation::Accept(v) => v[field].as_str().unwrap_or("").to_owned(),
        other => other.action().to_owned(),
    }
}

/// Input required (2026-07-28): asks the user's name
#[mcp_tool]
pub(crate) async fn test_input_required_result_elicitation(
    ctx: Context,
) -> Result<String, ToolError> {
    let answer = ctx
        .input("user_name")
        .elicit_schema("What is your name?", one_field("name", "string"))
        .await?;
    Ok(format!("Hello, {}!", name_of(&answer, "name")))
}

/// Input required (2026-07-28): asks the client's LLM
#[mcp_tool]
pub(crate) async fn test_input_required_result_sampling(ctx: Context) -> Result<String, ToolError> {
    let answer = ctx
        .input("capital_question")
        .sample(Sampling::new(100).user("What is the capital of France?"))
        .await?;
    Ok(format!("The model says: {}", answer.text()))
}

/// Input required (2026-07-28): asks for the client's roots
#[mcp_tool]
pub(crate) async fn test_input_required_result_list_roots(
    ctx: Context,
) -> Result<String, ToolError> {
    let roots = ctx.input("client_roots").roots().await?;
    let uris: Vec<&str> = roots.iter().map(|r| r.uri.as_str()).collect();
    Ok(format!("Roots: {}", uris.join(", ")))
}

/// Input required (2026-07-28): a confirmation, with the signed request state
#[mcp_tool]
pub(crate) async fn test_input_required_result_request_state(
    ctx: Context,
) -> Result<String, ToolError> {
    let answer = ctx
        .input("confirm")
        .elicit_schema("Please confirm", one_field("ok", "boolean"))
        .await?;
    Ok(format!("state-ok: confirmed ({})", answer.action()))
}

/// Input required (2026-07-28): three inputs at once
#[mcp_tool]
pub(crate) async fn test_input_required_result_multiple_inputs(
    ctx: Context,
) -> Result<String, ToolError> {
    let (name, greeting, roots) = tokio::join!(
        ctx.input("user_name")
            .elicit_schema("What is your name?", one_field("name", "string")),
        ctx.input("greeting")
            .sample(Sampling::new(50).user("Generate a greeting")),
        ctx.input("client_roots").roots(),
    );
    Ok(format!(
        "{} {} ({} roots)",
        greeting?.text(),
        name_of(&name?, "name"),
        roots?.len()
    ))
}

/// Input required (2026-07-28): two rounds, one after the other
#[mcp_tool]
pub(crate) async fn test_input_required_result_multi_round(
    ctx: Context,
) -> Result<String, ToolError> {
    let name = ctx
        .input("step1")
        .elicit_schema("Step 1: What is your name?", one_field("name", "string"))
        .await?;
    let color = ctx
        .input("step2")
        .elicit_schema(
            "Step 2: What is your favorite color?",
            one_field("color", "string"),
        )
        .await?;
    Ok(format!(
        "{} likes {}",
        name_of(&name, "name"),
        name_of(&color, "color")
    ))
}

/// Input required (2026-07-28): the state is signed, so a tampered one is refused
#[mcp_tool]
pub(crate) async fn test_input_required_result_tampered_state(
    ctx: Context,
) -> Result<String, ToolError> {
    let answer = ctx
        .input("confirm")
        .elicit_schema("Please confirm", one_field("ok", "boolean"))
        .await?;
    Ok(format!("confirmed ({})", answer.action()))
}

/// Input required (2026-07-28): asks only for what the client declared
#[mcp_tool]
pub(crate) async fn test_input_required_result_capabilities(
    ctx: Context,
) -> Result<String, ToolError> {
    let mut said = Vec::new();
    let sample = async {
        match ctx.client_can_sample() {
            true => Some(
                ctx.input("greeting")
                    .sample(Sampling::new(20).user("Hi"))
                    .await,
            ),
            false => None,
        }
    };
    let elicit = async {
        match ctx.client_can_elicit() {
            true => Some(
                ctx.input("user_name")
                    .elicit_schema("What is your name?", one_field("name", "string"))
                    .await,
            ),
            false => None,
        }
    };
    let (sampled, elicited) = tokio::join!(sample, elicit);
    if let Some(s) = sampled {
        said.push(s?.text());
    }
    if let Some(e) = elicited {
        said.push(name_of(&e?, "name"));
    }
    Ok(format!("answers: {}", said.join(", ")))
}

/// Input required (2026-07-28), after a log line: the response stream carries only
/// notifications and the result
#[mcp_tool]
pub(crate) async fn test_streaming_elicitation(ctx: Context) -> Result<String, ToolError> {
    ctx.progress(1.0, None, Some("starting"));
    let answer = ctx
        .input("streamed")
        .elicit_schema("Anything to add?", one_field("text", "string"))
        .await?;
    Ok(format!("done ({})", answer.action()))
}

/// The running server, for the tools that change its lists.
pub(crate) static SERVER: std::sync::OnceLock<McpServer> = std::sync::OnceLock::new();

/// A tool that comes and goes
#[mcp_tool]
pub(crate) async fn dynamic_tool() -> &'static str {
    "here for now"
}

/// Adds or removes `dynamic_tool` (list changes reach `subscriptions/listen` streams)
#[mcp_tool]
pub(crate) async fn test_trigger_tool_change() -> Result<String, ToolError> {
    let server = SERVER.get().ok_or("the server is not running")?;
    if server.remove_tool("dynamic_tool") {
        return Ok("removed dynamic_tool".into());
    }
    server
        .add_tool(<dynamic_tool as ToolDef>::tool())
        .map_err(|e| ToolError::new(e.to_string()))?;
    Ok("added dynamic_tool".into())
}

/// Adds or removes the prompt `dynamic_prompt`
#[mcp_tool]
pub(crate) async fn test_trigger_prompt_change() -> Result<String, ToolError> {
    let server = SERVER.get().ok_or("the server is not running")?;
    if server.remove_prompt("dynamic_prompt") {
        return Ok("removed dynamic_prompt".into());
    }
    server
        .add_prompt(
            Prompt::new("dynamic_prompt")
                .description("A prompt that comes and goes")
                .get(|_r: PromptRequest| async {
                    Ok::<_, ToolError>(vec![PromptMessage::user(Content::text("dynamic"))])
                }),
        )
        .map_err(|e| ToolError::new(e.to_string()))?;
    Ok("added dynamic_prompt".into())
}

/// Sends its region also as the `Mcp-Param-Region` header (SEP-2243)
#[mcp_tool]
pub(crate) async fn test_custom_header(#[header("Region")] region: String) -> String {
    format!("region: {region}")
}
