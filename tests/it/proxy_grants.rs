//! What a token of the OAuth proxy grants, and to whom: scopes only from consent, narrowed by
//! what the provider grants (its `permissions` never widen them), scope grants by identity
//! (exact claims, verified emails only), and the provider's tokens sealed for their grant.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::idp::*;

/// A provider that grants none of this server's scopes (Google, GitHub): scope grants give
/// `admin` by identity, to the listed users only.
#[tokio::test]
async fn scope_grants_give_scopes_by_identity() {
    let idp = Idp::start();
    idp.identity_only.store(true, Ordering::SeqCst);
    for (email, expected) in [
        ("alice@example.com", "openid admin"),
        ("bob@example.com", "openid"),
    ] {
        let (server, base) = start_proxy(
            idp.provider()
                .auto_approve(true)
                .grant_scope("admin", "email", email),
        );
        let (_, tokens) = sign_in(&base, "openid admin").await;
        assert_eq!(tokens["scope"], expected, "a grant for {email}");
        server.stop().await;
    }
}

/// Scope grants on identity data the user controls: an email rule matches only a verified
/// email (`email_verified: false` or absent earns nothing).
#[tokio::test]
async fn an_unverified_email_earns_no_scope_grant() {
    let idp = Idp::start();
    idp.identity_only.store(true, Ordering::SeqCst);
    for (verified, expected) in [
        (json!(true), "openid admin"),
        (json!(false), "openid"),
        (Value::Null, "openid"),
        (json!("false"), "openid"),
    ] {
        *idp.email_verified.lock().expect("lock") = verified.clone();
        let (server, base) = start_proxy(idp.provider().auto_approve(true).grant_scope(
            "admin",
            "email",
            "alice@example.com",
        ));
        let (_, tokens) = sign_in(&base, "openid admin").await;
        assert_eq!(tokens["scope"], expected, "email_verified {verified}");
        let c = connect_with(&server, &tokens).await;
        assert_admin(&c, expected.contains("admin")).await;
        server.stop().await;
    }
}

/// Upstream permissions only narrow: an account with `permissions: ["admin"]` at the provider,
/// signed in by a client the user approved for `openid` alone, cannot call an `admin` tool,
/// and this server's token carries no permission beyond what was consented to.
#[tokio::test]
async fn upstream_permissions_never_widen_a_grant() {
    let idp = Idp::start();
    idp.admin_permission.store(true, Ordering::SeqCst);
    let (server, base) = start_proxy(idp.provider().auto_approve(true));
    let (_, tokens) = sign_in(&base, "openid").await;
    assert_eq!(tokens["scope"], "openid");
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    let who = &who["result"]["structuredContent"];
    assert_eq!(who["permissions"], json!([]), "{who}");
    assert_admin_refused(&c).await;
    // Asked for and consented to, the upstream permission grants it.
    let (_, tokens) = sign_in(&base, "openid admin").await;
    assert_eq!(tokens["scope"], "openid admin");
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(
        who["result"]["structuredContent"]["permissions"],
        json!(["admin"])
    );
    server.stop().await;
}

/// Upstream tokens are sealed with their grant id as associated data: sealed tokens copied
/// over another grant's (by whoever can write to the store) do not open for it.
#[tokio::test]
async fn sealed_upstream_tokens_open_only_for_their_grant() {
    use base64::Engine as _;
    use mcp_runtime::store::{MemoryStore, Space, Store};
    let idp = Idp::start();
    let store = Arc::new(MemoryStore::new());
    let (server, base) = start_proxy(
        idp.provider()
            .auto_approve(true)
            .store(store.clone())
            .store_namespace("ns")
            .encryption_key([9; 32]),
    );
    let gid = |tokens: &Value| -> String {
        let token = tokens["access_token"].as_str().expect("access");
        let payload = token.split('.').nth(1).expect("payload");
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("base64url"),
        )
        .expect("json");
        claims["gid"].as_str().expect("gid").to_owned()
    };
    let (_, first) = sign_in(&base, "openid").await;
    let (_, second) = sign_in(&base, "openid").await;
    let (g1, g2) = (gid(&first), gid(&second));
    let sealed = store
        .get(Space::UpstreamTokens, &format!("ns/{g1}"))
        .await
        .expect("get")
        .expect("the first grant's sealed tokens, under the namespace");
    store
        .put(Space::UpstreamTokens, &format!("ns/{g2}"), sealed, None)
        .await
        .expect("put");
    let c = connect_with(&server, &second).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(
        who["result"]["structuredContent"]["upstream"],
        Value::Null,
        "another grant's tokens do not open: {who}"
    );
    let c = connect_with(&server, &first).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(
        who["result"]["structuredContent"]["upstream"],
        idp.issued.lock().expect("lock")[0].as_str()
    );
    server.stop().await;
}
