//! The OAuth proxy (`oauth = "proxy"`) against a local identity provider without dynamic
//! registration: the whole sign-in, consent and its CSRF token, the confused-deputy attacks,
//! `state` replay and swap, upstream errors and outages, and GitHub's form-encoded answers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use mcp_runtime::prelude::*;
use mcp_runtime::providers::ProxyProvider;
use mcp_runtime::{McpServer, RunningServer};
use serde_json::{Value, json};

use crate::common::*;
use crate::devserver::{no_redirects, pkce};
use crate::idp::*;

#[tokio::test]
async fn a_client_signs_in_through_the_proxy_and_gets_this_servers_tokens() {
    let idp = Idp::start();
    let (server, base) = start_proxy(idp.provider().auto_approve(true));

    // Discovery: this server is the authorization server, at mcp-use's paths.
    for doc in ["oauth-authorization-server", "openid-configuration"] {
        let (status, m) = get_json(format!("{base}/.well-known/{doc}")).await;
        assert_eq!(status, 200, "{m}");
        assert_eq!(m["issuer"], base);
        assert_eq!(m["authorization_endpoint"], format!("{base}/authorize"));
        assert_eq!(m["token_endpoint"], format!("{base}/token"));
        assert_eq!(m["registration_endpoint"], format!("{base}/register"));
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    }
    let (_, prm) = get_json(format!("{base}/.well-known/oauth-protected-resource/mcp")).await;
    assert_eq!(prm["authorization_servers"], json!([base]));

    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let (status, h, body) = get(
        &authorize_url(
            &base,
            &client_id,
            &challenge,
            "openid admin",
            "client-state",
        ),
        None,
    )
    .await;
    assert_eq!(status, 302, "{body}");
    let upstream = location(&h);
    assert!(
        upstream.starts_with(&format!("{}/authorize?", idp.url)),
        "{upstream}"
    );
    let q = query(&upstream);
    // This server's client id, callback, PKCE and state upstream; nothing of the client's.
    assert_eq!(q["client_id"], "proxy-client");
    assert_eq!(q["redirect_uri"], format!("{base}/oauth/callback"));
    assert_ne!(q["code_challenge"], challenge);
    assert_ne!(q["state"], "client-state");
    assert_eq!(q["audience"], API, "extra authorize parameters");
    assert!(
        !q.contains_key("resource"),
        "resource is not forwarded by default"
    );
    assert_eq!(q["scope"], "openid profile email admin");

    let back = through_upstream(&h).await;
    assert_eq!(
        idp.last_authorize.lock().expect("lock")["code_challenge_method"],
        "S256"
    );
    assert!(back.starts_with(CLIENT_REDIRECT), "{back}");
    let q = query(&back);
    assert_eq!(q["state"], "client-state");
    assert_eq!(q["iss"], base, "RFC 9207");
    let (status, tokens) = redeem(&base, &client_id, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let upstream_access = idp.issued.lock().expect("lock")[0].clone();
    assert_ne!(
        access, upstream_access,
        "clients never see the upstream token"
    );
    assert_eq!(tokens["scope"], "openid admin");

    let c = Client::connect_as(&server, V_LATEST, Some(access)).await;
    let who = c.call("whoami", json!({})).await;
    let who = &who["result"]["structuredContent"];
    assert_eq!(who["sub"], "alice");
    assert_eq!(who["email"], "alice@example.com");
    assert_eq!(who["picture"], "https://example.com/alice.png");
    assert_eq!(
        who["upstream"],
        upstream_access.as_str(),
        "tools reach the upstream token"
    );
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "x"})).await),
        "did x"
    );

    // Refresh rotates; the replayed refresh token revokes the family.
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", client_id.as_str()),
    ];
    let r = http()
        .post(format!("{base}/token"))
        .form(&form)
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 200);
    let r = http()
        .post(format!("{base}/token"))
        .form(&form)
        .send()
        .await
        .expect("replay");
    assert_eq!(r.status(), 400);
    server.stop().await;
}

