//! Scope hierarchies (MCP authorization 2026-07-28: servers account for a broader scope
//! implying narrower ones): guards, listings and step-up challenges under both revisions.

use mcp_runtime::McpServer;
use mcp_runtime::RunningServer;
use mcp_runtime::auth::ScopeHierarchy;
use mcp_runtime::prelude::*;
use serde_json::{Value, json};

use crate::auth::{ISS, Issuer, now, sign};
use crate::common::*;

/// Reads files.
#[mcp_tool(name = "read-files", scopes = "files:read", read_only)]
async fn read_files() -> String {
    "read".to_owned()
}

/// Writes files.
#[mcp_tool(name = "write-files", scopes = "files:write")]
async fn write_files() -> String {
    "written".to_owned()
}

/// Deploys: needs to read the files and to deploy.
#[mcp_tool(name = "deploy", scopes = ["files:read", "deploy"])]
async fn deploy() -> String {
    "deployed".to_owned()
}

fn server(issuer: &Issuer) -> RunningServer {
    let hierarchy = ScopeHierarchy::new()
        .implies("admin", ["files:write"])
        .implies("files:write", ["files:read"]);
    start(
        McpServer::builder()
            .oauth(
                issuer
                    .oauth()
                    .baseline_scopes(["openid"])
                    .hide_unauthorized_tools(true)
                    .scope_hierarchy(hierarchy),
            )
            .tools(tools![read_files, write_files, deploy]),
    )
}

fn token(server: &RunningServer, scope: &str) -> String {
    let claims = json!({"iss": ISS, "sub": "user-1", "aud": server.url(), "iat": now(),
        "exp": now() + 600, "scope": scope});
    sign("k1", "k1", &claims)
}

fn challenge(r: &Reply) -> String {
    r.headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A 2026-07-28 tools/call (no session): status, challenge and body.
async fn call_2026(server: &RunningServer, token: &str, tool: &str) -> (u16, String, Value) {
    let params = json!({"name": tool, "arguments": {}});
    let r = crate::modern::request(&server.url(), 1, "tools/call", params, &[], Some(token)).await;
    let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, challenge(&r), body)
}

#[tokio::test]
async fn a_broader_scope_passes_the_guards_of_the_narrower_ones_it_implies() {
    let issuer = Issuer::start(&["k1"]);
    let server = server(&issuer);

    // `admin` implies `files:write`, which implies `files:read`: transitively enough.
    let admin = Client::connect_as(&server, V_LATEST, Some(token(&server, "openid admin"))).await;
    assert_eq!(text(&admin.call("read-files", json!({})).await), "read");
    let (status, _, body) = call_2026(&server, &token(&server, "openid admin"), "read-files").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["content"][0]["text"], "read");

    // The listing a hidden-tools server shows counts implied scopes too.
    let writer = Client::connect_as(
        &server,
        V_LATEST,
        Some(token(&server, "openid files:write")),
    )
    .await;
    let names = |r: Value| -> Vec<String> {
        r["result"]["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| t["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(
        names(writer.rpc(1, "tools/list", json!({})).await),
        ["read-files", "write-files"]
    );
    let reader = Client::connect_as(&server, V_LATEST, Some(token(&server, "openid"))).await;
    assert!(names(reader.rpc(1, "tools/list", json!({})).await).is_empty());

    // Implication goes one way: a narrower scope never grants a broader one.
    let narrow =
        Client::connect_as(&server, V_LATEST, Some(token(&server, "openid files:read"))).await;
    assert_eq!(
        names(narrow.rpc(1, "tools/list", json!({})).await),
        ["read-files"]
    );
    assert_eq!(text(&narrow.call("read-files", json!({})).await), "read");
    let r = narrow
        .post_raw(
            &json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"write-files"}}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(
        challenge(&r).contains(r#"scope="openid files:read files:write""#),
        "{}",
        challenge(&r)
    );
    // Without any of them, nothing.
    let r = reader
        .post_raw(
            &json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read-files"}}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(
        challenge(&r).contains(r#"scope="openid files:read""#),
        "{}",
        challenge(&r)
    );
    server.stop().await;
}

#[tokio::test]
async fn step_up_challenges_account_for_the_hierarchy_under_both_revisions() {
    let issuer = Issuer::start(&["k1"]);
    let server = server(&issuer);
    // `deploy` needs files:read (held through admin) and deploy (missing).
    let admin = Client::connect_as(&server, V_LATEST, Some(token(&server, "openid admin"))).await;
    let r = admin
        .post_raw(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy"}}))
        .await;
    assert_eq!(r.status, 403);
    // 2025-11-25: the granted scopes plus what is missing; files:read is held already.
    assert!(
        challenge(&r).contains(r#"scope="openid admin deploy""#),
        "{}",
        challenge(&r)
    );
    assert_eq!(
        r.json()["error"]["message"],
        "tool `deploy`: missing required scope: deploy"
    );
    // 2026-07-28 (SEP-2350): what the operation needs, whatever the token holds.
    let (status, modern, _) = call_2026(&server, &token(&server, "openid admin"), "deploy").await;
    assert_eq!(status, 403);
    assert!(modern.contains(r#"scope="files:read deploy""#), "{modern}");

    // With deploy granted, admin's implied files:read completes the guard.
    let both = token(&server, "openid admin deploy");
    let (status, _, body) = call_2026(&server, &both, "deploy").await;
    assert_eq!(
        (status, &body["result"]["content"][0]["text"]),
        (200, &json!("deployed"))
    );
    server.stop().await;
}

#[test]
fn a_hierarchy_naming_an_invalid_scope_is_a_build_error() {
    let oauth = mcp_runtime::auth::OAuth::new(
        mcp_runtime::auth::verifier::JwtVerifier::hs256("a shared secret of some length"),
        ISS,
    );
    let err = McpServer::builder()
        .oauth(oauth.scope_hierarchy(ScopeHierarchy::new().implies("admin", ["files read"])))
        .tools(tools![read_files])
        .build()
        .expect_err("an invalid scope in the hierarchy");
    assert!(
        err.to_string()
            .contains(r#"the scope hierarchy names "files read", which is not a valid scope"#),
        "{err}"
    );
}
