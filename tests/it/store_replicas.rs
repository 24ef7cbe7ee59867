//! Servers on a store: the development server keeps clients, tokens and keys across a restart
//! on a file; replicas on one Redis act as one authorization server, share sessions and rotate
//! keys without downtime; two different servers on one Redis keep their grants apart.

use std::sync::Arc;
use std::time::Duration;

use mcp_runtime::store::{Space, Store};

use crate::store::{Redis, free_public_url, open_released, temp_file};

/// Who is calling.
#[mcp_runtime::mcp_tool(name = "whoami", read_only)]
async fn whoami(auth: mcp_runtime::auth::Auth) -> String {
    auth.user.user_id.clone()
}

fn dev_server(
    path: &std::path::Path,
    public: &str,
) -> (mcp_runtime::McpServer, mcp_runtime::RunningServer) {
    use mcp_runtime::providers::DevProvider;
    let store = open_released(path);
    let oauth = DevProvider::new()
        .auto_approve(true)
        .store(Arc::new(store))
        .into_oauth()
        .expect("dev provider");
    let server = mcp_runtime::McpServer::builder()
        .public_url(public)
        .oauth(oauth)
        .tools(mcp_runtime::tools![whoami])
        .workers(1)
        .build()
        .expect("builds");
    let running = server.start("127.0.0.1:0").expect("starts");
    (server, running)
}

/// A client registered and signed in before a restart refreshes its token after it, and its
/// access token still opens the endpoint (the signing key was kept too).
#[tokio::test]
async fn the_dev_server_keeps_clients_tokens_and_keys_across_a_restart() {
    use crate::common::*;
    use crate::devserver::{code_for_resource, exchange, pkce, public_client};
    let path = temp_file("restart");
    let public = free_public_url();

    let (server, running) = dev_server(&path, &public);
    let base = format!("http://{}", running.addr());
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();
    let code = code_for_resource(&base, &public, &client_id, &challenge, "openid").await;
    let tokens = exchange(&base, &client_id, &code, &verifier).await;
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    running.stop().await;
    drop(server);

    let (_server, running) = dev_server(&path, &public);
    let base = format!("http://{}", running.addr());
    // The old access token verifies against the kept key.
    let mut c = Client::new(&running);
    c.bearer = Some(access);
    let c = c.connect_raw(V_LATEST).await;
    assert_eq!(
        text(&c.call("whoami", serde_json::json!({})).await),
        "dev-user"
    );
    // The client is still registered and its refresh token still works, once.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", client_id.as_str()),
    ];
    let r = http()
        .post(format!("{base}/oauth/token"))
        .form(&form)
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(
        body["refresh_token"].as_str().is_some_and(|t| t != refresh),
        "{body}"
    );
    let r = http()
        .post(format!("{base}/oauth/token"))
        .form(&form)
        .send()
        .await
        .expect("replay");
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
    running.stop().await;
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

/// A dev server on a shared store, as one replica behind `public` (built, not started).
/// The replicas' shared `MCP_STORE_ENCRYPTION_KEY`.
const STORE_KEY: [u8; 32] = [42; 32];

fn replica(store: Arc<dyn Store>, public: &str) -> mcp_runtime::McpServer {
    replica_in(store, public, None)
}

/// [`replica`], with its records in `namespace` when given.
pub(crate) fn replica_in(
    store: Arc<dyn Store>,
    public: &str,
    namespace: Option<&str>,
) -> mcp_runtime::McpServer {
    use mcp_runtime::providers::DevProvider;
    let mut dev = DevProvider::new()
        .auto_approve(true)
        .store(store)
        .encryption_key(STORE_KEY);
    if let Some(ns) = namespace {
        dev = dev.store_namespace(ns);
    }
    let oauth = dev.into_oauth().expect("dev provider");
    mcp_runtime::McpServer::builder()
        .public_url(public)
        .oauth(oauth)
        .tools(mcp_runtime::tools![whoami])
        .workers(1)
        .build()
        .expect("builds")
}