#[tokio::test]
async fn the_upstream_grants_the_scopes_and_its_errors_reach_the_client() {
    let idp = Idp::start();
    let (server, base) = start_proxy(idp.provider().auto_approve(true));
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (_, challenge) = pkce();

    // The user says no at the identity provider: the client hears it, with its state.
    idp.deny.store(true, Ordering::SeqCst);
    let (_, h, _) = get(
        &authorize_url(&base, &client_id, &challenge, "openid", "s1"),
        None,
    )
    .await;
    let back = through_upstream(&h).await;
    let q = query(&back);
    assert!(back.starts_with(CLIENT_REDIRECT), "{back}");
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s1");
    assert!(q["error_description"].contains("no thanks"), "{back}");
    idp.deny.store(false, Ordering::SeqCst);

    // The token endpoint is down: a precise error, at once.
    idp.down.store(true, Ordering::SeqCst);
    let (_, h, _) = get(
        &authorize_url(&base, &client_id, &challenge, "openid", "s2"),
        None,
    )
    .await;
    let back = through_upstream(&h).await;
    let q = query(&back);
    assert_eq!(q["error"], "temporarily_unavailable", "{back}");
    assert!(q["error_description"].contains("503"), "{back}");
    assert_eq!(q["state"], "s2");
    idp.down.store(false, Ordering::SeqCst);

    // A form-encoded token answer (GitHub) is read too.
    idp.form_encoded.store(true, Ordering::SeqCst);
    let (verifier, challenge) = pkce();
    let (_, h, _) = get(
        &authorize_url(&base, &client_id, &challenge, "openid", "s3"),
        None,
    )
    .await;
    let back = through_upstream(&h).await;
    let q = query(&back);
    let (status, tokens) = redeem(&base, &client_id, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    server.stop().await;
}

/// The confused deputy of the MCP security best practices: an attacker's client (its
/// redirect URI on the attacker's site) never gets a code for a user who did not approve it,
/// and the consent form needs the cookie that was set with it.
#[tokio::test]
async fn consent_is_per_client_and_csrf_protected() {
    let idp = Idp::start();
    let (server, base) = start_proxy(idp.provider());
    let attacker = register(&base, "https://attacker.example/cb").await;
    let (_, challenge) = pkce();
    let url = reqwest::Url::parse_with_params(
        &format!("{base}/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", attacker.as_str()),
            ("redirect_uri", "https://attacker.example/cb"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "x"),
        ],
    )
    .expect("url");
    // A consent page, not a redirect: nothing reaches the upstream or the attacker yet.
    let (status, h, page) = get(url.as_str(), None).await;
    assert_eq!(status, 200);
    assert!(h.get("location").is_none());
    assert!(
        page.contains("Test &lt;Client&gt;"),
        "escaped client name: {page}"
    );
    assert!(
        page.contains("attacker.example"),
        "the redirect host is shown"
    );
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("frame-ancestors 'none'")
    );
    let set_cookie = h["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(set_cookie.starts_with("__Host-mcp-csrf="), "{set_cookie}");
    assert!(set_cookie.contains("Secure") && set_cookie.contains("SameSite=Strict"));
    let csrf = csrf_cookie(&h);
    let request_id = form_field(&page, "request");
    assert_eq!(form_field(&page, "csrf"), csrf);

    // A cross-site post carries no SameSite=Strict cookie: refused, and the transaction is
    // spent.
    let with_cookie = |csrf: &str| format!("__Host-mcp-csrf={csrf}");
    let (status, h, body) = post_consent(&base, None, &request_id, &csrf).await;
    assert_eq!(status, 403, "{body}");
    assert!(h.get("location").is_none());
    assert!(
        body.contains("security token is missing or wrong"),
        "{body}"
    );
    let (status, _, body) =
        post_consent(&base, Some(&with_cookie(&csrf)), &request_id, &csrf).await;
    assert_eq!(status, 400, "a spent transaction: {body}");

    // The form's token must match the cookie.
    let (_, h, page) = get(url.as_str(), None).await;
    let csrf = csrf_cookie(&h);
    let request_id = form_field(&page, "request");
    let (status, h, _) = post_consent(
        &base,
        Some(&with_cookie(&csrf)),
        &request_id,
        "not-the-token",
    )
    .await;
    assert_eq!(status, 403, "the form's token must match");
    assert!(h.get("location").is_none());

    // A real approval, in the browser that saw the page: on to the upstream, remembered.
    let (_, h, page) = get(url.as_str(), None).await;
    let csrf = csrf_cookie(&h);
    let request_id = form_field(&page, "request");
    let (status, h, body) =
        post_consent(&base, Some(&with_cookie(&csrf)), &request_id, &csrf).await;
    assert_eq!(status, 302, "{body}");
    assert!(location(&h).starts_with(&format!("{}/authorize?", idp.url)));
    let consent = h
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-mcp-consent="))
        .expect("consent remembered")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    // The same browser, the same client: straight to the upstream.
    let (status, h, _) = get(url.as_str(), Some(&consent)).await;
    assert_eq!(status, 302);
    assert!(location(&h).starts_with(&format!("{}/authorize?", idp.url)));
    // A forged approval (another client id under the same MAC) is not one.
    let other = register(&base, "https://attacker.example/cb2").await;
    let forged = consent.replacen(&attacker, &other, 1);
    let url2 = url
        .as_str()
        .replace(&attacker, &other)
        .replace("%2Fcb", "%2Fcb2");
    let (status, _, _) = get(&url2, Some(&forged)).await;
    assert_eq!(status, 200, "a consent page again");
    server.stop().await;
}

