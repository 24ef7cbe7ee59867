//! Resources over real HTTP: fixed URIs and templates listed and read (text and base64
//! bytes), the errors for unknown URIs and missing parameters, build errors naming the URI, and
//! a scope-guarded resource answering 403 with a step-up challenge, which the client library
//! follows.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use mcp_runtime::{Resource, ResourceRequest};
use serde_json::{Value, json};

use crate::common::*;

fn resources() -> Vec<Resource> {
    vec![
        Resource::new("file:///logs/today", "today's log")
            .mime_type("text/plain")
            .description("What happened today.")
            .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("all quiet") }),
        Resource::new("file:///logo.png", "logo")
            .mime_type("image/png")
            .read(|_r: ResourceRequest| async {
                Ok::<_, ToolError>(vec![0x89u8, b'P', b'N', b'G'])
            }),
        Resource::template("users://{id}/profile", "a user's profile")
            .mime_type("application/json")
            .read(|r: ResourceRequest| async move {
                Ok::<_, ToolError>(format!(r#"{{"id":"{}"}}"#, r.params["id"]))
            }),
        Resource::new("file:///broken", "broken")
            .read(|_r: ResourceRequest| async { Err::<String, _>(ToolError::new("disk on fire")) }),
    ]
}

#[tokio::test]
async fn resources_are_listed_and_read() {
    let server = start(McpServer::builder().resources(resources()));
    let c = Client::connect(&server, V_LATEST).await;
    let init = c.rpc(1, "ping", json!({})).await;
    assert_eq!(init["result"], json!({}));
    let list = c.rpc(2, "resources/list", json!({})).await;
    assert_eq!(
        list["result"]["resources"][0],
        json!({"uri": "file:///logs/today", "name": "today's log", "description": "What happened today.", "mimeType": "text/plain"})
    );
    assert_eq!(
        list["result"]["resources"].as_array().map(Vec::len),
        Some(3)
    );
    let templates = c.rpc(3, "resources/templates/list", json!({})).await;
    assert_eq!(
        templates["result"]["resourceTemplates"],
        json!([{"uriTemplate": "users://{id}/profile", "name": "a user's profile", "mimeType": "application/json"}])
    );
    let text = c
        .rpc(4, "resources/read", json!({"uri": "file:///logs/today"}))
        .await;
    assert_eq!(
        text["result"]["contents"],
        json!([{"uri": "file:///logs/today", "mimeType": "text/plain", "text": "all quiet"}])
    );
    let blob = c
        .rpc(5, "resources/read", json!({"uri": "file:///logo.png"}))
        .await;
    assert_eq!(blob["result"]["contents"][0]["blob"], "iVBORw==");
    let user = c
        .rpc(6, "resources/read", json!({"uri": "users://42/profile"}))
        .await;
    assert_eq!(user["result"]["contents"][0]["text"], r#"{"id":"42"}"#);
    assert_eq!(user["result"]["contents"][0]["uri"], "users://42/profile");
    let missing = c
        .rpc(7, "resources/read", json!({"uri": "users://4/2/profile"}))
        .await;
    assert_eq!(missing["error"]["code"], -32002);
    assert_eq!(missing["error"]["data"]["uri"], "users://4/2/profile");
    let bad = c.rpc(8, "resources/read", json!({})).await;
    assert_eq!(bad["error"]["code"], -32602);
    assert_eq!(
        bad["error"]["message"],
        "resources/read: `params.uri` (a string) is required"
    );
    let broken = c
        .rpc(9, "resources/read", json!({"uri": "file:///broken"}))
        .await;
    assert_eq!(broken["error"]["code"], -32603);
    assert_eq!(
        broken["error"]["message"],
        "reading `file:///broken` failed: disk on fire"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_resources_capability_is_announced_only_with_resources() {
    for (with, expected) in [(true, true), (false, false)] {
        let b = McpServer::builder();
        let b = if with { b.resources(resources()) } else { b };
        let server = start(b);
        let client = mcp_runtime::client::Client::builder(server.url())
            .connect()
            .await
            .expect("connects");
        assert_eq!(
            client.server().capabilities.contains_key("resources"),
            expected
        );
        client.close().await;
        server.stop().await;
    }
}

#[test]
fn bad_resources_are_named_when_the_server_is_built() {
    let err = McpServer::builder()
        .resource(
            Resource::new("a://x", "x")
                .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("1") }),
        )
        .resource(
            Resource::new("a://x", "again")
                .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("2") }),
        )
        .resource(Resource::new("a://noread", "no read"))
        .resource(
            Resource::template("a://{x}{y}", "t")
                .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("3") }),
        )
        .resource(
            Resource::new("a://secret", "s")
                .scopes(["admin"])
                .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("4") }),
        )
        .build()
        .expect_err("refused");
    let text = err.to_string();
    for expected in [
        "two resources have the URI `a://x`",
        "resource `a://noread` has no read function",
        "resource template `a://{x}{y}`: two variables need a literal between them",
        "resource `a://secret` requires an authenticated caller (it takes `Auth` or requires \
         scopes), but the server has no OAuth: add `.oauth(...)`",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

#[tokio::test]
async fn a_scoped_resource_steps_up() {
    let oauth = DevProvider::new()
        .auto_approve(true)
        .access_token_ttl(Duration::from_secs(3600))
        .into_oauth()
        .expect("dev server");
    let server = start(
        McpServer::builder().oauth(oauth).resource(
            Resource::new("secrets://vault", "the vault")
                .scopes(["admin"])
                .read(|r: ResourceRequest| async move {
                    let who = r.auth.map(|a| a.user.user_id.clone()).unwrap_or_default();
                    Ok::<_, ToolError>(format!("opened by {who}"))
                }),
        ),
    );
    let url = server.url();
    // Raw: a token without `admin` gets 403 and the challenge to step up.
    let token = {
        let opened = Arc::new(AtomicUsize::new(0));
        let store = Arc::new(mcp_runtime::client::auth::MemoryTokenStore::new());
        let mut cfg = mcp_runtime::client::auth::OAuthConfig::default();
        cfg.callback = mcp_runtime::client::auth::CallbackConfig::port(0);
        cfg.opener = crate::client::robot_browser(opened.clone());
        cfg.store = Some(store.clone());
        let oauth = mcp_runtime::client::auth::OAuth::new(&url, cfg).expect("oauth");
        let client = mcp_runtime::client::Client::builder(&url)
            .auth(oauth)
            .connect()
            .await
            .expect("connects");
        let stored = {
            use mcp_runtime::client::auth::TokenStore as _;
            store.load_tokens(&url).expect("load").expect("tokens")
        };
        // The client library steps up by itself and reads.
        let read = client
            .read_resource("secrets://vault")
            .await
            .expect("after step-up");
        assert_eq!(read["contents"][0]["text"], "opened by dev-user");
        assert_eq!(
            opened.load(Ordering::SeqCst),
            2,
            "a second sign-in for admin"
        );
        stored.access_token
    };
    let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
    let r = c
        .post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": "secrets://vault"}}))
        .await;
    assert_eq!(r.status, 403);
    let challenge = r
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#) && challenge.contains("admin"),
        "{challenge}"
    );
    let body: Value = r.json();
    assert_eq!(
        body["error"]["message"],
        "resource `secrets://vault`: missing required scope: admin"
    );
    server.stop().await;
}