/// Two replicas on one Redis act as one authorization server: a client registered on one
/// signs in there, redeems its code on the other, refreshes across them, and a refresh token
/// replayed on either revokes; both sign with the same key, and each verifies the other's
/// tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_one_redis_are_one_authorization_server() {
    use crate::common::*;
    use crate::devserver::{code_for_resource, exchange, pkce, public_client};
    let redis = Redis::start();
    let public = free_public_url();
    let open = || redis.store();
    // Started together, they still agree on one signing key.
    let (sa, sb) = std::thread::scope(|s| {
        let (sa, sb) = (open(), open());
        let pa = public.clone();
        let pb = public.clone();
        let ta = s.spawn(move || replica(sa, &pa));
        let tb = s.spawn(move || replica(sb, &pb));
        (ta.join().expect("a"), tb.join().expect("b"))
    });
    let a = sa.start("127.0.0.1:0").expect("starts");
    let b = sb.start("127.0.0.1:0").expect("starts");
    let (base_a, base_b) = (
        format!("http://{}", a.addr()),
        format!("http://{}", b.addr()),
    );
    let (_, jwks_a) = get_json(format!("{base_a}/oauth/jwks")).await;
    let (_, jwks_b) = get_json(format!("{base_b}/oauth/jwks")).await;
    assert_eq!(jwks_a, jwks_b, "one key set");

    let client_id = public_client(&base_a).await;
    let (verifier, challenge) = pkce();
    let code = code_for_resource(&base_a, &public, &client_id, &challenge, "openid").await;
    // Redeemed on B; a second redemption (on A) fails.
    let tokens = exchange(&base_b, &client_id, &code, &verifier).await;
    let again = http()
        .post(format!("{base_a}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client_id.as_str()),
            ("code_verifier", verifier.as_str()),
            ("redirect_uri", crate::devserver::REDIRECT),
        ])
        .send()
        .await
        .expect("replay");
    assert_eq!(again.status(), 400, "a code is single-use across replicas");
    let refresh_on = |base: String, token: String| {
        let client_id = client_id.clone();
        async move {
            http()
                .post(format!("{base}/oauth/token"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", client_id.as_str()),
                ])
                .send()
                .await
                .expect("refresh")
        }
    };
    // The replay on A revoked what B issued for that code.
    let first_refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let r = refresh_on(base_b.clone(), first_refresh).await;
    assert_eq!(r.status(), 400, "revoked across replicas");

    // A second sign-in, the other way round: the code from B, redeemed on A.
    let code = code_for_resource(&base_b, &public, &client_id, &challenge, "openid").await;
    let tokens = exchange(&base_a, &client_id, &code, &verifier).await;
    // The token opens both replicas.
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    for running in [&a, &b] {
        let mut c = Client::new(running);
        c.bearer = Some(access.clone());
        let c = c.connect_raw(V_LATEST).await;
        assert_eq!(
            text(&c.call("whoami", serde_json::json!({})).await),
            "dev-user"
        );
    }
    // Refreshed on A; the old refresh token replayed on B revokes the family, the rotated one
    // included.
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let r = refresh_on(base_a.clone(), refresh.clone()).await;
    assert_eq!(r.status(), 200);
    let rotated: serde_json::Value = r.json().await.expect("json");
    let r = refresh_on(base_b.clone(), refresh).await;
    assert_eq!(
        r.status(),
        400,
        "the old refresh token replayed on the other replica"
    );
    let r = refresh_on(
        base_a.clone(),
        rotated["refresh_token"]
            .as_str()
            .expect("rotated")
            .to_owned(),
    )
    .await;
    assert_eq!(r.status(), 400, "the replay revoked the whole family");
    a.stop().await;
    b.stop().await;
}

