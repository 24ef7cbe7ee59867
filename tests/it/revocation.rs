//! Revocation that revokes: a replayed code or refresh token revokes its grant, and with it
//! the access tokens it issued (refused at once on the replica that saw the replay, and on
//! every other replica sharing the store within a few seconds, cached or not) and the upstream
//! tokens the proxy kept; and of many concurrent uses of one refresh token exactly one
//! rotates it, on the file store and on Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_runtime::store::{Space, Store};
use serde_json::{Value, json};

use crate::common::*;
use crate::devserver::{REDIRECT, code_for_resource, exchange, pkce, public_client};
use crate::store::{Redis, free_public_url, open_released, temp_file};
use crate::store_replicas::replica_in;

/// Calls `whoami` with `token`: the HTTP status of the call.
async fn status_with(running: &mcp_runtime::RunningServer, token: &str) -> (u16, String) {
    let r = http()
        .post(running.url())
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .json(&init_body(V_LATEST))
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, challenge)
}

async fn refresh(base: &str, client_id: &str, token: &str) -> (u16, Value) {
    let r = http()
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", client_id),
        ])
        .send()
        .await
        .expect("refresh");
    (r.status().as_u16(), r.json().await.expect("json"))
}

fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().expect("access").to_owned()
}

fn refresh_token(tokens: &Value) -> String {
    tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned()
}

fn assert_revoked((status, challenge): (u16, String)) {
    assert_eq!(status, 401, "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#)
            && challenge.contains("the token's grant was revoked"),
        "{challenge}"
    );
}