/// Notifications the client received, by method.
#[derive(Clone, Default)]
struct Seen(Arc<std::sync::Mutex<Vec<(String, Value)>>>);

impl mcp_runtime::client::ClientHandler for Seen {
    fn notification(&self, method: &str, params: &Value) {
        self.0
            .lock()
            .expect("lock")
            .push((method.to_owned(), params.clone()));
    }
}

/// `resources/subscribe` for a known URI; `McpServer::resource_updated` then notifies the
/// subscribed client on its GET stream, and no longer after `resources/unsubscribe`.
#[tokio::test]
async fn subscribers_hear_of_updates_until_they_unsubscribe() {
    let server = McpServer::builder()
        .resources(resources())
        .build()
        .expect("builds");
    let running = server.start("127.0.0.1:0").expect("starts");
    let seen = Seen::default();
    let client = mcp_runtime::client::Client::builder(running.url())
        .handler(seen.clone())
        .connect()
        .await
        .expect("connects");
    assert_eq!(
        client.server().capabilities["resources"],
        json!({"subscribe": true, "listChanged": true})
    );
    let err = client
        .request("resources/subscribe", json!({"uri": "file:///nope"}))
        .await
        .expect_err("unknown");
    assert_eq!(err.rpc().expect("rpc").code, -32002);
    client
        .request("resources/subscribe", json!({"uri": "users://7/profile"}))
        .await
        .expect("subscribed");
    assert_eq!(server.resource_updated("users://7/profile"), 1);
    assert_eq!(
        server.resource_updated("file:///logs/today"),
        0,
        "not subscribed"
    );
    for _ in 0..100 {
        if !seen.0.lock().expect("lock").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen.0.lock().expect("lock").clone(),
        vec![(
            "notifications/resources/updated".to_owned(),
            json!({"uri": "users://7/profile"})
        )]
    );
    client
        .request("resources/unsubscribe", json!({"uri": "users://7/profile"}))
        .await
        .expect("unsubscribed");
    assert_eq!(server.resource_updated("users://7/profile"), 0);
    client.close().await;
    running.stop().await;
}

