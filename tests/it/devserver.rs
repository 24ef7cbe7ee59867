//! The embedded development authorization server (`oauth = "dev"`) over real HTTP: metadata,
//! registration, the sign-in page, PKCE, tokens, refresh rotation, and every refusal.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_runtime::RunningServer;
use mcp_runtime::auth::Auth;
use mcp_runtime::config::Branding;
use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use serde_json::{Value, json};

use crate::common::*;

pub const REDIRECT: &str = "http://127.0.0.1:9/cb";

/// Who is calling.
#[mcp_tool(name = "whoami", read_only)]
pub(crate) async fn whoami(auth: Auth) -> Json<Value> {
    Json(json!({"sub": auth.user.user_id, "email": auth.user.email, "scopes": auth.scopes}))
}

/// Admins only.
#[mcp_tool(name = "admin-action", scopes = "admin")]
pub(crate) async fn admin_action(action: String) -> String {
    format!("did {action}")
}

pub(crate) fn start_dev(auto_approve: bool) -> (RunningServer, String) {
    let oauth = DevProvider::new()
        .auto_approve(auto_approve)
        .into_oauth()
        .expect("dev provider");
    let server = start(
        McpServer::builder()
            .tools(tools![whoami, admin_action])
            .oauth(oauth),
    );
    let base = format!("http://{}", server.addr());
    (server, base)
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub(crate) async fn register(base: &str, body: Value) -> (u16, Value) {
    let r = http()
        .post(format!("{base}/oauth/register"))
        .json(&body)
        .send()
        .await
        .expect("register");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

pub async fn public_client(base: &str) -> String {
    let (status, c) = register(
        base,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
               "grant_types": ["authorization_code", "refresh_token"], "client_name": "test <b>client</b>"}),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    c["client_id"].as_str().expect("client_id").to_owned()
}

pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode([7u8; 40]);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    (verifier, URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

/// GET /oauth/authorize with `params`; returns the status, the headers and the body.
pub(crate) async fn authorize(
    base: &str,
    params: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let url =
        reqwest::Url::parse_with_params(&format!("{base}/oauth/authorize"), params).expect("url");
    let r = no_redirects().get(url).send().await.expect("authorize");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

/// The query of a redirect's `Location`.
pub(crate) fn location(headers: &reqwest::header::HeaderMap) -> HashMap<String, String> {
    let loc = headers
        .get("location")
        .expect("a Location header")
        .to_str()
        .expect("ascii");
    assert!(loc.starts_with(REDIRECT), "{loc}");
    reqwest::Url::parse(loc)
        .expect("url")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Runs the authorization request with auto-approve and returns the code.
pub(crate) async fn code_for(base: &str, client_id: &str, challenge: &str, scope: &str) -> String {
    code_for_resource(base, &format!("{base}/mcp"), client_id, challenge, scope).await
}

/// Runs the authorization request for `resource` with auto-approve and returns the code.
pub async fn code_for_resource(
    base: &str,
    resource: &str,
    client_id: &str,
    challenge: &str,
    scope: &str,
) -> String {
    let (status, headers, body) = authorize(
        base,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("scope", scope),
            ("state", "xyz"),
            ("resource", resource),
        ],
    )
    .await;
    assert_eq!(status, 302, "{body}");
    let q = location(&headers);
    assert_eq!(q.get("state").map(String::as_str), Some("xyz"));
    // RFC 9207: the issuer is the resource's origin.
    let issuer = reqwest::Url::parse(resource)
        .expect("resource URL")
        .origin()
        .ascii_serialization();
    assert_eq!(q.get("iss"), Some(&issuer), "RFC 9207 iss");
    q.get("code").expect("code").clone()
}

pub(crate) async fn token(
    base: &str,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = http()
        .post(format!("{base}/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("token");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.expect("json"))
}

/// The authorization-code grant as a public client, with the redirect URI: the raw answer.
pub(crate) async fn redeem(
    base: &str,
    code: &str,
    client_id: &str,
    verifier: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    token(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub async fn exchange(base: &str, client_id: &str, code: &str, verifier: &str) -> Value {
    let (status, headers, body) = redeem(base, code, client_id, verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    body
}

#[tokio::test]
pub(crate) async fn metadata_and_keys_are_published() {
    let (_server, base) = start_dev(true);
    let (status, m) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["issuer"], base);
    assert_eq!(
        m["authorization_endpoint"],
        format!("{base}/oauth/authorize")
    );
    assert_eq!(m["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(m["registration_endpoint"], format!("{base}/oauth/register"));
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        m["scopes_supported"],
        json!(["openid", "profile", "email", "offline_access", "admin"])
    );
    let (status, prm) = get_json(format!("{base}/.well-known/oauth-protected-resource/mcp")).await;
    assert_eq!(status, 200, "{prm}");
    assert_eq!(prm["authorization_servers"], json!([base]));
    assert_eq!(prm["resource"], format!("{base}/mcp"));
    let (status, jwks) = get_json(format!("{base}/oauth/jwks")).await;
    assert_eq!(status, 200, "{jwks}");
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    assert!(key.get("d").is_none(), "no private part is published");
    // The 401 asks for the identity baseline only.
    let r = Client::send(
        Client::new(&_server)
            .request(reqwest::Method::POST)
            .json(&init_body(V_LATEST)),
    )
    .await;
    assert_eq!(r.status, 401);
    let challenge = r.headers["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.contains(r#"scope="openid profile email""#),
        "{challenge}"
    );
}

#[tokio::test]
pub(crate) async fn the_code_flow_opens_the_endpoint_and_steps_up() {
    let (server, base) = start_dev(true);
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();
    let code = code_for(&base, &client_id, &challenge, "openid profile email").await;
    let t = exchange(&base, &client_id, &code, &verifier).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "openid profile email");
    assert_eq!(t["expires_in"], 3600);
    let access = t["access_token"].as_str().expect("access token").to_owned();
    // An RFC 9068 access token for this resource.
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("claims");
    assert_eq!(claims["aud"], format!("{base}/mcp"));
    assert_eq!(claims["iss"], base);
    assert_eq!(claims["client_id"], client_id);

    let c = Client::connect_as(&server, V_LATEST, Some(access)).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(who["result"]["structuredContent"]["sub"], "dev-user");
    assert_eq!(
        who["result"]["structuredContent"]["email"],
        "dev-user@localhost"
    );

    // No `admin` yet: 403 with a step-up challenge.
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"admin-action","arguments":{"action":"x"}}}))
        .await;
    assert_eq!(r.status, 403);
    let challenge_hdr = r.headers["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge_hdr.contains(r#"error="insufficient_scope""#),
        "{challenge_hdr}"
    );
    assert!(challenge_hdr.contains("admin"), "{challenge_hdr}");

    // Step up: a new authorization for `admin`.
    let code = code_for(&base, &client_id, &challenge, "openid admin").await;
    let t = exchange(&base, &client_id, &code, &verifier).await;
    assert_eq!(t["scope"], "openid admin");
    let c = Client::connect_as(
        &server,
        V_LATEST,
        t["access_token"].as_str().map(str::to_owned),
    )
    .await;
    let r = c.call("admin-action", json!({"action": "x"})).await;
    assert_eq!(text(&r), "did x");
}

#[tokio::test]
pub(crate) async fn authorization_requests_are_checked() {
    let (_server, base) = start_dev(true);
    let client_id = public_client(&base).await;
    let (_, challenge) = pkce();
    let good = |extra: &[(&'static str, &'static str)]| {
        let mut p: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", client_id.clone()),
            ("redirect_uri", REDIRECT.into()),
            ("code_challenge", challenge.clone()),
            ("code_challenge_method", "S256".into()),
            ("state", "s1".into()),
        ];
        for (k, v) in extra {
            p.retain(|(x, _)| x != k);
            if !v.is_empty() {
                p.push((k, (*v).to_owned()));
            }
        }
        p
    };
    let run = |params: Vec<(&'static str, String)>| {
        let base = base.clone();
        async move {
            let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            authorize(&base, &p).await
        }
    };
    // Errors the user sees: no redirect to an unverified place.
    let (s, h, body) = run(good(&[("client_id", "nope")])).await;
    assert_eq!(s, 400);
    assert!(
        h["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(body.contains("unknown client_id"), "{body}");
    let (s, _, body) = run(good(&[("redirect_uri", "http://127.0.0.1:9/other")])).await;
    assert_eq!(s, 400);
    assert!(body.contains("is not one this client registered"), "{body}");

    // Errors sent back to the client.
    for (extra, error, words) in [
        (
            &[("code_challenge", "")][..],
            "invalid_request",
            "PKCE is required",
        ),
        (
            &[("code_challenge_method", "plain")][..],
            "invalid_request",
            "must be S256",
        ),
        (
            &[("code_challenge", "short")][..],
            "invalid_request",
            "43-character",
        ),
        (
            &[("response_type", "token")][..],
            "unsupported_response_type",
            "`code`",
        ),
        (
            &[("scope", "admin root")][..],
            "invalid_scope",
            "unknown scope `root`",
        ),
        (
            &[("resource", "https://elsewhere.example/mcp")][..],
            "invalid_target",
            "only for resource",
        ),
    ] {
        let (s, h, _) = run(good(extra)).await;
        assert_eq!(s, 302, "{extra:?}");
        let q = location(&h);
        assert_eq!(q["error"], error, "{extra:?}: {q:?}");
        assert!(q["error_description"].contains(words), "{extra:?}: {q:?}");
        assert_eq!(q["state"], "s1");
        assert_eq!(q["iss"], base);
    }
    // A parameter given twice.
    let r = no_redirects()
        .get(format!(
            "{base}/oauth/authorize?client_id={client_id}&client_id=x"
        ))
        .send()
        .await
        .expect("dup");
    assert_eq!(r.status(), 400);
    assert!(r.text().await.expect("body").contains("more than once"));
}

#[tokio::test]
pub(crate) async fn token_requests_are_checked() {
    let (_server, base) = start_dev(true);
    let client_id = public_client(&base).await;
    let other_client = public_client(&base).await;
    let (verifier, challenge) = pkce();

    let code = code_for(&base, &client_id, &challenge, "openid").await;
    let wrong = URL_SAFE_NO_PAD.encode([8u8; 40]);
    let (s, _, e) = redeem(&base, &code, &client_id, &wrong).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    assert!(
        e["error_description"]
            .as_str()
            .expect("text")
            .contains("does not match")
    );
    // A failed attempt spends the code too.
    let (s, _, e) = redeem(&base, &code, &client_id, &verifier).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );

    // Used twice.
    let code = code_for(&base, &client_id, &challenge, "openid").await;
    exchange(&base, &client_id, &code, &verifier).await;
    let (s, _, e) = redeem(&base, &code, &client_id, &verifier).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    assert!(
        e["error_description"]
            .as_str()
            .expect("text")
            .contains("already used")
    );

    // Another client's code: not found under that client's codes, and not spent by the try
    // (the client it was issued to still redeems it).
    let code = code_for(&base, &client_id, &challenge, "openid").await;
    let (s, _, e) = redeem(&base, &code, &other_client, &verifier).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    assert!(
        e["error_description"]
            .as_str()
            .expect("text")
            .contains("unknown, expired or already used"),
        "{e}"
    );
    exchange(&base, &client_id, &code, &verifier).await;

    // No verifier, no redirect_uri, unknown grant, unknown client, wrong content type.
    let code = code_for(&base, &client_id, &challenge, "openid").await;
    let (s, _, e) = token(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")));
    let (s, _, e) = token(
        &base,
        &[("grant_type", "password"), ("client_id", &client_id)],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, _, e) = token(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "nobody"),
        ],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    let r = http()
        .post(format!("{base}/oauth/token"))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .expect("json body");
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .expect("text")
            .contains("x-www-form-urlencoded")
    );
}

#[tokio::test]
pub(crate) async fn the_sign_in_page_asks_and_answers() {
    let (server, base) = start_dev(false);
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();
    let params = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("scope", "openid admin"),
        ("state", "st"),
    ];
    let (s, h, page) = authorize(&base, &params).await;
    assert_eq!(s, 200);
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("frame-ancestors 'none'")
    );
    assert!(
        page.contains("test &lt;b&gt;client&lt;/b&gt;"),
        "client names are escaped: {page}"
    );
    assert!(page.contains("<code>admin</code>"));
    let request_id = page
        .split(r#"name="request" value=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("request id")
        .to_owned();

    // Posted from another site: refused.
    let post = |form: Vec<(&'static str, String)>, origin: Option<String>| {
        let base = base.clone();
        async move {
            let mut rb = no_redirects()
                .post(format!("{base}/oauth/authorize"))
                .form(&form);
            if let Some(o) = origin {
                rb = rb.header("origin", o);
            }
            rb.send().await.expect("post")
        }
    };
    let r = post(
        vec![
            ("request", request_id.clone()),
            ("decision", "approve".into()),
        ],
        Some("https://evil.example".into()),
    )
    .await;
    assert_eq!(r.status(), 403);

    // Deny.
    let r = post(
        vec![("request", request_id.clone()), ("decision", "deny".into())],
        Some(base.clone()),
    )
    .await;
    assert_eq!(r.status(), 302);
    let q = location(r.headers());
    assert_eq!(
        (q["error"].as_str(), q["state"].as_str()),
        ("access_denied", "st")
    );
    // The request is answered: it cannot be approved now.
    let r = post(
        vec![
            ("request", request_id.clone()),
            ("decision", "approve".into()),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), 400);

    // Approve as alice.
    let (_, _, page) = authorize(&base, &params).await;
    let request_id = page
        .split(r#"name="request" value=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("request id")
        .to_owned();
    let r = post(
        vec![
            ("request", request_id),
            ("decision", "approve".into()),
            ("username", "alice".into()),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), 302);
    let q = location(r.headers());
    // No redirect_uri was sent (one is registered), so none is needed at the token endpoint.
    let (s, _, t) = token(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("client_id", &client_id),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let c = Client::connect_as(
        &server,
        V_LATEST,
        t["access_token"].as_str().map(str::to_owned),
    )
    .await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(who["result"]["structuredContent"]["sub"], "alice");
    assert_eq!(
        who["result"]["structuredContent"]["scopes"],
        json!(["openid", "admin"])
    );
}

#[tokio::test]
pub(crate) async fn registration_is_checked() {
    let (_server, base) = start_dev(true);
    for (body, error, words) in [
        (
            json!({}),
            "invalid_redirect_uri",
            "`redirect_uris` is required",
        ),
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            "invalid_redirect_uri",
            "plain http",
        ),
        (
            json!({"redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
            "forbidden scheme",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "grant_types": ["implicit"]}),
            "invalid_client_metadata",
            "`implicit`",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "private_key_jwt",
        ),
        (
            json!({"redirect_uris": "http://127.0.0.1/cb"}),
            "invalid_client_metadata",
            "array of strings",
        ),
    ] {
        let (s, e) = register(&base, body.clone()).await;
        assert_eq!(s, 400, "{body}");
        assert_eq!(e["error"], error, "{body}: {e}");
        assert!(
            e["error_description"]
                .as_str()
                .expect("text")
                .contains(words),
            "{body}: {e}"
        );
    }
    let r = http()
        .post(format!("{base}/oauth/register"))
        .body("redirect_uris=x")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
}

/// RFC 8252 §7.3: a loopback redirect URI matches on any port; other parts must match.
#[tokio::test]
pub(crate) async fn loopback_redirect_uris_match_on_any_port() {
    let (server, base) = start_dev(true);
    let (status, c) = register(
        &base,
        json!({"redirect_uris": ["http://127.0.0.1/callback", "cursor://anysphere.cursor-mcp/oauth/callback",
                                 "https://vscode.dev/redirect"],
               "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    let client_id = c["client_id"].as_str().expect("id");
    let (_, challenge) = pkce();
    let ask = |redirect: &'static str| {
        let base = base.clone();
        let client_id = client_id.to_owned();
        let challenge = challenge.clone();
        async move {
            authorize(
                &base,
                &[
                    ("response_type", "code"),
                    ("client_id", &client_id),
                    ("redirect_uri", redirect),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await
        }
    };
    let (status, headers, _) = ask("http://127.0.0.1:53682/callback").await;
    assert_eq!(status, 302);
    let loc = headers["location"].to_str().expect("ascii");
    assert!(
        loc.starts_with("http://127.0.0.1:53682/callback?code="),
        "{loc}"
    );
    let (status, _, body) = ask("http://127.0.0.1:53682/other").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("is not one this client registered"), "{body}");
    let (status, _, _) = ask("cursor://anysphere.cursor-mcp/oauth/callback").await;
    assert_eq!(status, 302);
    let (status, _, _) = ask("https://vscode.dev:8443/redirect").await;
    assert_eq!(status, 400, "https redirect URIs match exactly");
    server.stop().await;
}

/// The sign-in page names the server (its title, else its name) or, with branding, the
/// product, shows the logo and loads the stylesheet, and its Content-Security-Policy admits
/// exactly those two origins (images and styles, no script). Branding text is escaped, and a
/// branding URL that is not https is a build error naming it.
#[tokio::test]
pub(crate) async fn the_pages_name_the_server_and_wear_the_product_s_branding() {
    let dev = || {
        DevProvider::new()
            .auto_approve(false)
            .into_oauth()
            .expect("dev provider")
    };
    let page_of = |server: &RunningServer| {
        let base = format!("http://{}", server.addr());
        async move {
            let client_id = public_client(&base).await;
            let (_, challenge) = pkce();
            authorize(
                &base,
                &[
                    ("response_type", "code"),
                    ("client_id", client_id.as_str()),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("scope", "openid"),
                ],
            )
            .await
        }
    };

    // Named by its title.
    let titled = start(
        McpServer::builder()
            .name("notes")
            .title("Team Notes")
            .tools(tools![whoami])
            .oauth(dev()),
    );
    let (status, headers, page) = page_of(&titled).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<title>Sign in to Team Notes</title>"),
        "{page}"
    );
    assert!(page.contains("<h1>Sign in to Team Notes</h1>"), "{page}");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    );
    // Enter in the user-name field submits through the form's first submit button: a
    // disabled one, before Approve.
    let first_button = page.find("<button").expect("a button");
    assert!(
        page[first_button..].starts_with(r#"<button type="submit" disabled hidden"#),
        "{page}"
    );
    titled.stop().await;

    // Branded: the product's name, logo and stylesheet.
    let branded = start(
        McpServer::builder()
            .name("notes")
            .title("Team Notes")
            .branding(
                Branding::new()
                    .product_name("Acme <Docs>")
                    .logo_url("https://cdn.acme.example/logo.svg")
                    .stylesheet_url("https://style.acme.example:8443/pages.css"),
            )
            .tools(tools![whoami])
            .oauth(dev()),
    );
    let (status, headers, page) = page_of(&branded).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<h1>Sign in to Acme &lt;Docs&gt;</h1>"),
        "{page}"
    );
    assert!(
        page.contains(
            r#"<img class="logo" src="https://cdn.acme.example/logo.svg" alt="Acme &lt;Docs&gt; logo" height="48">"#
        ),
        "{page}"
    );
    assert!(
        page.contains(
            r#"<link rel="stylesheet" href="https://style.acme.example:8443/pages.css">"#
        ),
        "{page}"
    );
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline' https://style.acme.example:8443; \
         img-src https://cdn.acme.example; frame-ancestors 'none'"
    );
    branded.stop().await;

    // A logo over plain http, or a stylesheet that is no URL: refused at build, by name.
    let e = McpServer::builder()
        .branding(
            Branding::new()
                .logo_url("http://cdn.acme.example/logo.svg")
                .stylesheet_url("pages.css"),
        )
        .tools(tools![whoami])
        .oauth(dev())
        .build()
        .expect_err("refused");
    let text = e.to_string();
    assert!(
        text.contains(
            "the branding's logo URL `http://cdn.acme.example/logo.svg` must be https (http only on a loopback address)"
        ) && text.contains("the branding's stylesheet URL `pages.css` is not an absolute URL"),
        "{text}"
    );
}

/// Hosted clients name the resource with a trailing slash or in capitals: the same resource,
/// by the documented rule, and the token is for the canonical URI; a query or a fragment names
/// another one and is refused, saying which to ask for.
#[tokio::test]
pub(crate) async fn resource_variants_are_judged_by_the_documented_rule() {
    let (server, base) = start_dev(true);
    let canonical = format!("{base}/mcp");
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();
    let variant = format!("{}/mcp/", base.replace("http://", "HTTP://"));
    let code = code_for_resource(&base, &variant, &client_id, &challenge, "openid").await;
    let (status, _, body) = token(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client_id),
            ("code_verifier", &verifier),
            ("resource", &format!("{canonical}/")),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().expect("token");
    let payload = access.split('.').nth(1).expect("payload");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json");
    assert_eq!(claims["aud"], canonical, "issued for the canonical URI");

    for (asked, why) in [
        (format!("{canonical}?tenant=a"), "has a query"),
        (format!("{canonical}#frag"), "has a fragment"),
    ] {
        let (_, challenge) = pkce();
        let (status, headers, _) = authorize(
            &base,
            &[
                ("response_type", "code"),
                ("client_id", client_id.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("resource", asked.as_str()),
            ],
        )
        .await;
        assert_eq!(status, 302, "{asked}");
        let back = location(&headers);
        assert_eq!(back["error"], "invalid_target", "{asked}");
        assert!(
            back["error_description"].contains(why)
                && back["error_description"].ends_with(&canonical),
            "{asked}: {back:?}"
        );
    }
    server.stop().await;
}
