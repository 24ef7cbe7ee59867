//! The server under test for the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`): every tool its server scenarios call, with the names
//! and contents the scenarios expect. `PORT` sets the port (default 3000).

use std::time::Duration;

mod stateless;
mod tasks;

use mcp_runtime::prelude::*;
use mcp_runtime::{
    Completion, CompletionRequest, Elicitation, Prompt, PromptMessage, PromptRequest, Resource,
    ResourceRequest, Sampling,
};
use stateless::*;
use tasks::*;

/// A 1x1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A 44-byte WAV header (8 kHz mono, 16-bit).
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Returns a simple text response.
#[mcp_tool]
async fn test_simple_text() -> &'static str {
    "This is a simple text response for testing."
}

/// Returns an image.
#[mcp_tool]
async fn test_image_content() -> Content {
    Content::image_base64(PNG, "image/png")
}

/// Returns audio.
#[mcp_tool]
async fn test_audio_content() -> Content {
    Content::audio_base64(WAV, "audio/wav")
}

/// Returns an embedded resource.
#[mcp_tool]
async fn test_embedded_resource() -> Content {
    Content::embedded_text(
        "test://embedded-resource",
        "text/plain",
        "This is an embedded resource content.",
    )
}

/// Returns text, an image and an embedded resource.
#[mcp_tool]
async fn test_multiple_content_types() -> Vec<Content> {
    vec![
        Content::text("Multiple content types test:"),
        Content::image_base64(PNG, "image/png"),
        Content::embedded_text(
            "test://mixed-content-resource",
            "application/json",
            r#"{"test":"data","value":123}"#,
        ),
    ]
}

/// Sends log messages while it runs.
#[mcp_tool]
async fn test_tool_with_logging(ctx: Context) -> &'static str {
    ctx.info("Tool execution started");
    tokio::time::sleep(Duration::from_millis(50)).await;
    ctx.info("Tool processing data");
    tokio::time::sleep(Duration::from_millis(50)).await;
    ctx.info("Tool execution completed");
    "Tool with logging executed successfully"
}

/// Reports progress while it runs.
#[mcp_tool]
async fn test_tool_with_progress(ctx: Context) -> &'static str {
    for step in [0.0, 50.0, 100.0] {
        ctx.progress(
            step,
            Some(100.0),
            Some(&format!("Completed step {step} of 100")),
        );
        if step < 100.0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    "Progress reporting completed"
}

/// Always fails with a tool error.
#[mcp_tool]
async fn test_error_handling() -> Result<String, ToolError> {
    Err(ToolError::new(
        "This tool intentionally returns an error for testing",
    ))
}

/// A street address (a `$defs` entry of the schema below, with an `$anchor`).
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[schemars(rename = "address", extend("$anchor" = "addressDef"))]
#[allow(dead_code)]
struct Address {
    street: Option<String>,
    city: Option<String>,
}

/// How to reach someone.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum ContactMethod {
    Phone,
    Email,
}

/// The input of `json_schema_2020_12_tool`: its schema names its dialect, keeps the address in
/// `$defs` (with an `$anchor`), allows no other properties, and uses composition (`allOf`,
/// `anyOf`) and conditional (`if`/`then`/`else`) keywords (SEP-1613, SEP-2106).
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[schemars(extend(
    "$schema" = "https://json-schema.org/draft/2020-12/schema",
    "allOf" = [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if" = {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then" = {"required": ["phone"]},
    "else" = {"required": ["email"]},
))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct Person {
    name: Option<String>,
    address: Option<Address>,
    contact_method: Option<ContactMethod>,
    phone: Option<String>,
    email: Option<String>,
}

/// Tool with JSON Schema 2020-12 features
#[mcp_tool]
async fn json_schema_2020_12_tool(Input(person): Input<Person>) -> String {
    format!("hello {}", person.name.unwrap_or_default())
}

/// Asks the client's LLM to answer a prompt
#[mcp_tool]
async fn test_sampling(ctx: Context, prompt: String) -> Result<String, ToolError> {
    let answer = ctx.sample(Sampling::new(100).user(prompt)).await?;
    Ok(format!("LLM response: {}", answer.text()))
}

/// The form of `test_elicitation`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct UserInfo {
    /// User's response
    username: String,
    /// User's email address
    email: String,
}

/// Asks the user for a name and an email address
#[mcp_tool]
async fn test_elicitation(ctx: Context, message: String) -> Result<String, ToolError> {
    let answer = ctx.elicit::<UserInfo>(message).await?;
    Ok(match answer {
        Elicitation::Accept(info) => format!(
            "User response: action=accept, content={{username: {}, email: {}}}",
            info.username, info.email
        ),
        other => format!("User response: action={}", other.action()),
    })
}

/// The statuses of `Defaults` (`Serialize`, so that its default is written in the schema).
#[derive(serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Status {
    Active,
    Inactive,
    Pending,
}

