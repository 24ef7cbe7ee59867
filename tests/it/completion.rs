//! `completion/complete` over real HTTP: prompt arguments and template variables completed
//! from what was typed (and the arguments already chosen), the capability announced only with
//! completers, every malformed or unknown reference refused by name, answers capped at 100
//! values, completers for arguments that do not exist refused at build, and a scoped prompt's
//! completion guarded like the prompt itself.

use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use mcp_runtime::{
    Completion, CompletionRequest, Prompt, PromptRequest, Resource, ResourceRequest,
};
use serde_json::{Value, json};

use crate::common::*;

const CITIES: [&str; 5] = ["Paris", "Porto", "Prague", "Oslo", "Perth"];

fn weather() -> Prompt {
    Prompt::new("weather")
        .argument("country", "A country", false)
        .argument("city", "A city", true)
        .argument("units", "metric or imperial", false)
        .complete("city", |req: CompletionRequest| async move {
            // The country chosen already narrows the cities.
            let cities: Vec<&str> = match req.context.get("country").map(String::as_str) {
                Some("Portugal") => vec!["Porto"],
                _ => CITIES.to_vec(),
            };
            Ok::<_, ToolError>(Completion::matching(&req.value, cities))
        })
        .get(|_r: PromptRequest| async { Ok::<_, ToolError>(Vec::new()) })
}

fn users() -> Resource {
    Resource::template("users://{id}/profile", "profile")
        .complete("id", |req: CompletionRequest| async move {
            if req.value == "boom" {
                return Err(ToolError::new("the directory is down"));
            }
            Ok::<_, ToolError>(Completion::new(
                (0..250).map(|i| format!("{}{i}", req.value)),
            ))
        })
        .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("{}") })
}

fn complete(reference: Value, name: &str, value: &str) -> Value {
    json!({"ref": reference, "argument": {"name": name, "value": value}})
}

#[tokio::test]
async fn arguments_and_variables_complete_from_what_was_typed() {
    let server = start(McpServer::builder().prompt(weather()).resource(users()));
    let c = Client::connect(&server, V_LATEST).await;
    let init = Client::new(&server)
        .post_raw(&init_body(V_LATEST))
        .await
        .json();
    assert_eq!(init["result"]["capabilities"]["completions"], json!({}));

    let prompt = json!({"type": "ref/prompt", "name": "weather"});
    let r = c
        .rpc(
            1,
            "completion/complete",
            complete(prompt.clone(), "city", "p"),
        )
        .await;
    assert_eq!(
        r["result"],
        json!({"completion": {"values": ["Paris", "Porto", "Prague", "Perth"], "hasMore": false}})
    );
    let mut with_context = complete(prompt.clone(), "city", "p");
    with_context["context"] = json!({"arguments": {"country": "Portugal"}});
    let r = c.rpc(2, "completion/complete", with_context).await;
    assert_eq!(r["result"]["completion"]["values"], json!(["Porto"]));
    // An argument without a completer: no suggestions.
    let r = c
        .rpc(
            3,
            "completion/complete",
            complete(prompt.clone(), "units", ""),
        )
        .await;
    assert_eq!(r["result"]["completion"]["values"], json!([]));

    let template = json!({"type": "ref/resource", "uri": "users://{id}/profile"});
    let r = c
        .rpc(
            4,
            "completion/complete",
            complete(template.clone(), "id", "u"),
        )
        .await;
    let completion = &r["result"]["completion"];
    assert_eq!(completion["values"].as_array().map(Vec::len), Some(100));
    assert_eq!(completion["values"][0], "u0");
    assert_eq!(
        (
            completion["total"].as_u64(),
            completion["hasMore"].as_bool()
        ),
        (Some(250), Some(true))
    );
    let r = c
        .rpc(
            5,
            "completion/complete",
            complete(template.clone(), "id", "boom"),
        )
        .await;
    assert_eq!(r["error"]["code"], -32603);
    assert_eq!(
        r["error"]["message"],
        "completing `id` of resource `users://{id}/profile` failed: the directory is down"
    );

    for (params, message) in [
        (
            complete(json!({"type": "ref/prompt", "name": "nope"}), "city", ""),
            "completion/complete: no prompt named `nope` (prompts: weather)",
        ),
        (
            complete(prompt.clone(), "town", ""),
            "completion/complete: prompt `weather` has no argument `town`",
        ),
        (
            complete(template.clone(), "name", ""),
            "completion/complete: resource template `users://{id}/profile` has no variable `name`",
        ),
        (
            complete(
                json!({"type": "ref/resource", "uri": "users://1/profile"}),
                "id",
                "",
            ),
            "completion/complete: no resource template `users://1/profile`",
        ),
        (
            complete(json!({"type": "ref/tool", "name": "x"}), "a", ""),
            "completion/complete: `ref.type` must be \"ref/prompt\" or \"ref/resource\"",
        ),
        (
            json!({"ref": prompt, "argument": {"name": "city"}}),
            "completion/complete: `argument.value` (a string) is required",
        ),
    ] {
        let r = c.rpc(6, "completion/complete", params).await;
        assert_eq!(r["error"]["code"], -32602, "{message}");
        assert_eq!(r["error"]["message"], message);
    }
    server.stop().await;
}

#[tokio::test]
async fn without_completers_there_is_no_capability_and_no_method() {
    let plain = Prompt::new("plain")
        .argument("a", "", true)
        .get(|_r: PromptRequest| async { Ok::<_, ToolError>(Vec::new()) });
    let server = start(McpServer::builder().prompt(plain));
    let c = Client::connect(&server, V_LATEST).await;
    let init = Client::new(&server)
        .post_raw(&init_body(V_LATEST))
        .await
        .json();
    assert!(init["result"]["capabilities"].get("completions").is_none());
    let r = c
        .rpc(
            1,
            "completion/complete",
            complete(json!({"type": "ref/prompt", "name": "plain"}), "a", ""),
        )
        .await;
    assert_eq!(r["error"]["code"], -32601);
    server.stop().await;
}

#[test]
fn completers_for_what_does_not_exist_are_refused_at_build() {
    let nothing = |_r: CompletionRequest| async { Ok::<_, ToolError>(Completion::default()) };
    let err = McpServer::builder()
        .prompt(weather().complete("town", nothing))
        .resource(users().complete("name", nothing))
        .resource(
            Resource::new("file:///a", "a")
                .complete("x", nothing)
                .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("a") }),
        )
        .build()
        .expect_err("refused");
    let text = err.to_string();
    for expected in [
        "prompt `weather` completes `town`, which is not one of its arguments",
        "resource template `users://{id}/profile` completes `name`, which is not one of its variables",
        "resource `file:///a` completes `x`, but only templates have variables",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

#[tokio::test]
async fn a_scoped_prompt_completes_only_for_callers_with_its_scopes() {
    let oauth = DevProvider::new()
        .auto_approve(true)
        .access_token_ttl(Duration::from_secs(3600))
        .into_oauth()
        .expect("dev server");
    let server = start(
        McpServer::builder()
            .oauth(oauth)
            .prompt(weather().scopes(["weather:read"])),
    );
    let token = crate::client::first_token(&server.url()).await;
    let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
    let r = c
        .post_raw(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete",
            "params": complete(json!({"type": "ref/prompt", "name": "weather"}), "city", "p")}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"]["message"],
        "prompt `weather`: missing required scope: weather:read"
    );
    server.stop().await;
}