/// Login CSRF across browsers (the MCP security best practices): an attacker registers a
/// client with their own redirect URI, approves the consent page in their own browser, and
/// sends the provider link to a victim whose provider remembers consent. The victim's browser
/// reaches the callback without the cookie of the browser that began the sign-in: refused,
/// nothing consumed, and no code for the victim's account reaches the attacker.
#[tokio::test]
async fn a_sign_in_finishes_only_in_the_browser_that_began_it() {
    let idp = Idp::start();
    let (server, base) = start_proxy(idp.provider());
    let evil = "https://attacker.example/cb";
    let attacker = register(&base, evil).await;
    let (_, challenge) = pkce();
    let url = reqwest::Url::parse_with_params(
        &format!("{base}/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", attacker.as_str()),
            ("redirect_uri", evil),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "x"),
        ],
    )
    .expect("url");
    // The attacker's browser: the consent page, approved.
    let (_, h, page) = get(url.as_str(), None).await;
    let (status, h, body) = approve_consent(&base, &h, &page).await;
    assert_eq!(status, 302, "{body}");
    let set = h
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-mcp-signin-"))
        .map(str::to_owned);
    let link = location(&h);

    // The victim's browser: the provider remembers their consent and sends them straight
    // back, with a code for their account.
    let (status, h, _) = get(&link, None).await;
    assert_eq!(status, 302);
    let callback = location(&h);
    let name = set
        .as_deref()
        .and_then(|c| c.split('=').next())
        .unwrap_or("__Host-mcp-signin-x")
        .to_owned();
    for victims_cookies in [
        None,
        Some(format!("{name}=not-the-nonce")),
        Some("__Host-mcp-consent=whatever".to_owned()),
    ] {
        let (status, h, body) = get(&callback, victims_cookies.as_deref()).await;
        assert_eq!(status, 403, "{victims_cookies:?}: {body}");
        assert!(h.get("location").is_none(), "no code goes anywhere");
        assert!(body.contains("started in another browser"), "{body}");
    }
    let set = set.expect("the sign-in cookie");
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    let attackers_cookie = set.split(';').next().expect("pair").to_owned();
    // Nothing was consumed: the browser that began the sign-in still finishes it (which gives
    // the attacker only what the attacker's own browser could reach).
    let (status, h, body) = get(&callback, Some(&attackers_cookie)).await;
    assert_eq!(status, 302, "{body}");
    assert!(location(&h).starts_with(evil), "{}", location(&h));
    server.stop().await;
}

/// `state` is a key to a server-side transaction, single-use, and bound to its PKCE: replayed,
/// it is refused; swapped, the upstream code does not redeem.
#[tokio::test]
async fn state_is_single_use_and_bound_to_its_transaction() {
    let idp = Idp::start();
    let (server, base) = start_proxy(idp.provider().auto_approve(true));
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (_, challenge) = pkce();
    let (_, h, _) = get(
        &authorize_url(&base, &client_id, &challenge, "openid", "a"),
        None,
    )
    .await;
    let upstream_a = location(&h);
    let cookie_a = signin_cookie(&h);
    let (_, h, _) = get(
        &authorize_url(&base, &client_id, &challenge, "openid", "b"),
        None,
    )
    .await;
    let upstream_b = location(&h);
    // One browser, two sign-ins: each has its own cookie.
    let both = format!("{cookie_a}; {}", signin_cookie(&h));

    // The IdP answers A; the answer is presented with B's state.
    let (_, h, _) = get(&upstream_a, None).await;
    let callback_a = location(&h);
    let state_b = query(&upstream_b)["state"].clone();
    let state_a = query(&upstream_a)["state"].clone();
    let swapped = callback_a.replace(&state_a, &state_b);
    let (status, h, body) = get(&swapped, Some(&both)).await;
    assert_eq!(status, 302, "{body}");
    let q = query(&location(&h));
    assert_eq!(q["state"], "b");
    assert_eq!(
        q["error"], "server_error",
        "a refused code is not worth a retry"
    );
    assert!(q["error_description"].contains("PKCE"), "{q:?}");

    // A's own callback works once; a replay is refused.
    let (status, h, _) = get(&callback_a, Some(&both)).await;
    assert_eq!(status, 302);
    let gone = h
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(cookie_a.split('=').next().expect("name")))
        .expect("the sign-in cookie is cleared")
        .to_owned();
    assert!(gone.contains("Max-Age=0"), "{gone}");
    let (status, _, body) = get(&callback_a, Some(&both)).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("unknown, expired or already finished"),
        "{body}"
    );
    // An unknown state: the same.
    let (status, _, _) = get(&format!("{base}/oauth/callback?code=x&state=made-up"), None).await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[test]