/// Two replicas sharing sessions through Redis: a session begun on one is served by the other,
/// bound to its caller; deleted on one, it ends on the other; with Redis down a new session
/// cannot start (503 naming the store), and sessions resume once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_sessions_through_redis() {
    use crate::common::*;
    let redis = Redis::start();
    let port = redis.port;
    let replica = || {
        let store = redis.store();
        mcp_runtime::McpServer::builder()
            .tools(mcp_runtime::tools![crate::fixtures::add])
            .session_store(store)
            .session_idle_timeout(Duration::from_secs(4))
            .workers(1)
            .build()
            .expect("builds")
            .start("127.0.0.1:0")
            .expect("starts")
    };
    let (a, b) = (replica(), replica());
    let on_a = Client::connect(&a, V_LATEST).await;
    let session = on_a.session.clone().expect("a session");
    // The same session, on B.
    let mut on_b = Client::new(&b);
    on_b.session = Some(session.clone());
    on_b.version = on_a.version.clone();
    assert_eq!(
        text(
            &on_b
                .call("add-numbers", serde_json::json!({"a": 2, "b": 3}))
                .await
        ),
        "5"
    );
    assert_eq!(
        text(
            &on_a
                .call("add-numbers", serde_json::json!({"a": 1, "b": 1}))
                .await
        ),
        "2"
    );
    // An id no replica made is still unknown.
    let mut stranger = Client::new(&b);
    stranger.session = Some("0123456789abcdef0123456789abcdef".into());
    let r = stranger
        .post_raw(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(r.status, 404, "{r:?}");
    // Deleted on B: A lets go at its next confirmation (within a quarter of the idle timeout).
    let r = on_b
        .request(reqwest::Method::DELETE)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = on_a
        .post_raw(&serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .await;
    assert_eq!(r.status, 404, "deleted on the other replica: {r:?}");

    // Redis down: a new session cannot start, and the reason is given.
    let live = Client::connect(&a, V_LATEST).await;
    drop(redis);
    let r = Client::new(&b).post_raw(&init_body(V_LATEST)).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert!(
        r.body
            .contains("the session cannot be saved to the shared store")
            && r.body
                .contains(&format!("Redis at redis://127.0.0.1:{port}")),
        "{}",
        r.body
    );
    // A session this replica holds goes on (confirmation failures are logged, not fatal).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        text(
            &live
                .call("add-numbers", serde_json::json!({"a": 3, "b": 4}))
                .await
        ),
        "7"
    );
    // Back up: new sessions again, shared again.
    let _again = Redis::start_on(port);
    let mut started = None;
    for _ in 0..50 {
        let r = Client::new(&b).post_raw(&init_body(V_LATEST)).await;
        if r.status == 200 {
            started = r
                .headers
                .get("mcp-session-id")
                .map(|v| v.to_str().expect("ascii").to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut there = Client::new(&a);
    there.session = Some(started.expect("a session once Redis is back"));
    there.version = V_LATEST.into();
    assert_eq!(
        text(
            &there
                .call("add-numbers", serde_json::json!({"a": 20, "b": 22}))
                .await
        ),
        "42"
    );
    a.stop().await;
    b.stop().await;
}

/// The `kid` a token was signed with.
fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().expect("a JWT");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64url");
    let v: serde_json::Value = serde_json::from_slice(&raw).expect("json");
    v["kid"].as_str().expect("kid").to_owned()
}

/// A key rotation across two replicas on one Redis: the next key is published by both before
/// it signs, tokens of the previous key keep verifying, and the rotation after drops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_rotate_across_replicas_without_downtime() {
    use crate::common::*;
    use crate::devserver::{code_for_resource, exchange, pkce, public_client};
    use mcp_runtime::providers::rotate_signing_key;
    let redis = Redis::start();
    let public = free_public_url();
    let open = || redis.store();
    let a = replica(open(), &public).start("127.0.0.1:0").expect("a");
    let b = replica(open(), &public).start("127.0.0.1:0").expect("b");
    let (base_a, base_b) = (
        format!("http://{}", a.addr()),
        format!("http://{}", b.addr()),
    );
    let client_id = public_client(&base_a).await;
    let (verifier, challenge) = pkce();
    let sign_in = |base: String| {
        let (client_id, public, verifier, challenge) = (
            client_id.clone(),
            public.clone(),
            verifier.clone(),
            challenge.clone(),
        );
        async move {
            let code = code_for_resource(&base, &public, &client_id, &challenge, "openid").await;
            exchange(&base, &client_id, &code, &verifier).await["access_token"]
                .as_str()
                .expect("access")
                .to_owned()
        }
    };
    let opens = |running: &mcp_runtime::RunningServer, token: &str| {
        let url = running.url();
        let token = token.to_owned();
        async move {
            http()
                .post(url)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(init_body(V_LATEST).to_string())
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }
    };
    let old = sign_in(base_a.clone()).await;
    let first_kid = kid_of(&old);
    // Another token of the first key, presented only once that key is retired (a token
    // verified before stays in the verified-token cache until it expires: a rotation retires
    // a key after its tokens have expired, it does not revoke them).
    let unseen = sign_in(base_b.clone()).await;
    assert_eq!(kid_of(&unseen), first_kid);

    // Rotate now (a zero publication time, for the test); replicas read the ring again at
    // their endpoints, at most once a second.
    let store = open();
    // The ring in Redis is sealed: no private key in the clear.
    let raw = store
        .get(Space::Keys, "signing")
        .await
        .expect("read")
        .expect("a ring");
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        raw.starts_with(r#"{"sealed":""#) && !raw.contains("pkcs8"),
        "{raw}"
    );
    let next = rotate_signing_key(&*store, Some(&STORE_KEY), Duration::ZERO)
        .await
        .expect("rotates");
    assert_ne!(next, first_kid);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for base in [&base_a, &base_b] {
        let (_, jwks) = get_json(format!("{base}/oauth/jwks")).await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert_eq!(kids, [first_kid.as_str(), next.as_str()], "{base}");
    }
    let new = sign_in(base_b.clone()).await;
    assert_eq!(kid_of(&new), next, "the new key signs");
    for running in [&a, &b] {
        assert_eq!(opens(running, &new).await, 200, "a new token opens both");
        assert_eq!(
            opens(running, &old).await,
            200,
            "an old token still opens both"
        );
    }

    // A rotation that publishes a later key: the current one keeps signing, the first goes.
    let later = rotate_signing_key(&*store, Some(&STORE_KEY), Duration::from_secs(3600))
        .await
        .expect("rotates");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, jwks) = get_json(format!("{base_a}/oauth/jwks")).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids, [next.as_str(), later.as_str()]);
    let (_, _) = get_json(format!("{base_b}/oauth/jwks")).await;
    let newer = sign_in(base_a.clone()).await;
    assert_eq!(kid_of(&newer), next, "a key signs only from its moment");
    for running in [&a, &b] {
        assert_eq!(
            opens(running, &unseen).await,
            401,
            "the first key is retired"
        );
        assert_eq!(opens(running, &newer).await, 200);
    }
    a.stop().await;
    b.stop().await;
}

