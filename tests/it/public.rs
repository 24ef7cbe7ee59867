//! Public and protected items on one server with OAuth, over real HTTP with tokens from a
//! local issuer: a request without a token is admitted only when the server has public items,
//! reaches those, and gets the 401 challenge (with the item's scopes) from any other; a bad
//! token is refused as ever, never treated as no token; a session started without a token
//! belongs to the first caller who authenticates on it, and to nobody else after; with
//! `ScopeRefusal::ToolChallenge` the challenge comes in the tool result; a server without
//! public items refuses anonymous requests as before.

use mcp_runtime::RunningServer;
use mcp_runtime::auth::{Auth, ScopeRefusal};
use mcp_runtime::prelude::*;
use mcp_runtime::{Prompt, PromptMessage, Resource, ResourceRequest, ToolError};
use serde_json::{Value, json};

use crate::auth::{Issuer, claims, sign};
use crate::common::*;

/// Who is calling, if anyone. Public.
#[mcp_tool(name = "about", read_only, public)]
async fn about(auth: Option<Auth>) -> String {
    match auth {
        Some(a) => format!("signed in as {}", a.user.user_id),
        None => "anonymous".into(),
    }
}

/// Needs a caller.
#[mcp_tool(name = "whoami")]
async fn whoami(auth: Auth) -> String {
    auth.user.user_id.clone()
}

/// Needs `admin`.
#[mcp_tool(name = "admin-action", scopes = "admin")]
async fn admin_action(action: String) -> String {
    format!("did {action}")
}

/// Protected, though it takes no `Auth` and needs no scope: not public is protected.
#[mcp_tool(name = "plain")]
async fn plain() -> &'static str {
    "plain"
}

fn server(issuer: &Issuer, refusal: ScopeRefusal, public: bool) -> RunningServer {
    let oauth = issuer
        .oauth()
        .scopes_supported(["openid", "admin"])
        .baseline_scopes(["openid"])
        .scope_refusal(refusal);
    let mut b = McpServer::builder()
        .name("mixed")
        .oauth(oauth)
        .tools(tools![whoami, admin_action, plain])
        .resources([Resource::new("docs://private", "private")
            .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("secret") })])
        .prompts([Prompt::new("private-prompt").get(|_| async {
            Ok::<_, ToolError>(vec![PromptMessage::user(mcp_runtime::Content::text(
                "secret prompt",
            ))])
        })]);
    if public {
        b = b
            .tools(tools![about])
            .resources([Resource::new("docs://public", "public")
                .public()
                .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("open") })])
            .prompts([Prompt::new("public-prompt").public().get(|_| async {
                Ok::<_, ToolError>(vec![PromptMessage::user(mcp_runtime::Content::text(
                    "hello",
                ))])
            })]);
    }
    start(b)
}

fn token(server: &RunningServer, sub: &str, scope: &str) -> String {
    let mut c = claims(&server.url(), scope);
    c["sub"] = sub.into();
    sign("k1", "k1", &c)
}

fn challenge(r: &Reply) -> String {
    r.headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no challenge: {r:?}"))
        .to_owned()
}

async fn call_raw(c: &Client, name: &str, args: Value) -> Reply {
    c.post_raw(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": name, "arguments": args}}))
        .await
}

#[tokio::test]
async fn anonymous_callers_reach_public_items_and_are_challenged_for_the_rest() {
    let issuer = Issuer::start(&["k1"]);
    let s = server(&issuer, ScopeRefusal::Forbidden, true);
    // `initialize` and the listings without a token.
    let c = Client::connect(&s, V_LATEST).await;
    assert!(c.session.is_some());
    let tools = c.rpc(1, "tools/list", json!({})).await;
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names.len(), 4, "every tool is listed: {names:?}");
    assert_eq!(text(&c.call("about", json!({})).await), "anonymous");

    // A protected tool: 401 with the challenge to sign in, for the baseline and its scopes.
    for (tool, args, scopes) in [
        ("whoami", json!({}), "openid"),
        ("plain", json!({}), "openid"),
        ("admin-action", json!({"action": "x"}), "openid admin"),
    ] {
        let r = call_raw(&c, tool, args).await;
        assert_eq!(r.status, 401, "{tool}: {r:?}");
        let ch = challenge(&r);
        assert!(ch.starts_with("Bearer "), "{ch}");
        assert!(ch.contains(&format!("scope=\"{scopes}\"")), "{tool}: {ch}");
        assert!(
            ch.contains("resource_metadata=\"http://127.0.0.1:"),
            "{tool}: {ch}"
        );
        assert!(
            !ch.contains("error="),
            "no token is not an invalid one: {ch}"
        );
        assert!(
            r.message()["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("needs a signed-in caller")),
            "{r:?}"
        );
    }
    // Resources and prompts alike.
    let r = c
        .rpc(4, "resources/read", json!({"uri": "docs://public"}))
        .await;
    assert_eq!(r["result"]["contents"][0]["text"], "open");
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"docs://private"}}))
        .await;
    assert_eq!(r.status, 401, "{r:?}");
    let r = c
        .rpc(6, "prompts/get", json!({"name": "public-prompt"}))
        .await;
    assert_eq!(r["result"]["messages"][0]["content"]["text"], "hello");
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":7,"method":"prompts/get","params":{"name":"private-prompt"}}))
        .await;
    assert_eq!(r.status, 401, "{r:?}");

    // A bad token is refused, even for a public tool: never downgraded to no token.
    let mut bad = Client::new(&s);
    bad.session = c.session.clone();
    bad.bearer = Some("not-a-token".into());
    let r = call_raw(&bad, "about", json!({})).await;
    assert_eq!(r.status, 401, "{r:?}");
    assert!(challenge(&r).contains("error=\"invalid_token\""));
    // An expired one too.
    let mut expired = claims(&s.url(), "openid");
    expired["exp"] = json!(1000);
    bad.bearer = Some(sign("k1", "k1", &expired));
    assert_eq!(call_raw(&bad, "about", json!({})).await.status, 401);

    // With a token: the public tool sees the caller, the protected ones run.
    let mut ada = Client::connect_as(&s, V_LATEST, Some(token(&s, "ada", "openid admin"))).await;
    assert_eq!(
        text(&ada.call("about", json!({})).await),
        "signed in as ada"
    );
    assert_eq!(text(&ada.call("whoami", json!({})).await), "ada");
    // Without its token on its own session: the session does not exist for that request.
    ada.bearer = None;
    assert_eq!(call_raw(&ada, "about", json!({})).await.status, 404);
}