/// With `hide_unauthorized_tools`, resources and prompts a caller may not use are left out of
/// its listings (and reading one still answers 403).
#[tokio::test]
async fn hidden_items_stay_out_of_the_listings() {
    use mcp_runtime::{Prompt, PromptMessage, PromptRequest};
    let oauth = DevProvider::new()
        .auto_approve(true)
        .into_oauth()
        .expect("dev server")
        .hide_unauthorized_tools(true);
    let open = |uri: &str| {
        Resource::new(uri, "r").read(|_r: ResourceRequest| async { Ok::<_, ToolError>("x") })
    };
    let prompt = |name: &str| {
        Prompt::new(name).get(|_r: PromptRequest| async {
            Ok::<_, ToolError>(vec![PromptMessage::user(Content::text("x"))])
        })
    };
    let server = start(
        McpServer::builder()
            .oauth(oauth)
            .resource(open("a://public"))
            .resource(open("a://secret").scopes(["admin"]))
            .prompt(prompt("public"))
            .prompt(prompt("secret").scopes(["admin"])),
    );
    let token = crate::client::first_token(&server.url()).await;
    let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
    let r = c.rpc(1, "resources/list", json!({})).await;
    assert_eq!(
        r["result"]["resources"],
        json!([{"uri": "a://public", "name": "r"}])
    );
    let p = c.rpc(2, "prompts/list", json!({})).await;
    assert_eq!(p["result"]["prompts"], json!([{"name": "public"}]));
    let denied = c
        .post_raw(&json!({"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": "a://secret"}}))
        .await;
    assert_eq!(denied.status, 403);
    server.stop().await;
}

/// `resources/subscribe` (the revisions with sessions) needs what reading needs: a token
/// without the resource's scope gets the same 403 step-up as `resources/read` (2026-07-28's
/// streams already follow only readable resources). And a session follows at most 1,000
/// resources, however many URIs a template matches.
#[tokio::test]
async fn subscribing_needs_the_resources_scopes_and_is_bounded() {
    use crate::auth::{Issuer, claims, sign};
    let issuer = Issuer::start(&["k1"]);
    let server = start(
        McpServer::builder()
            .oauth(issuer.oauth())
            .resource(
                Resource::template("vault://{id}", "vault items")
                    .scopes(["admin"])
                    .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("secret") }),
            )
            .resource(
                Resource::template("notes://{id}", "notes")
                    .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("note") }),
            ),
    );
    let token = |scope: &str| Some(sign("k1", "k1", &claims(&server.url(), scope)));
    let reader = Client::connect_as(&server, V_LATEST, token("openid")).await;
    let subscribe = |uri: String| json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": {"uri": uri}});
    let r = reader.post_raw(&subscribe("vault://1".into())).await;
    assert_eq!(r.status, 403, "{r:?}");
    let challenge = r.headers["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.contains(r#"error="insufficient_scope""#) && challenge.contains("admin"),
        "{challenge}"
    );
    assert_eq!(
        r.json()["error"]["message"],
        "resource `vault://1`: missing required scope: admin"
    );
    let admin = Client::connect_as(&server, V_LATEST, token("openid admin")).await;
    let r = admin.post_raw(&subscribe("vault://1".into())).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.message()["result"], json!({}));

    // The bound: 1,000 URIs of a template, then a refusal that says what to do.
    for i in 0..1000 {
        let r = reader.post_raw(&subscribe(format!("notes://{i}"))).await;
        assert_eq!(r.message()["result"], json!({}), "{i}");
    }
    let r = reader.post_raw(&subscribe("notes://1000".into())).await;
    let err = &r.message()["error"];
    assert_eq!(err["code"], -32602, "{r:?}");
    assert!(
        err["message"].as_str().expect("message").contains(
            "already follows 1000 resources, the most it may; unsubscribe from some first"
        ),
        "{err}"
    );
    // One already followed is fine; after an unsubscribe there is room again.
    let r = reader.post_raw(&subscribe("notes://7".into())).await;
    assert_eq!(r.message()["result"], json!({}));
    let r = reader
        .post_raw(
            &json!({"jsonrpc": "2.0", "id": 2, "method": "resources/unsubscribe",
                          "params": {"uri": "notes://7"}}),
        )
        .await;
    assert_eq!(r.message()["result"], json!({}));
    let r = reader.post_raw(&subscribe("notes://1000".into())).await;
    assert_eq!(r.message()["result"], json!({}));
    server.stop().await;
}
