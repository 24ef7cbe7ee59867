//! Items added and removed while the server runs: the listings change at once, every client
//! with a session is told (`notifications/*/list_changed` on its GET stream), calls reach the
//! new tool and not the removed one, and an item that breaks a rule is refused with the
//! builder's message.

use std::time::Duration;

use futures_util::StreamExt as _;
use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use mcp_runtime::{Prompt, PromptRequest, Resource, ResourceRequest, ToolDef};
use serde_json::{Value, json};

use crate::common::*;

/// Echo
#[mcp_tool]
async fn echo(text: String) -> String {
    text
}

/// Shout
#[mcp_tool]
async fn shout(text: String) -> String {
    text.to_uppercase()
}

struct Counter;

/// Needs state nobody registered
#[mcp_tool]
async fn count(_c: State<Counter>) -> u32 {
    1
}

/// Needs a scope nobody advertised
#[mcp_tool(scopes = "billing:write")]
async fn bill() -> &'static str {
    "billed"
}

/// The methods of the notifications a GET stream carries, as they arrive.
struct Notifications(
    futures_util::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    String,
);

impl Notifications {
    async fn open(c: &Client) -> Self {
        let resp = c
            .request_accepting(reqwest::Method::GET, "text/event-stream")
            .send()
            .await
            .expect("GET");
        assert_eq!(resp.status(), 200);
        Notifications(
            resp.bytes_stream().map(|c| c.map(|b| b.to_vec())).boxed(),
            String::new(),
        )
    }

    async fn next(&mut self) -> String {
        loop {
            if let Some(end) = self.1.find("\n\n") {
                let event: String = self.1.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    let v: Value = serde_json::from_str(data).expect("JSON");
                    return v["method"].as_str().unwrap_or_default().to_owned();
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.0.next())
                .await
                .expect("a notification in time")
                .expect("open")
                .expect("chunk");
            self.1.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }
}

fn names(list: &Value, key: &str, field: &str) -> Vec<String> {
    list["result"][key]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t[field].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn tools_resources_and_prompts_change_at_run_time() {
    let server: McpServer = McpServer::builder()
        .tools(tools![echo])
        .workers(1)
        .build()
        .expect("builds");
    let running = server.clone().start("127.0.0.1:0").expect("starts");
    let c = Client::connect(&running, V_LATEST).await;
    let mut told = Notifications::open(&c).await;

    server.add_tool(<shout as ToolDef>::tool()).expect("added");
    assert_eq!(told.next().await, "notifications/tools/list_changed");
    let list = c.rpc(1, "tools/list", json!({})).await;
    assert_eq!(names(&list, "tools", "name"), ["echo", "shout"]);
    assert_eq!(text(&c.call("shout", json!({"text": "hi"})).await), "HI");

    assert!(server.remove_tool("echo"));
    assert!(!server.remove_tool("echo"), "already gone");
    assert_eq!(told.next().await, "notifications/tools/list_changed");
    let r = c.call("echo", json!({"text": "hi"})).await;
    assert_eq!(r["error"]["message"], "tools/call: unknown tool `echo`");

    let err = server
        .add_tool(<shout as ToolDef>::tool())
        .expect_err("a second `shout`");
    assert!(
        err.to_string().contains("two tools are named `shout`"),
        "{err}"
    );
    let err = server
        .add_tool(<count as ToolDef>::tool())
        .expect_err("no state");
    assert!(
        err.to_string()
            .contains("no state of that type was registered"),
        "{err}"
    );

    server
        .add_resource(
            Resource::new("file:///new", "new")
                .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("fresh") }),
        )
        .expect("resource added");
    assert_eq!(told.next().await, "notifications/resources/list_changed");
    let list = c.rpc(2, "resources/list", json!({})).await;
    assert_eq!(names(&list, "resources", "uri"), ["file:///new"]);
    assert!(server.remove_resource("file:///new"));
    assert_eq!(told.next().await, "notifications/resources/list_changed");
    let gone = c
        .rpc(3, "resources/read", json!({"uri": "file:///new"}))
        .await;
    assert_eq!(
        gone["error"]["code"], -32601,
        "no resources left: no such method"
    );

    server
        .add_prompt(Prompt::new("hello").get(|_r: PromptRequest| async {
            Ok::<_, ToolError>(vec![PromptMessage::user(Content::text("hello"))])
        }))
        .expect("prompt added");
    assert_eq!(told.next().await, "notifications/prompts/list_changed");
    let list = c.rpc(4, "prompts/list", json!({})).await;
    assert_eq!(names(&list, "prompts", "name"), ["hello"]);
    assert!(server.remove_prompt("hello"));
    assert_eq!(told.next().await, "notifications/prompts/list_changed");

    let init = Client::new(&running)
        .post_raw(&init_body(V_LATEST))
        .await
        .json();
    assert_eq!(init["result"]["capabilities"]["tools"]["listChanged"], true);
    drop(told);
    running.stop().await;
}

#[tokio::test]
async fn an_item_may_require_only_the_scopes_the_server_advertised() {
    let oauth = DevProvider::new()
        .auto_approve(true)
        .access_token_ttl(Duration::from_secs(3600))
        .into_oauth()
        .expect("dev server");
    let server = McpServer::builder()
        .oauth(oauth)
        .tools(tools![echo])
        .build()
        .expect("builds");
    let err = server
        .add_tool(<bill as ToolDef>::tool())
        .expect_err("not advertised");
    assert!(
        err.to_string().contains(
            "requires scope `billing:write`, which the server did not advertise when it was built"
        ),
        "{err}"
    );
    let stateless = McpServer::builder()
        .tools(tools![echo])
        .stateless(true)
        .workers(1)
        .build()
        .expect("builds")
        .start("127.0.0.1:0")
        .expect("starts");
    let init = Client::new(&stateless)
        .post_raw(&init_body(V_LATEST))
        .await
        .json();
    assert_eq!(
        init["result"]["capabilities"]["tools"]["listChanged"], false,
        "without sessions no client can be told"
    );
    stateless.stop().await;
}