/// Two different servers (two public URLs) on one Redis: neither knows the other's clients,
/// codes or refresh tokens (each server's records live under a namespace derived from its
/// public URL); and with one namespace forced on both, a code or refresh token still works
/// only at the server that issued it (the records name their resource).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_redis_keep_their_grants_apart() {
    use crate::devserver::{code_for_resource, exchange, pkce, public_client};
    let redis = Redis::start();
    for namespace in [None, Some("one-store")] {
        let (public_a, public_b) = (free_public_url(), free_public_url());
        let a = replica_in(redis.store(), &public_a, namespace)
            .start("127.0.0.1:0")
            .expect("starts");
        let b = replica_in(redis.store(), &public_b, namespace)
            .start("127.0.0.1:0")
            .expect("starts");
        let (base_a, base_b) = (
            format!("http://{}", a.addr()),
            format!("http://{}", b.addr()),
        );
        let client_id = public_client(&base_a).await;
        let (verifier, challenge) = pkce();
        let code = code_for_resource(&base_a, &public_a, &client_id, &challenge, "openid").await;
        let redeem = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("redirect_uri", crate::devserver::REDIRECT.to_owned()),
            ("client_id", client_id.clone()),
            ("code_verifier", verifier.clone()),
        ];
        // A's code at B: refused.
        let (status, body) = token_at(&base_b, redeem.clone()).await;
        match namespace {
            None => {
                assert_eq!(status, 401, "B does not know A's client: {body}");
                assert_eq!(body["error"], "invalid_client");
            }
            Some(_) => {
                assert_eq!(status, 400, "{body}");
                assert_eq!(body["error"], "invalid_grant");
                assert_eq!(
                    body["error_description"],
                    "the authorization code was issued by another server"
                );
            }
        }
        // With the code spent by B's refusal (a take, under one namespace), a fresh sign-in.
        let code = match namespace {
            None => code,
            Some(_) => {
                code_for_resource(&base_a, &public_a, &client_id, &challenge, "openid").await
            }
        };
        let tokens = exchange(&base_a, &client_id, &code, &verifier).await;
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            (
                "refresh_token",
                tokens["refresh_token"]
                    .as_str()
                    .expect("refresh")
                    .to_owned(),
            ),
            ("client_id", client_id.clone()),
        ];
        let (status, body) = token_at(&base_b, form.clone()).await;
        match namespace {
            None => assert_eq!(status, 401, "B does not know A's client: {body}"),
            Some(_) => {
                assert_eq!(status, 400, "{body}");
                assert_eq!(
                    body["error_description"],
                    "the refresh token was issued by another server"
                );
            }
        }
        let (status, body) = token_at(&base_a, form).await;
        assert_eq!(status, 200, "A's refresh token still works at A: {body}");
        a.stop().await;
        b.stop().await;
    }
}

async fn token_at(base: &str, form: Vec<(&'static str, String)>) -> (u16, serde_json::Value) {
    let r = crate::common::http()
        .post(format!("{base}/oauth/token"))
        .form(&form)
        .send()
        .await
        .expect("token");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}