/// One server on a redb file: a replayed refresh token revokes the access tokens of its grant
/// (the first and the rotated one, the first already cached by the gate), and a code redeemed
/// twice revokes what its first redemption issued.
#[tokio::test]
async fn a_replay_revokes_the_access_tokens_of_its_grant() {
    let path = temp_file("revoke");
    let public = free_public_url();
    let server = replica_in(Arc::new(open_released(&path)), &public, None);
    let running = server.start("127.0.0.1:0").expect("starts");
    let base = format!("http://{}", running.addr());
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();

    // Refresh-token replay.
    let code = code_for_resource(&base, &public, &client_id, &challenge, "openid").await;
    let first = exchange(&base, &client_id, &code, &verifier).await;
    assert_eq!(
        status_with(&running, &access(&first)).await.0,
        200,
        "cached now"
    );
    let (status, rotated) = refresh(&base, &client_id, &refresh_token(&first)).await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(status_with(&running, &access(&rotated)).await.0, 200);
    let (status, body) = refresh(&base, &client_id, &refresh_token(&first)).await;
    assert_eq!(status, 400, "the replay: {body}");
    assert_revoked(status_with(&running, &access(&first)).await);
    assert_revoked(status_with(&running, &access(&rotated)).await);
    let (status, body) = refresh(&base, &client_id, &refresh_token(&rotated)).await;
    assert_eq!(status, 400, "the rotated refresh token too: {body}");

    // Code replay: what the first redemption issued is revoked.
    let code = code_for_resource(&base, &public, &client_id, &challenge, "openid").await;
    let tokens = exchange(&base, &client_id, &code, &verifier).await;
    assert_eq!(status_with(&running, &access(&tokens)).await.0, 200);
    let r = http()
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("replay");
    assert_eq!(r.status(), 400);
    assert_revoked(status_with(&running, &access(&tokens)).await);
    let (status, _) = refresh(&base, &client_id, &refresh_token(&tokens)).await;
    assert_eq!(status, 400);

    // Another grant of the same user and client is untouched.
    let code = code_for_resource(&base, &public, &client_id, &challenge, "openid").await;
    let other = exchange(&base, &client_id, &code, &verifier).await;
    assert_eq!(status_with(&running, &access(&other)).await.0, 200);
    running.stop().await;
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

/// Two replicas on one Redis: a grant revoked on A is refused on B within the stated bound
/// (5 seconds), though B had verified and cached its token before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_reaches_every_replica_within_seconds() {
    let redis = Redis::start();
    let public = free_public_url();
    let a = replica_in(redis.store(), &public, None)
        .start("127.0.0.1:0")
        .expect("starts");
    let b = replica_in(redis.store(), &public, None)
        .start("127.0.0.1:0")
        .expect("starts");
    let base_a = format!("http://{}", a.addr());
    let client_id = public_client(&base_a).await;
    let (verifier, challenge) = pkce();
    let code = code_for_resource(&base_a, &public, &client_id, &challenge, "openid").await;
    let tokens = exchange(&base_a, &client_id, &code, &verifier).await;
    assert_eq!(
        status_with(&b, &access(&tokens)).await.0,
        200,
        "B caches it"
    );
    let (status, _) = refresh(&base_a, &client_id, &refresh_token(&tokens)).await;
    assert_eq!(status, 200);
    let revoked_at = Instant::now();
    let (status, _) = refresh(&base_a, &client_id, &refresh_token(&tokens)).await;
    assert_eq!(status, 400, "the replay on A");
    assert_revoked(status_with(&a, &access(&tokens)).await);
    loop {
        let seen = status_with(&b, &access(&tokens)).await;
        if seen.0 == 401 {
            assert_revoked(seen);
            break;
        }
        assert!(
            revoked_at.elapsed() < Duration::from_secs(7),
            "B still accepts the revoked grant's token after {:?}",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// 50 concurrent uses of one refresh token: exactly one rotates it, the rest are replays that
/// revoke the grant (the winner's new tokens included), on the file store and on Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_replays_of_a_refresh_token_rotate_it_once() {
    let redis = Redis::start();
    let path = temp_file("race");
    let stores: [(&str, Arc<dyn Store>); 2] = [
        ("redb", Arc::new(open_released(&path))),
        ("redis", redis.store()),
    ];
    for (name, store) in stores {
        let public = free_public_url();
        let running = replica_in(store, &public, None)
            .start("127.0.0.1:0")
            .expect("starts");
        let base = format!("http://{}", running.addr());
        let client_id = public_client(&base).await;
        let (verifier, challenge) = pkce();
        let code = code_for_resource(&base, &public, &client_id, &challenge, "openid").await;
        let tokens = exchange(&base, &client_id, &code, &verifier).await;
        let token = refresh_token(&tokens);
        let mut uses = Vec::new();
        for _ in 0..50 {
            let (base, client_id, token) = (base.clone(), client_id.clone(), token.clone());
            uses.push(tokio::spawn(async move {
                refresh(&base, &client_id, &token).await
            }));
        }
        let mut winners = Vec::new();
        let mut refused = 0;
        for u in uses {
            let (status, body) = u.await.expect("task");
            match status {
                200 => winners.push(body),
                400 => {
                    assert_eq!(body["error"], "invalid_grant", "{name}: {body}");
                    refused += 1;
                }
                other => panic!("{name}: {other} {body}"),
            }
        }
        assert_eq!(winners.len(), 1, "{name}: exactly one rotation");
        assert_eq!(refused, 49, "{name}");
        let won = &winners[0];
        let (status, body) = refresh(&base, &client_id, &refresh_token(won)).await;
        assert_eq!(status, 400, "{name}: the grant is revoked: {body}");
        assert_revoked(status_with(&running, &access(won)).await);
        assert_revoked(status_with(&running, &access(&tokens)).await);
        running.stop().await;
    }
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

/// The OAuth proxy: revoking a grant deletes the upstream tokens it kept for it.
#[tokio::test]
async fn a_revoked_proxy_grant_loses_its_upstream_tokens() {
    use crate::idp::*;
    let idp = Idp::start();
    let store = Arc::new(mcp_runtime::store::MemoryStore::new());
    let (server, base) = start_proxy(
        idp.provider()
            .auto_approve(true)
            .store(store.clone())
            .store_namespace("p"),
    );
    let (_, tokens) = sign_in(&base, "openid").await;
    let upstream_keys = || async {
        store
            .list(Space::UpstreamTokens, "p/")
            .await
            .expect("list")
            .len()
    };
    assert_eq!(upstream_keys().await, 1);
    let form = |t: &str| {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", t.to_owned()),
        ]
    };
    // The proxy's client id is in the token answer's grant: read it from the access token.
    let client_id = {
        use base64::Engine as _;
        let payload = access(&tokens)
            .split('.')
            .nth(1)
            .expect("payload")
            .to_owned();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("b64"),
        )
        .expect("json");
        claims["client_id"].as_str().expect("client_id").to_owned()
    };
    for _ in 0..2 {
        let mut f = form(&refresh_token(&tokens));
        f.push(("client_id", client_id.clone()));
        let _ = http()
            .post(format!("{base}/token"))
            .form(&f)
            .send()
            .await
            .expect("refresh");
    }
    assert_eq!(upstream_keys().await, 0, "the upstream tokens are gone");
    let c = http()
        .post(format!("{base}/mcp"))
        .bearer_auth(access(&tokens))
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": V_LATEST, "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        )
        .send()
        .await
        .expect("mcp");
    assert_eq!(c.status(), 401);
    server.stop().await;
}

