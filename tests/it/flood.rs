//! Nobody can exhaust the authorization server: a flood of anonymous registrations (from many
//! addresses, through a trusted reverse proxy) evicts the oldest unused registrations and
//! never locks a newcomer out, not even across a restart of a file store; one address is
//! rate-limited (429 with `Retry-After`) and a forged `X-Forwarded-For` changes nothing;
//! registrations nobody signs in with expire; one account signing in endlessly revokes its
//! own oldest grants, not everyone's refresh tokens.

use std::sync::Arc;
use std::time::Duration;

use mcp_runtime::providers::{DevProvider, RateLimits};
use serde_json::{Value, json};

use crate::common::*;
use crate::devserver::{REDIRECT, code_for_resource, exchange, pkce, public_client};
use crate::store::{free_public_url, open_released, temp_file};

fn dev(
    store: Arc<dyn mcp_runtime::store::Store>,
    public: &str,
    dev: DevProvider,
) -> mcp_runtime::RunningServer {
    let oauth = dev
        .auto_approve(true)
        .store(store)
        .into_oauth()
        .expect("dev provider");
    mcp_runtime::McpServer::builder()
        .public_url(public)
        .oauth(oauth)
        .build()
        .expect("builds")
        .start("127.0.0.1:0")
        .expect("starts")
}

/// Registers a client as if from `from` (an `X-Forwarded-For` address): status and body.
async fn register_from(base: &str, from: Option<&str>) -> (u16, Option<String>, Value) {
    let mut rb = http().post(format!("{base}/oauth/register")).json(
        &json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"]}),
    );
    if let Some(ip) = from {
        rb = rb.header("x-forwarded-for", ip);
    }
    let r = rb.send().await.expect("register");
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, retry, r.json().await.expect("json"))
}

/// 1,100 registrations from 1,100 addresses (behind a trusted proxy on 127.0.0.1), 8 at a time.
async fn flood(base: &str) {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8u32 {
        let base = base.to_owned();
        tasks.spawn(async move {
            for i in 0..1100u32 / 8 + 1 {
                let n = worker * 1000 + i;
                let ip = format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255);
                let (status, _, body) = register_from(&base, Some(&ip)).await;
                assert_eq!(status, 201, "{ip}: {body}");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("flood task");
    }
}

async fn sign_in(base: &str, public: &str, client_id: &str) -> Value {
    let (verifier, challenge) = pkce();
    let code = code_for_resource(base, public, client_id, &challenge, "openid").await;
    exchange(base, client_id, &code, &verifier).await
}

/// After a flood of registrations a newcomer registers and signs in, before and after a
/// restart on the same file; the oldest unused registration was evicted, a client that had
/// signed in was not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_flood_locks_nobody_out() {
    let path = temp_file("flood");
    let public = free_public_url();
    let limits = || RateLimits::default().trusted_proxies(["127.0.0.1"]);
    let running = dev(
        Arc::new(open_released(&path)),
        &public,
        DevProvider::new().rate_limits(limits()),
    );
    let base = format!("http://{}", running.addr());
    let signed_in = public_client(&base).await;
    let _ = sign_in(&base, &public, &signed_in).await;
    let oldest_unused = public_client(&base).await;
    flood(&base).await;
    let newcomer = public_client(&base).await;
    let tokens = sign_in(&base, &public, &newcomer).await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let _ = sign_in(&base, &public, &signed_in).await;
    let r = no_redirect_authorize(&base, &oldest_unused).await;
    assert!(
        r.contains("unknown client_id"),
        "the oldest unused one was evicted: {r}"
    );
    running.stop().await;

    // The file keeps what it kept: still nobody locked out.
    let running = dev(
        Arc::new(open_released(&path)),
        &public,
        DevProvider::new().rate_limits(limits()),
    );
    let base = format!("http://{}", running.addr());
    let after = public_client(&base).await;
    let tokens = sign_in(&base, &public, &after).await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    running.stop().await;
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

async fn no_redirect_authorize(base: &str, client_id: &str) -> String {
    let (_, challenge) = pkce();
    let url = reqwest::Url::parse_with_params(
        &format!("{base}/oauth/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .expect("url");
    crate::devserver::no_redirects()
        .get(url)
        .send()
        .await
        .expect("authorize")
        .text()
        .await
        .expect("body")
}

/// One address: past its registration limit, 429 with `Retry-After` and a JSON body that says
/// what to do; a forged `X-Forwarded-For` from a peer nobody trusts changes nothing.
#[tokio::test]
async fn one_address_is_rate_limited_and_cannot_forge_another() {
    let public = free_public_url();
    let running = dev(
        Arc::new(mcp_runtime::store::MemoryStore::new()),
        &public,
        DevProvider::new().rate_limits(RateLimits::per_minute(5, 120, 240, 120)),
    );
    let base = format!("http://{}", running.addr());
    for i in 0..5 {
        let (status, _, body) = register_from(&base, Some(&format!("10.0.0.{i}"))).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, retry, body) = register_from(&base, Some("10.9.9.9")).await;
    assert_eq!(
        status, 429,
        "the header of an untrusted peer is ignored: {body}"
    );
    let retry: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=12).contains(&retry), "{retry}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        body["error_description"]
            .as_str()
            .expect("description")
            .starts_with("too many requests from this address; try again in"),
        "{body}"
    );
    // The other endpoints have their own budgets.
    let (status, _) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, 200);
    running.stop().await;
}

/// A registration nobody signs in with is forgotten after its time; one that signed in stays.
#[tokio::test]
async fn unused_registrations_expire() {
    let public = free_public_url();
    let running = dev(
        Arc::new(mcp_runtime::store::MemoryStore::new()),
        &public,
        DevProvider::new().unused_client_ttl(Duration::from_millis(600)),
    );
    let base = format!("http://{}", running.addr());
    let unused = public_client(&base).await;
    let used = public_client(&base).await;
    let _ = sign_in(&base, &public, &used).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let page = no_redirect_authorize(&base, &unused).await;
    assert!(page.contains("unknown client_id"), "{page}");
    let tokens = sign_in(&base, &public, &used).await;
    assert!(tokens["access_token"].is_string());
    running.stop().await;
}

/// One account with endless sign-ins bounds itself (its oldest grant is revoked past 100),
/// and everyone else still gets refresh tokens.
#[tokio::test]
async fn one_account_cannot_exhaust_refresh_tokens() {
    let public = free_public_url();
    let running = dev(
        Arc::new(mcp_runtime::store::MemoryStore::new()),
        &public,
        DevProvider::new().rate_limits(RateLimits::off()),
    );
    let base = format!("http://{}", running.addr());
    let client = public_client(&base).await;
    let first = sign_in(&base, &public, &client).await;
    for _ in 0..100 {
        let t = sign_in(&base, &public, &client).await;
        assert!(t["refresh_token"].is_string(), "{t}");
    }
    let r = http()
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                first["refresh_token"].as_str().expect("refresh"),
            ),
            ("client_id", client.as_str()),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 400, "the 101st grant revoked the first");
    running.stop().await;
}