fn every_missing_or_malformed_proxy_setting_is_named() {
    let e = ProxyProvider::new(
        "http://idp.example/authorize",
        "https://idp.example/token",
        "https://idp.example",
        "c",
    )
    .jwks_url("https://idp.example/jwks")
    .resolve()
    .expect_err("plain http");
    assert!(
        e.to_string()
            .starts_with("MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT is invalid"),
        "{e}"
    );
    let e = ProxyProvider::new(
        "https://idp.example/authorize",
        "https://idp.example/token",
        "https://idp.example",
        "c",
    )
    .resolve()
    .expect_err("no way to verify");
    assert!(
        e.to_string()
            .starts_with("MCP_USE_OAUTH_PROXY_JWKS_URL is not set"),
        "{e}"
    );
}

/// Pass-through (mcp-use's way, by choice): the client gets the identity provider's own access
/// token, and the server verifies it against the provider's keys and audience.
#[tokio::test]
async fn pass_through_hands_clients_the_providers_token() {
    let idp = Idp::start();
    let (server, base) = start_proxy(idp.provider().auto_approve(true).pass_through(true));
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let (_, h, _) = get(
        &authorize_url(&base, &client_id, &challenge, "openid", "p"),
        None,
    )
    .await;
    let back = through_upstream(&h).await;
    let (status, tokens) = redeem(&base, &client_id, &query(&back)["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let upstream_access = idp.issued.lock().expect("lock")[0].clone();
    assert_eq!(tokens["access_token"], upstream_access.as_str());
    let c = Client::connect_as(&server, V_LATEST, Some(upstream_access)).await;
    assert_eq!(
        c.call("whoami", json!({})).await["result"]["structuredContent"]["sub"],
        "alice"
    );
    // Refreshing goes through this server's rotating refresh token.
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let r = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body["access_token"], tokens["access_token"],
        "still the provider's token"
    );
    server.stop().await;
}

#[test]
fn pass_through_needs_a_way_to_check_the_audience() {
    let e = ProxyProvider::new(
        "https://idp.example/authorize",
        "https://idp.example/token",
        "https://idp.example",
        "c",
    )
    .jwks_url("https://idp.example/jwks")
    .pass_through(true)
    .resolve()
    .expect_err("no audience");
    assert!(
        e.to_string()
            .starts_with("MCP_USE_OAUTH_PROXY_AUDIENCE is not set: in pass-through mode"),
        "{e}"
    );
}

/// Hostile requests at every endpoint get the precise OAuth error and status, and leave
/// nothing behind in the store.
#[tokio::test]
async fn hostile_requests_are_refused_and_store_nothing() {
    use mcp_runtime::store::{MemoryStore, Space, Store};
    let idp = Idp::start();
    let store = Arc::new(MemoryStore::new());
    let (server, base) = start_proxy(idp.provider().store(store.clone()));
    let counts = || {
        let store = store.clone();
        async move {
            let mut out = Vec::new();
            for space in Space::ALL {
                out.push((space, store.count(space).await.expect("count")));
            }
            out
        }
    };
    let before = counts().await;
    let post = |path: &'static str, ct: &'static str, body: Vec<u8>| {
        let base = base.clone();
        async move {
            let r = no_redirects()
                .post(format!("{base}{path}"))
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .expect("post");
            let status = r.status().as_u16();
            (status, r.text().await.expect("body"))
        }
    };
    let oauth_error = |body: &str| -> String {
        serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("not an OAuth error body: {body}"))
    };
    // Registration: oversized, not JSON, not an object, bad redirect URIs.
    let (s, b) = post("/register", "application/json", vec![b'{'; 100 * 1024]).await;
    assert_eq!(s, 413, "{b}");
    let (s, b) = post("/register", "application/json", b"{not json".to_vec()).await;
    assert_eq!(
        (s, oauth_error(&b).as_str()),
        (400, "invalid_client_metadata")
    );
    let (s, b) = post("/register", "application/json", b"[1]".to_vec()).await;
    assert_eq!(
        (s, oauth_error(&b).as_str()),
        (400, "invalid_client_metadata")
    );
    for uri in [
        "javascript:alert(1)",
        "https://a.example/cb#frag",
        "http://evil.example/cb",
        "data:text/html,x",
    ] {
        let body = json!({"redirect_uris": [uri]}).to_string().into_bytes();
        let (s, b) = post("/register", "application/json", body).await;
        assert_eq!(
            (s, oauth_error(&b).as_str()),
            (400, "invalid_redirect_uri"),
            "{uri}"
        );
    }
    let (s, b) = post("/register", "text/plain", b"{}".to_vec()).await;
    assert_eq!(
        (s, oauth_error(&b).as_str()),
        (400, "invalid_client_metadata")
    );

    // Token endpoint: wrong content type, unknown grant, unknown client, missing PKCE.
    let (s, b) = post("/token", "application/json", b"{}".to_vec()).await;
    assert_eq!((s, oauth_error(&b).as_str()), (400, "invalid_request"));
    let (s, b) = post(
        "/token",
        "application/x-www-form-urlencoded",
        b"grant_type=password&client_id=nobody".to_vec(),
    )
    .await;
    assert_eq!((s, oauth_error(&b).as_str()), (401, "invalid_client"));
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let after_registration = counts().await;
    let form = format!("grant_type=password&client_id={client_id}");
    let (s, b) = post(
        "/token",
        "application/x-www-form-urlencoded",
        form.into_bytes(),
    )
    .await;
    assert_eq!(
        (s, oauth_error(&b).as_str()),
        (400, "unsupported_grant_type")
    );
    let form = format!("grant_type=authorization_code&code=x&client_id={client_id}");
    let (s, b) = post(
        "/token",
        "application/x-www-form-urlencoded",
        form.into_bytes(),
    )
    .await;
    assert_eq!(
        (s, oauth_error(&b).as_str()),
        (400, "invalid_request"),
        "{b}"
    );

    // Authorization: plain PKCE, no PKCE, a mismatched redirect URI, an unknown client.
    let (_, challenge) = pkce();
    let plain = authorize_url(&base, &client_id, &challenge, "openid", "s")
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let (s, h, _) = get(&plain, None).await;
    assert_eq!(s, 302);
    assert_eq!(query(&location(&h))["error"], "invalid_request");
    let bare = authorize_url(&base, &client_id, &challenge, "openid", "s")
        .replace(&format!("code_challenge={challenge}&"), "");
    let (s, h, _) = get(&bare, None).await;
    assert_eq!(s, 302);
    assert!(query(&location(&h))["error_description"].contains("PKCE is required"));
    let elsewhere = authorize_url(&base, &client_id, &challenge, "openid", "s")
        .replace("127.0.0.1%3A9%2Fcb", "evil.example%2Fcb");
    let (s, h, body) = get(&elsewhere, None).await;
    assert_eq!(s, 400, "no redirect to an unregistered URI: {body}");
    assert!(h.get("location").is_none());
    let unknown = authorize_url(&base, "nobody", &challenge, "openid", "s");
    let (s, _, body) = get(&unknown, None).await;
    assert_eq!(s, 400);
    assert!(body.contains("unknown client_id"), "{body}");
    // Callback junk.
    let (s, _, _) = get(&format!("{base}/oauth/callback"), None).await;
    assert_eq!(s, 400);
    let (s, _, _) = get(&format!("{base}/oauth/callback?state=x&state=y"), None).await;
    assert_eq!(s, 400);

    assert_eq!(counts().await, after_registration, "refusals store nothing");
    assert_ne!(
        before, after_registration,
        "the one valid registration was stored"
    );
    server.stop().await;
}