/// `POST /oauth/revoke` with `form`: the status and the JSON body (null when empty).
async fn revoke(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = http()
        .post(format!("{base}/oauth/revoke"))
        .form(form)
        .send()
        .await
        .expect("revoke");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A signed-in public client of `base`: its id, access token and refresh token.
async fn signed_in(base: &str) -> (String, String, String) {
    let client_id = public_client(base).await;
    let (verifier, challenge) = pkce();
    let code = crate::devserver::code_for(base, &client_id, &challenge, "openid").await;
    let tokens = exchange(base, &client_id, &code, &verifier).await;
    (
        client_id,
        tokens["access_token"].as_str().expect("access").to_owned(),
        tokens["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    )
}

/// RFC 7009: a client revokes a token it holds, and with it the whole grant (its access and
/// refresh tokens), at the advertised endpoint; a token of another client is refused and stays
/// valid; an unknown token answers 200, as the RFC asks.
#[tokio::test]
async fn a_client_revokes_its_grant_at_the_revocation_endpoint_and_only_its_own() {
    let (server, base) = crate::devserver::start_dev(true);
    let metadata: Value = http()
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(
        metadata["revocation_endpoint"],
        format!("{base}/oauth/revoke")
    );
    assert_eq!(
        metadata["revocation_endpoint_auth_methods_supported"],
        json!(["none", "client_secret_basic", "client_secret_post"])
    );

    let (alice, alice_access, alice_refresh) = signed_in(&base).await;
    let (mallory, _, _) = signed_in(&base).await;
    assert_eq!(status_with(&server, &alice_access).await.0, 200);

    // Another client cannot revoke alice's grant, by either token.
    for (token, hint) in [
        (&alice_refresh, "refresh_token"),
        (&alice_access, "access_token"),
    ] {
        let (status, body) = revoke(
            &base,
            &[
                ("token", token),
                ("token_type_hint", hint),
                ("client_id", &mallory),
            ],
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "unauthorized_client");
    }
    assert_eq!(
        status_with(&server, &alice_access).await.0,
        200,
        "still valid"
    );

    // Unknown, malformed: 200, nothing revoked.
    let (status, _) = revoke(&base, &[("token", "not-a-token"), ("client_id", &alice)]).await;
    assert_eq!(status, 200);
    // No client, no token: refused, naming what is missing.
    let (status, body) = revoke(&base, &[("token", &alice_refresh)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = revoke(&base, &[("client_id", &alice)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    // Revoking the access token revokes the grant: the access token and the refresh token.
    let (status, _) = revoke(
        &base,
        &[
            ("token", &alice_access),
            ("token_type_hint", "access_token"),
            ("client_id", &alice),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(status_with(&server, &alice_access).await.0, 401);
    let (status, _, body) = crate::devserver::token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &alice_refresh),
            ("client_id", &alice),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");

    // Revoking a refresh token (no hint) revokes its access tokens too.
    let (bob, bob_access, bob_refresh) = signed_in(&base).await;
    assert_eq!(status_with(&server, &bob_access).await.0, 200);
    let (status, _) = revoke(&base, &[("token", &bob_refresh), ("client_id", &bob)]).await;
    assert_eq!(status, 200);
    assert_eq!(status_with(&server, &bob_access).await.0, 401);
    // Revoking again is harmless.
    let (status, _) = revoke(&base, &[("token", &bob_refresh), ("client_id", &bob)]).await;
    assert_eq!(status, 200);
    server.stop().await;
}