/// A form whose every field has a default (SEP-1034).
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Defaults {
    #[serde(default = "defaults::name")]
    name: String,
    #[serde(default = "defaults::age")]
    age: i64,
    #[serde(default = "defaults::score")]
    score: f64,
    #[serde(default = "defaults::status")]
    status: Status,
    #[serde(default = "defaults::verified")]
    verified: bool,
}

mod defaults {
    pub fn name() -> String {
        "John Doe".into()
    }
    pub fn age() -> i64 {
        30
    }
    pub fn score() -> f64 {
        95.5
    }
    pub fn status() -> super::Status {
        super::Status::Active
    }
    pub fn verified() -> bool {
        true
    }
}

/// Elicits a form whose fields all have defaults
#[mcp_tool]
async fn test_elicitation_sep1034_defaults(ctx: Context) -> Result<String, ToolError> {
    let answer = ctx.elicit::<Defaults>("Please review your details").await?;
    Ok(format!(
        "Elicitation completed: action={}, content={{name: {}}}",
        answer.action(),
        answer.accepted().map(|d| d.name).unwrap_or_default()
    ))
}

/// Elicits a form with each kind of enum (SEP-1330), written by hand: the legacy
/// `enumNames` form is not one a Rust type generates.
#[mcp_tool]
async fn test_elicitation_sep1330_enums(ctx: Context) -> Result<String, ToolError> {
    let options = |names: [&str; 3], titles: [&str; 3]| -> Vec<serde_json::Value> {
        names
            .iter()
            .zip(titles)
            .map(|(c, t)| serde_json::json!({"const": c, "title": t}))
            .collect()
    };
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
            "titledSingle": {"type": "string", "oneOf":
                options(["value1", "value2", "value3"], ["First Option", "Second Option", "Third Option"])},
            "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                           "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array",
                              "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {"type": "array", "items": {"anyOf":
                options(["value1", "value2", "value3"], ["First Choice", "Second Choice", "Third Choice"])}},
        },
    });
    let answer = ctx.elicit_schema("Choose your options", schema).await?;
    let content = match &answer {
        Elicitation::Accept(v) => v.to_string(),
        _ => "{}".into(),
    };
    Ok(format!(
        "Elicitation completed: action={}, content={content}",
        answer.action()
    ))
}

/// Closes its SSE stream mid-call; the client resumes it for the response (SEP-1699)
#[mcp_tool]
async fn test_reconnection(ctx: Context) -> &'static str {
    ctx.close_sse_stream(Duration::from_millis(500));
    tokio::time::sleep(Duration::from_millis(200)).await;
    "Reconnection test completed"
}

#[mcp_server(
    name = "mcp-runtime-conformance",
    version = "1.0.0",
    tools = [
        test_simple_text,
        test_image_content,
        test_audio_content,
        test_embedded_resource,
        test_multiple_content_types,
        test_tool_with_logging,
        test_tool_with_progress,
        test_error_handling,
        json_schema_2020_12_tool,
        test_sampling,
        test_elicitation,
        test_elicitation_sep1034_defaults,
        test_elicitation_sep1330_enums,
        test_reconnection,
        test_missing_capability,
        test_logging_tool,
        test_input_required_result_elicitation,
        test_input_required_result_sampling,
        test_input_required_result_list_roots,
        test_input_required_result_request_state,
        test_input_required_result_multiple_inputs,
        test_input_required_result_multi_round,
        test_input_required_result_tampered_state,
        test_input_required_result_capabilities,
        test_streaming_elicitation,
        test_trigger_tool_change,
        test_trigger_prompt_change,
        test_custom_header,
        greet,
        slow_compute,
        failing_job,
        protocol_error_job,
        confirm_delete,
        multi_input,
        test_tool_with_task,
    ]
)]
struct Conformance;