/// Sign-ins in progress are bounded per client: one client opening endless sign-in pages
/// evicts its own oldest, never another client's (whose user then finishes signing in).
#[tokio::test]
async fn one_client_cannot_evict_another_clients_sign_in() {
    let public = free_public_url();
    let oauth = DevProvider::new()
        .rate_limits(RateLimits::off())
        .store(Arc::new(mcp_runtime::store::MemoryStore::new()))
        .into_oauth()
        .expect("dev provider");
    let running = mcp_runtime::McpServer::builder()
        .public_url(&public)
        .oauth(oauth)
        .build()
        .expect("builds")
        .start("127.0.0.1:0")
        .expect("starts");
    let base = format!("http://{}", running.addr());
    let page_for = |client: String| {
        let base = base.clone();
        async move {
            let (_, challenge) = pkce();
            let url = reqwest::Url::parse_with_params(
                &format!("{base}/oauth/authorize"),
                &[
                    ("response_type", "code"),
                    ("client_id", client.as_str()),
                    ("redirect_uri", REDIRECT),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("state", "s"),
                ],
            )
            .expect("url");
            let page = http()
                .get(url)
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html");
            page.split(r#"name="request" value=""#)
                .nth(1)
                .and_then(|s| s.split('"').next())
                .expect("a request id")
                .to_owned()
        }
    };
    let approve = |request: String| {
        let base = base.clone();
        async move {
            crate::devserver::no_redirects()
                .post(format!("{base}/oauth/authorize"))
                .form(&[("request", request.as_str()), ("decision", "approve")])
                .send()
                .await
                .expect("approve")
                .status()
                .as_u16()
        }
    };
    let honest = public_client(&base).await;
    let waiting = page_for(honest.clone()).await;
    let flooder = public_client(&base).await;
    let first_flood = page_for(flooder.clone()).await;
    for _ in 0..150 {
        let _ = page_for(flooder.clone()).await;
    }
    assert_eq!(
        approve(waiting).await,
        302,
        "the honest client's sign-in survives the flood"
    );
    assert_eq!(
        approve(first_flood).await,
        400,
        "the flooder's oldest sign-in was evicted (past 100 of its own)"
    );
    running.stop().await;
}