#[tokio::test]
async fn an_anonymous_session_belongs_to_whoever_signs_in_on_it_first() {
    let issuer = Issuer::start(&["k1"]);
    let s = server(&issuer, ScopeRefusal::Forbidden, true);
    let mut c = Client::connect(&s, V_LATEST).await;
    assert_eq!(call_raw(&c, "whoami", json!({})).await.status, 401);
    // The client signs in and goes on in the same session.
    c.bearer = Some(token(&s, "ada", "openid"));
    assert_eq!(text(&c.call("whoami", json!({})).await), "ada");
    // From then on it is ada's: not bob's, and not anyone's without a token.
    let mut bob = Client::new(&s);
    bob.session = c.session.clone();
    bob.bearer = Some(token(&s, "bob", "openid"));
    let r = call_raw(&bob, "whoami", json!({})).await;
    assert_eq!(r.status, 404, "{r:?}");
    let mut nobody = Client::new(&s);
    nobody.session = c.session.clone();
    let r = call_raw(&nobody, "about", json!({})).await;
    assert_eq!(r.status, 404, "{r:?}");
    // ada still has it.
    assert_eq!(text(&c.call("whoami", json!({})).await), "ada");
}

#[tokio::test]
async fn the_tool_result_challenge_for_hosted_clients() {
    let issuer = Issuer::start(&["k1"]);
    let s = server(&issuer, ScopeRefusal::ToolChallenge, true);
    let c = Client::connect(&s, V_LATEST).await;
    // Without a token: a tool error carrying the 401's challenge.
    let r = c.call("admin-action", json!({"action": "x"})).await;
    assert_eq!(r["result"]["isError"], true, "{r}");
    let ch = r["result"]["_meta"]["mcp/www_authenticate"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no challenge: {r}"));
    assert!(
        ch.starts_with("Bearer resource_metadata=\"http://127.0.0.1:"),
        "{ch}"
    );
    assert!(ch.contains("scope=\"openid admin\""), "{ch}");
    assert!(!ch.contains("insufficient_scope"), "{ch}");
    // Signed in without `admin`: the 403's challenge, in the result.
    let signed = Client::connect_as(&s, V_LATEST, Some(token(&s, "ada", "openid"))).await;
    let r = signed.call("admin-action", json!({"action": "x"})).await;
    let ch = r["result"]["_meta"]["mcp/www_authenticate"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no challenge: {r}"));
    assert!(ch.contains("error=\"insufficient_scope\""), "{ch}");
    assert!(ch.contains("scope=\"admin\""), "{ch}");
}

#[tokio::test]
async fn a_server_without_public_items_refuses_anonymous_requests() {
    let issuer = Issuer::start(&["k1"]);
    let s = server(&issuer, ScopeRefusal::Forbidden, false);
    let r = Client::new(&s).post_raw(&init_body(V_LATEST)).await;
    assert_eq!(r.status, 401, "{r:?}");
    assert!(challenge(&r).contains("scope=\"openid\""));
}

#[tokio::test]
async fn public_items_that_need_a_caller_do_not_build() {
    let issuer = Issuer::start(&["k1"]);
    let e = McpServer::builder()
        .oauth(issuer.oauth())
        .resources([Resource::new("docs://x", "x")
            .public()
            .scopes(["admin"])
            .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("x") })])
        .prompts([Prompt::new("p")
            .public()
            .scopes(["admin"])
            .get(|_| async { Ok::<_, ToolError>(vec![]) })])
        .tools([mcp_runtime::Tool::builder("t")
            .public()
            .scopes(&["admin"])
            .handler(|| async { "x" })])
        .build()
        .expect_err("refused");
    let text = e.to_string();
    assert!(
        text.contains("resource `docs://x` is public") && text.contains("cannot require scopes"),
        "{text}"
    );
    assert!(text.contains("prompt `p` is public"), "{text}");
    assert!(
        text.contains("tool `t` (<built by hand>) is public"),
        "{text}"
    );
}