/// The resources the resource scenarios read.
fn resources() -> Vec<Resource> {
    vec![
        Resource::new("test://static-text", "static text")
            .description("A static text resource")
            .mime_type("text/plain")
            .read(|_r: ResourceRequest| async {
                Ok::<_, ToolError>("This is the content of the static text resource.")
            }),
        Resource::new("test://static-binary", "static binary")
            .description("A static binary resource (a 1x1 PNG)")
            .mime_type("image/png")
            .read(|_r: ResourceRequest| async {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(PNG)
                    .map_err(|e| ToolError::new(format!("bad PNG constant: {e}")))
            }),
        Resource::new("test://watched-resource", "watched resource")
            .description("A resource clients subscribe to")
            .mime_type("text/plain")
            .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("watched") }),
        Resource::template("test://template/{id}/data", "templated data")
            .description("A resource template with an id")
            .complete("id", |r: CompletionRequest| async move {
                Ok::<_, ToolError>(Completion::matching(&r.value, ["1", "2", "42", "123"]))
            })
            .mime_type("application/json")
            .read(|r: ResourceRequest| async move {
                let id = r.params.get("id").cloned().unwrap_or_default();
                Ok::<_, ToolError>(
                    serde_json::json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")})
                        .to_string(),
                )
            }),
    ]
}

/// The prompts the prompt scenarios get.
fn prompts() -> Vec<Prompt> {
    vec![
        Prompt::new("test_input_required_result_prompt")
            .description("A prompt that asks the user for its context (2026-07-28)")
            .get(|r: PromptRequest| async move {
                let answer = r
                    .context
                    .input("user_context")
                    .elicit_schema(
                        "What context should the prompt use?",
                        serde_json::json!({"type": "object",
                            "properties": {"context": {"type": "string"}}, "required": ["context"]}),
                    )
                    .await?;
                let context = match answer {
                    Elicitation::Accept(v) => v["context"].as_str().unwrap_or("").to_owned(),
                    other => other.action().to_owned(),
                };
                Ok::<_, ToolError>(vec![PromptMessage::user(Content::text(format!(
                    "Use this context: {context}"
                )))])
            }),
        Prompt::new("test_simple_prompt")
            .description("A simple prompt without arguments")
            .get(|_r: PromptRequest| async {
                Ok::<_, ToolError>(vec![PromptMessage::user(Content::text(
                    "This is a simple prompt for testing.",
                ))])
            }),
        Prompt::new("test_prompt_with_arguments")
            .description("A prompt with two required arguments")
            .argument("arg1", "First test argument", true)
            .argument("arg2", "Second test argument", true)
            .complete("arg1", |r: CompletionRequest| async move {
                Ok::<_, ToolError>(Completion::matching(
                    &r.value,
                    ["paris", "park", "party", "test", "testing"],
                ))
            })
            .get(|r: PromptRequest| async move {
                Ok::<_, ToolError>(vec![PromptMessage::user(Content::text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    r.arguments["arg1"], r.arguments["arg2"]
                )))])
            }),
        Prompt::new("test_prompt_with_embedded_resource")
            .description("A prompt embedding a resource")
            .argument("resourceUri", "URI of the resource to embed", true)
            .get(|r: PromptRequest| async move {
                Ok::<_, ToolError>(vec![
                    PromptMessage::user(Content::embedded_text(
                        r.arguments["resourceUri"].clone(),
                        "text/plain",
                        "Embedded resource content for testing.",
                    )),
                    PromptMessage::user(Content::text(
                        "Please process the embedded resource above.",
                    )),
                ])
            }),
        Prompt::new("test_prompt_with_image")
            .description("A prompt with an image")
            .get(|_r: PromptRequest| async {
                Ok::<_, ToolError>(vec![
                    PromptMessage::user(Content::image_base64(PNG, "image/png")),
                    PromptMessage::user(Content::text("Please analyze the image above.")),
                ])
            }),
    ]
}

fn main() -> Result<(), ServeError> {
    mcp_runtime::config::load_dotenv();
    mcp_runtime::config::init_tracing();
    let server = Conformance::builder()
        .with_env()
        .resources(resources())
        .prompts(prompts())
        .build()?;
    let _ = SERVER.set(server.clone());
    server.run()
}