fn proxy_on(idp: &Idp, path: &std::path::Path, public: &str) -> (McpServer, RunningServer) {
    proxy_with(idp, Arc::new(crate::store::open_released(path)), public)
}

fn proxy_with(
    idp: &Idp,
    store: Arc<dyn mcp_runtime::store::Store>,
    public: &str,
) -> (McpServer, RunningServer) {
    let oauth = idp
        .provider()
        .auto_approve(true)
        .store(store)
        .encryption_key([7u8; 32])
        .resolve()
        .expect("settings")
        .into_oauth()
        .expect("proxy");
    let server = McpServer::builder()
        .public_url(public)
        .tools(tools![whoami, admin_action])
        .oauth(oauth)
        .workers(1)
        .build()
        .expect("builds");
    let running = server.start("127.0.0.1:0").expect("starts");
    (server, running)
}

/// With a file store and a fixed encryption key, a restart loses nothing: the client's
/// registration, its refresh token, its access token (the signing key is kept) and the
/// upstream tokens tools use.
#[tokio::test]
async fn a_proxy_sign_in_survives_a_restart() {
    let idp = Idp::start();
    let path = crate::store::temp_file("proxy-restart");
    let public = crate::store::free_public_url();

    let (server, running) = proxy_on(&idp, &path, &public);
    let base = format!("http://{}", running.addr());
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let url = authorize_url_for(&base, &public, &client_id, &challenge, "openid", "r");
    let (status, h, body) = get(&url, None).await;
    assert_eq!(status, 302, "{body}");
    let cookie = signin_cookie(&h);
    // The provider sends the browser to the public URL's callback; the "proxy in front"
    // forwards it here.
    let (_, h, _) = get(&location(&h), None).await;
    let public_origin = public.trim_end_matches("/mcp");
    let callback = location(&h).replace(public_origin, &base);
    let (status, h, body) = get(&callback, Some(&cookie)).await;
    assert_eq!(status, 302, "{body}");
    let back = location(&h);
    let (status, tokens) = redeem(&base, &client_id, &query(&back)["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    running.stop().await;
    drop(server);

    let (_server, running) = proxy_on(&idp, &path, &public);
    let base = format!("http://{}", running.addr());
    let old_access = tokens["access_token"].as_str().expect("access").to_owned();
    let c = Client::connect_as(&running, V_LATEST, Some(old_access)).await;
    let who = c.call("whoami", json!({})).await;
    let upstream_access = idp.issued.lock().expect("lock")[0].clone();
    assert_eq!(
        who["result"]["structuredContent"]["upstream"],
        upstream_access.as_str(),
        "the upstream token decrypts after the restart"
    );
    let r = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().expect("refresh"),
            ),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 200);
    running.stop().await;
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

/// Two proxy replicas on one Redis: a sign-in begun on one comes back from the provider to the
/// other, its code is redeemed on the first, and the upstream token one stored (encrypted)
/// reaches tools on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_sign_in_crosses_replicas_on_one_redis() {
    let idp = Idp::start();
    let redis = crate::store::Redis::start();
    let public = crate::store::free_public_url();
    let open = || redis.store();
    let (_sa, a) = proxy_with(&idp, open(), &public);
    let (_sb, b) = proxy_with(&idp, open(), &public);
    let (base_a, base_b) = (
        format!("http://{}", a.addr()),
        format!("http://{}", b.addr()),
    );

    let client_id = register(&base_a, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let url = authorize_url_for(&base_a, &public, &client_id, &challenge, "openid", "r");
    let (status, h, body) = get(&url, None).await;
    assert_eq!(status, 302, "{body}");
    let cookie = signin_cookie(&h);
    let (_, h, _) = get(&location(&h), None).await;
    // The provider's redirect comes back through the balancer, to the other replica.
    let public_origin = public.trim_end_matches("/mcp");
    let callback = location(&h).replace(public_origin, &base_b);
    let (status, h, body) = get(&callback, Some(&cookie)).await;
    assert_eq!(status, 302, "the other replica finds the sign-in: {body}");
    let back = location(&h);
    assert!(back.starts_with(CLIENT_REDIRECT), "{back}");
    let (status, tokens) = redeem(&base_a, &client_id, &query(&back)["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let upstream_access = idp.issued.lock().expect("lock")[0].clone();
    for running in [&a, &b] {
        let c = Client::connect_as(running, V_LATEST, Some(access.clone())).await;
        let who = c.call("whoami", json!({})).await;
        assert_eq!(
            who["result"]["structuredContent"]["upstream"],
            upstream_access.as_str(),
            "the upstream token decrypts on every replica"
        );
    }
    a.stop().await;
    b.stop().await;
}
