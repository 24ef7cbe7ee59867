//! Prompts over real HTTP: listed with their arguments, got with checked arguments (missing,
//! unknown and non-string ones refused with messages that name them), build errors naming the
//! prompt, and a scope-guarded prompt answering 403 with a step-up challenge.

use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use mcp_runtime::{Prompt, PromptMessage, PromptRequest};
use serde_json::json;

use crate::common::*;

fn review() -> Prompt {
    Prompt::new("review")
        .title("Code review")
        .description("Review a change")
        .argument("diff", "The change", true)
        .argument("tone", "", false)
        .get(|r: PromptRequest| async move {
            Ok::<_, ToolError>(vec![
                PromptMessage::user(Content::text(format!("Review:\n{}", r.arguments["diff"]))),
                PromptMessage::assistant(Content::text(format!(
                    "Tone: {}",
                    r.arguments.get("tone").map_or("neutral", String::as_str)
                ))),
            ])
        })
}

#[tokio::test]
async fn prompts_are_listed_and_got_with_checked_arguments() {
    let server = start(McpServer::builder().prompt(review()));
    let c = Client::connect(&server, V_LATEST).await;
    let list = c.rpc(1, "prompts/list", json!({})).await;
    assert_eq!(
        list["result"]["prompts"],
        json!([{"name": "review", "title": "Code review", "description": "Review a change",
                "arguments": [{"name": "diff", "required": true, "description": "The change"},
                              {"name": "tone", "required": false}]}])
    );
    let got = c
        .rpc(
            2,
            "prompts/get",
            json!({"name": "review", "arguments": {"diff": "+x"}}),
        )
        .await;
    assert_eq!(
        got["result"],
        json!({"description": "Review a change", "messages": [
            {"role": "user", "content": {"type": "text", "text": "Review:\n+x"}},
            {"role": "assistant", "content": {"type": "text", "text": "Tone: neutral"}}]})
    );
    for (args, message) in [
        (
            json!({}),
            "prompt `review`: the argument `diff` is required",
        ),
        (
            json!({"diff": "x", "mood": "y"}),
            "prompt `review` has no argument `mood` (it has: diff, tone)",
        ),
        (
            json!({"diff": 3}),
            "prompt `review`: argument `diff` must be a string",
        ),
    ] {
        let r = c
            .rpc(
                3,
                "prompts/get",
                json!({"name": "review", "arguments": args}),
            )
            .await;
        assert_eq!(r["error"]["code"], -32602);
        assert_eq!(r["error"]["message"], message);
    }
    let r = c.rpc(4, "prompts/get", json!({"name": "nope"})).await;
    assert_eq!(
        r["error"]["message"],
        "prompts/get: no prompt named `nope` (prompts: review)"
    );
    server.stop().await;
}

#[test]
fn bad_prompts_are_named_when_the_server_is_built() {
    let get = |_r: PromptRequest| async { Ok::<_, ToolError>(Vec::new()) };
    let err = McpServer::builder()
        .prompt(Prompt::new("a").get(get))
        .prompt(Prompt::new("a").get(get))
        .prompt(Prompt::new("b"))
        .prompt(
            Prompt::new("c")
                .argument("x", "", true)
                .argument("x", "", false)
                .get(get),
        )
        .build()
        .expect_err("refused");
    let text = err.to_string();
    for expected in [
        "two prompts are named `a`",
        "prompt `b` has no get function",
        "prompt `c` declares the argument `x` twice",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

#[tokio::test]
async fn a_scoped_prompt_answers_403_with_a_step_up_challenge() {
    let oauth = DevProvider::new()
        .auto_approve(true)
        .access_token_ttl(Duration::from_secs(3600))
        .into_oauth()
        .expect("dev server");
    let server = start(
        McpServer::builder()
            .oauth(oauth)
            .prompt(review().scopes(["reviews:write"])),
    );
    let token = crate::client::first_token(&server.url()).await;
    let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
    let r = c
        .post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get",
                          "params": {"name": "review", "arguments": {"diff": "x"}}}))
        .await;
    assert_eq!(r.status, 403);
    let challenge = r
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#)
            && challenge.contains("reviews:write\""),
        "{challenge}"
    );
    assert_eq!(
        r.json()["error"]["message"],
        "prompt `review`: missing required scope: reviews:write"
    );
    server.stop().await;
}
