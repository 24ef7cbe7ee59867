//! `#[mcp_resource]` and `#[mcp_prompt]` over real HTTP: template variables parsed into the
//! parameters' types (a value that does not parse is named), `Auth` and the request as
//! parameters, the return conversions, `#[complete]` on variables and arguments, and a scoped
//! macro resource answering 403 with a step-up challenge.

use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use mcp_runtime::{Completion, CompletionRequest, PromptRequest, ResourceRequest};
use serde_json::json;

use crate::common::*;

async fn ids(req: CompletionRequest) -> Result<Completion, ToolError> {
    Ok(Completion::matching(&req.value, ["7", "70", "8"]))
}

/// An order, as JSON
#[mcp_resource(uri = "orders://{id}/lines/{line}", mime_type = "application/json")]
async fn order_line(
    #[complete(ids)] id: u32,
    line: String,
    req: ResourceRequest,
) -> Json<serde_json::Value> {
    Json(json!({"id": id, "line": line, "uri": req.uri}))
}

/// Who reads
#[mcp_resource(uri = "me://whoami", scopes = "profile:read")]
async fn whoami(auth: Auth) -> String {
    auth.user.user_id.clone()
}

/// Raw bytes, or a failure
#[mcp_resource(uri = "blob://{name}", name = "blob", title = "A blob")]
async fn blob(name: String) -> Result<Vec<u8>, String> {
    if name == "missing" {
        return Err(format!("no blob `{name}`"));
    }
    Ok(name.into_bytes())
}

async fn moods(_req: CompletionRequest) -> Result<Vec<&'static str>, ToolError> {
    Ok(vec!["calm", "curious"])
}

/// Write a haiku
#[mcp_prompt(name = "haiku", title = "Haiku")]
async fn haiku_prompt(
    /// The subject
    subject: String,
    /// A mood
    #[complete(moods)]
    mood: Option<String>,
    req: PromptRequest,
) -> Result<Vec<PromptMessage>, ToolError> {
    if subject.is_empty() {
        return Err(ToolError::new("the subject must not be empty"));
    }
    Ok(vec![
        PromptMessage::user(Content::text(format!(
            "A {} haiku about {subject}",
            mood.unwrap_or_else(|| "plain".into())
        ))),
        PromptMessage::assistant(Content::text(format!(
            "({} arguments)",
            req.arguments.len()
        ))),
    ])
}

#[mcp_server(
    name = "items",
    resources = [order_line, blob],
    prompts = [haiku_prompt]
)]
struct Items;

#[tokio::test]
async fn macro_resources_and_prompts_are_listed_read_and_completed() {
    let server = start(Items::builder());
    let c = Client::connect(&server, V_LATEST).await;
    let templates = c.rpc(1, "resources/templates/list", json!({})).await;
    assert_eq!(
        templates["result"]["resourceTemplates"],
        json!([
            {"uriTemplate": "orders://{id}/lines/{line}", "name": "order_line",
             "description": "An order, as JSON", "mimeType": "application/json"},
            {"uriTemplate": "blob://{name}", "name": "blob", "title": "A blob",
             "description": "Raw bytes, or a failure"},
        ])
    );
    let read = c
        .rpc(2, "resources/read", json!({"uri": "orders://7/lines/a"}))
        .await;
    let text = read["result"]["contents"][0]["text"]
        .as_str()
        .expect("text");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(text).expect("JSON"),
        json!({"id": 7, "line": "a", "uri": "orders://7/lines/a"})
    );
    let bad = c
        .rpc(3, "resources/read", json!({"uri": "orders://x7/lines/a"}))
        .await;
    let message = bad["error"]["message"].as_str().expect("an error");
    assert!(
        message.contains(
            "resource `orders://x7/lines/a`: `id` = `x7` is not a valid u32: invalid digit"
        ),
        "{message}"
    );
    let bytes = c
        .rpc(4, "resources/read", json!({"uri": "blob://ab"}))
        .await;
    assert_eq!(bytes["result"]["contents"][0]["blob"], "YWI=");
    let failed = c
        .rpc(5, "resources/read", json!({"uri": "blob://missing"}))
        .await;
    assert!(
        failed["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no blob `missing`")),
        "{failed}"
    );

    let prompts = c.rpc(6, "prompts/list", json!({})).await;
    assert_eq!(
        prompts["result"]["prompts"],
        json!([{"name": "haiku", "title": "Haiku", "description": "Write a haiku", "arguments": [
            {"name": "subject", "description": "The subject", "required": true},
            {"name": "mood", "description": "A mood", "required": false},
        ]}])
    );
    let got = c
        .rpc(
            7,
            "prompts/get",
            json!({"name": "haiku", "arguments": {"subject": "rust"}}),
        )
        .await;
    assert_eq!(
        got["result"]["messages"][0]["content"]["text"],
        "A plain haiku about rust"
    );
    assert_eq!(
        got["result"]["messages"][1]["content"]["text"],
        "(1 arguments)"
    );
    let refused = c
        .rpc(
            8,
            "prompts/get",
            json!({"name": "haiku", "arguments": {"subject": ""}}),
        )
        .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("the subject must not be empty")),
        "{refused}"
    );

    let complete = |reference: serde_json::Value, name: &str, value: &str| json!({"ref": reference, "argument": {"name": name, "value": value}});
    let r = c
        .rpc(
            9,
            "completion/complete",
            complete(
                json!({"type": "ref/resource", "uri": "orders://{id}/lines/{line}"}),
                "id",
                "7",
            ),
        )
        .await;
    assert_eq!(r["result"]["completion"]["values"], json!(["7", "70"]));
    let r = c
        .rpc(
            10,
            "completion/complete",
            complete(json!({"type": "ref/prompt", "name": "haiku"}), "mood", ""),
        )
        .await;
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["calm", "curious"])
    );
    server.stop().await;
}

#[tokio::test]
async fn a_scoped_macro_resource_steps_up_and_takes_the_caller() {
    let oauth = DevProvider::new()
        .auto_approve(true)
        .access_token_ttl(Duration::from_secs(3600))
        .into_oauth()
        .expect("dev server");
    let server = start(
        McpServer::builder()
            .oauth(oauth)
            .resource(<whoami as ResourceDef>::resource()),
    );
    let token = crate::client::first_token(&server.url()).await;
    let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
    let r = c
        .post_raw(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read",
                          "params": {"uri": "me://whoami"}}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"]["message"],
        "resource `me://whoami`: missing required scope: profile:read"
    );
    const { assert!(<whoami as ResourceDef>::NEEDS_AUTH) };
    const { assert!(!<blob as ResourceDef>::NEEDS_AUTH) };
    server.stop().await;
}
