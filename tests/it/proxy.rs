//! The OAuth proxy (`oauth = "proxy"`) against a local identity provider without dynamic
//! registration: the whole sign-in, consent and its CSRF token, the confused-deputy attacks,
//! `state` replay and swap, upstream errors and outages, and GitHub's form-encoded answers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mcp_runtime::actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use mcp_runtime::auth::Auth;
use mcp_runtime::prelude::*;
use mcp_runtime::providers::ProxyProvider;
use mcp_runtime::{McpServer, RunningServer};
use serde_json::{Value, json};

use crate::auth::{now, sign};
use crate::common::*;
use crate::devserver::{no_redirects, pkce};

const CLIENT_REDIRECT: &str = "http://127.0.0.1:9/cb";
const API: &str = "https://api.example.com";

/// Who is calling, and whether the proxy holds the upstream token for the call.
#[mcp_tool(name = "whoami", read_only)]
async fn whoami(auth: Auth) -> Json<Value> {
    let upstream = auth.upstream_token().await.ok().flatten();
    Json(json!({
        "sub": auth.user.user_id, "email": auth.user.email, "scopes": auth.scopes,
        "upstream": upstream.as_ref().map(|t| t.secret().to_owned()),
        "picture": auth.claims.get("picture"),
        "groups": auth.claims.get("groups"),
    }))
}

/// Admins only.
#[mcp_tool(name = "admin-action", scopes = "admin")]
async fn admin_action(action: String) -> String {
    format!("did {action}")
}

/// A local identity provider without dynamic registration: one pre-registered client
/// (`proxy-client` / `proxy-secret`), PKCE S256, RS256 tokens signed with the fixture key `k1`.
struct Idp {
    url: String,
    /// The last authorization request's parameters.
    last_authorize: Arc<Mutex<HashMap<String, String>>>,
    /// Access tokens issued, in order.
    issued: Arc<Mutex<Vec<String>>>,
    /// Answer the token request form-encoded (GitHub's habit without `Accept: application/json`).
    form_encoded: Arc<AtomicBool>,
    /// Deny every authorization request.
    deny: Arc<AtomicBool>,
    /// The token endpoint answers 503.
    down: Arc<AtomicBool>,
    /// Grant no API scopes (as Google and GitHub grant none of this server's).
    identity_only: Arc<AtomicBool>,
    /// Okta's token shape: `scp` as an array, and `groups`.
    okta_shape: Arc<AtomicBool>,
    /// GitHub's: no PKCE, opaque non-expiring tokens, form-encoded, no ID token.
    github_shape: Arc<AtomicBool>,
    /// Entra's: this tenant id in `tid` and the per-tenant issuer; the API's scopes in `scp`.
    entra_tid: Arc<Mutex<Option<String>>>,
    /// Auth0's: the issuer with a trailing slash, RBAC `permissions` in the access token.
    auth0_shape: Arc<AtomicBool>,
    _handle: mcp_runtime::actix_web::dev::ServerHandle,
}

/// An issued code's redirect URI, PKCE challenge and scope.
type Grant = (String, String, String);

#[derive(Clone)]
struct IdpState {
    url: String,
    codes: Arc<Mutex<HashMap<String, Grant>>>,
    last_authorize: Arc<Mutex<HashMap<String, String>>>,
    issued: Arc<Mutex<Vec<String>>>,
    form_encoded: Arc<AtomicBool>,
    deny: Arc<AtomicBool>,
    down: Arc<AtomicBool>,
    identity_only: Arc<AtomicBool>,
    okta_shape: Arc<AtomicBool>,
    github_shape: Arc<AtomicBool>,
    entra_tid: Arc<Mutex<Option<String>>>,
    auth0_shape: Arc<AtomicBool>,
}

fn b64_sha256(s: &str) -> String {
    use base64::Engine as _;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

async fn idp_authorize(req: HttpRequest, st: web::Data<IdpState>) -> HttpResponse {
    let q: HashMap<String, String> =
        reqwest::Url::parse(&format!("http://x/?{}", req.query_string()))
            .map(|u| {
                u.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
    *st.last_authorize.lock().expect("lock") = q.clone();
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some("proxy-client")
        && q.get("code_challenge_method").map(String::as_str) == Some("S256");
    let github = st.github_shape.load(Ordering::SeqCst);
    let no_pkce = String::new();
    let challenge = if github {
        Some(&no_pkce)
    } else {
        q.get("code_challenge")
    };
    let (Some(redirect), Some(state), Some(challenge)) =
        (q.get("redirect_uri"), q.get("state"), challenge)
    else {
        return HttpResponse::BadRequest().body("missing parameters");
    };
    let ok = ok || (github && q.get("response_type").map(String::as_str) == Some("code"));
    if !ok {
        return HttpResponse::BadRequest().body("bad request");
    }
    if st.deny.load(Ordering::SeqCst) {
        return HttpResponse::Found()
            .insert_header((
                "location",
                format!("{redirect}?error=access_denied&error_description=no+thanks&state={state}"),
            ))
            .finish();
    }
    let code = format!("code-{}", st.codes.lock().expect("lock").len());
    st.codes.lock().expect("lock").insert(
        code.clone(),
        (
            redirect.clone(),
            challenge.clone(),
            q.get("scope").cloned().unwrap_or_default(),
        ),
    );
    HttpResponse::Found()
        .insert_header(("location", format!("{redirect}?code={code}&state={state}")))
        .finish()
}

async fn idp_token(
    req: HttpRequest,
    st: web::Data<IdpState>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    use base64::Engine as _;
    if st.down.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("proxy-client:proxy-secret")
    );
    let header_ok = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(basic.as_str());
    let post_ok = form.get("client_id").map(String::as_str) == Some("proxy-client")
        && form.get("client_secret").map(String::as_str) == Some("proxy-secret");
    if !header_ok && !post_ok {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let Some((redirect, challenge, mut scope)) = form
        .get("code")
        .and_then(|c| st.codes.lock().expect("lock").remove(c))
    else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    };
    let github = st.github_shape.load(Ordering::SeqCst);
    if github {
        if form.get("redirect_uri") != Some(&redirect) || form.contains_key("code_verifier") {
            return HttpResponse::BadRequest().body("error=bad_verification_code");
        }
        let token = format!("gho_{}", st.issued.lock().expect("lock").len());
        st.issued.lock().expect("lock").push(token.clone());
        let answer = [
            ("access_token", token.as_str()),
            ("token_type", "bearer"),
            ("scope", scope.as_str()),
        ];
        let encoded = reqwest::Url::parse_with_params("http://x/", &answer).expect("form");
        return HttpResponse::Ok()
            .content_type("application/x-www-form-urlencoded")
            .body(encoded.query().unwrap_or_default().to_owned());
    }
    if form.get("redirect_uri") != Some(&redirect)
        || form.get("code_verifier").map(|v| b64_sha256(v)) != Some(challenge)
    {
        return HttpResponse::BadRequest().json(
            json!({"error": "invalid_grant", "error_description": "PKCE or redirect_uri mismatch"}),
        );
    }
    if st.identity_only.load(Ordering::SeqCst) {
        scope = scope
            .split(' ')
            .filter(|s| ["openid", "profile", "email"].contains(s))
            .collect::<Vec<_>>()
            .join(" ");
    }
    let entra = st.entra_tid.lock().expect("lock").clone();
    let iss = if st.okta_shape.load(Ordering::SeqCst) {
        format!("{}/oauth2/default", st.url)
    } else if st.auth0_shape.load(Ordering::SeqCst) {
        format!("{}/", st.url)
    } else if let Some(tid) = &entra {
        // "forged-tid" stands for a token whose issuer is another tenant's.
        let issuing = if tid == "forged-tid" { "real-tid" } else { tid };
        format!("{}/{issuing}/v2.0", st.url)
    } else {
        st.url.clone()
    };
    let claims = |aud: &str| {
        json!({"iss": iss, "sub": "alice", "aud": aud, "iat": now(), "exp": now() + 600,
               "scope": scope, "email": "alice@example.com", "name": "Alice",
               "picture": "https://example.com/alice.png"})
    };
    let mut access_claims = claims(API);
    if st.auth0_shape.load(Ordering::SeqCst) {
        let permissions: Vec<&str> = scope
            .split(' ')
            .filter(|s| !["openid", "profile", "email", "offline_access"].contains(s))
            .collect();
        access_claims["permissions"] = json!(permissions);
        access_claims["scope"] = json!("openid profile email");
    }
    if let Some(tid) = &entra {
        let api: Vec<&str> = scope
            .split(' ')
            .filter_map(|s| s.strip_prefix("api://mcp/"))
            .collect();
        access_claims = claims("api://mcp");
        access_claims["scp"] = json!(api.join(" "));
        if let Some(map) = access_claims.as_object_mut() {
            map.remove("scope");
        }
        access_claims["tid"] = json!(tid);
    }
    if st.okta_shape.load(Ordering::SeqCst) {
        let scp: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
        access_claims["scp"] = json!(scp);
        access_claims["groups"] = json!(["Everyone", "mcp-admins"]);
        if let Some(map) = access_claims.as_object_mut() {
            map.remove("scope");
        }
    }
    let access = sign("k1", "k1", &access_claims);
    let mut id_claims = claims("proxy-client");
    if let Some(tid) = &entra {
        id_claims["tid"] = json!(tid);
        id_claims["oid"] = json!("00000000-0000-0000-0000-00000000a11c");
    }
    let id_token = sign("k1", "k1", &id_claims);
    st.issued.lock().expect("lock").push(access.clone());
    let answer = [
        ("access_token", access),
        ("id_token", id_token),
        ("token_type", "Bearer".into()),
        ("expires_in", "600".into()),
        ("refresh_token", "upstream-refresh".into()),
        ("scope", scope),
    ];
    if st.form_encoded.load(Ordering::SeqCst) {
        // GitHub answers form-encoded unless asked for JSON; answered so here even so, to
        // prove the proxy reads either.
        let encoded = reqwest::Url::parse_with_params("http://x/", &answer).expect("form");
        return HttpResponse::Ok()
            .content_type("application/x-www-form-urlencoded")
            .body(encoded.query().unwrap_or_default().to_owned());
    }
    let map: serde_json::Map<String, Value> = answer
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    HttpResponse::Ok().json(Value::Object(map))
}

/// GitHub's `/user`, for a token this fixture issued.
async fn idp_user(req: HttpRequest, st: web::Data<IdpState>) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if !st.issued.lock().expect("lock").contains(&token) {
        return HttpResponse::Unauthorized().json(json!({"message": "Bad credentials"}));
    }
    HttpResponse::Ok().json(json!({
        "id": 583231, "login": "octocat", "name": "The Octocat", "email": null,
        "avatar_url": "https://avatars.example.com/u/583231"
    }))
}

async fn idp_jwks() -> HttpResponse {
    let all: Value = serde_json::from_str(include_str!("keys/jwks.json")).expect("jwks");
    HttpResponse::Ok().json(json!({"keys": [all["k1"]]}))
}

impl Idp {
    fn start() -> Idp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let st = IdpState {
            url: url.clone(),
            codes: Arc::default(),
            last_authorize: Arc::default(),
            issued: Arc::default(),
            form_encoded: Arc::default(),
            deny: Arc::default(),
            down: Arc::default(),
            identity_only: Arc::default(),
            okta_shape: Arc::default(),
            github_shape: Arc::default(),
            entra_tid: Arc::default(),
            auth0_shape: Arc::default(),
        };
        let data = st.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(data.clone()))
                .route("/authorize", web::get().to(idp_authorize))
                // Okta's URL layout (the `default` authorization server).
                .route("/oauth2/default/v1/authorize", web::get().to(idp_authorize))
                .route("/oauth2/default/v1/token", web::post().to(idp_token))
                .route("/oauth2/default/v1/keys", web::get().to(idp_jwks))
                // Auth0's URL layout.
                .route("/oauth/token", web::post().to(idp_token))
                .route("/.well-known/jwks.json", web::get().to(idp_jwks))
                // Entra's URL layout (any tenant).
                .route(
                    "/{tenant}/oauth2/v2.0/authorize",
                    web::get().to(idp_authorize),
                )
                .route("/{tenant}/oauth2/v2.0/token", web::post().to(idp_token))
                .route("/{tenant}/discovery/v2.0/keys", web::get().to(idp_jwks))
                // GitHub's URL layout (one host for the web and the API here).
                .route("/login/oauth/authorize", web::get().to(idp_authorize))
                .route("/login/oauth/access_token", web::post().to(idp_token))
                .route("/user", web::get().to(idp_user))
                // Google's URL layout.
                .route("/o/oauth2/v2/auth", web::get().to(idp_authorize))
                .route("/oauth2/v3/certs", web::get().to(idp_jwks))
                .route("/token", web::post().to(idp_token))
                .route("/jwks.json", web::get().to(idp_jwks))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Idp {
            url,
            last_authorize: st.last_authorize,
            issued: st.issued,
            form_encoded: st.form_encoded,
            deny: st.deny,
            down: st.down,
            identity_only: st.identity_only,
            okta_shape: st.okta_shape,
            github_shape: st.github_shape,
            entra_tid: st.entra_tid,
            auth0_shape: st.auth0_shape,
            _handle: handle,
        }
    }

    fn provider(&self) -> ProxyProvider {
        ProxyProvider::new(
            format!("{}/authorize", self.url),
            format!("{}/token", self.url),
            self.url.clone(),
            "proxy-client",
        )
        .client_secret("proxy-secret")
        .jwks_url(format!("{}/jwks.json", self.url))
        .audience(API)
        .extra_authorize_param("audience", API)
    }
}

fn start_proxy(provider: ProxyProvider) -> (RunningServer, String) {
    let oauth = provider
        .resolve()
        .expect("valid proxy settings")
        .into_oauth()
        .expect("proxy");
    let server = start(
        McpServer::builder()
            .tools(tools![whoami, admin_action])
            .oauth(oauth),
    );
    let base = format!("http://{}", server.addr());
    (server, base)
}

async fn register(base: &str, redirect: &str) -> String {
    let r = http()
        .post(format!("{base}/register"))
        .json(
            &json!({"redirect_uris": [redirect], "token_endpoint_auth_method": "none",
                      "grant_types": ["authorization_code", "refresh_token"],
                      "client_name": "Test <Client>"}),
        )
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.expect("json");
    body["client_id"].as_str().expect("client_id").to_owned()
}

/// A GET without following redirects: status, headers, body.
async fn get(url: &str, cookie: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
    let mut rb = no_redirects().get(url);
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    let r = rb.send().await.expect("get");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

fn location(h: &reqwest::header::HeaderMap) -> String {
    h.get("location")
        .expect("a Location header")
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn query(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url)
        .expect("url")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn authorize_url(base: &str, client_id: &str, challenge: &str, scope: &str, state: &str) -> String {
    authorize_url_for(
        base,
        &format!("{base}/mcp"),
        client_id,
        challenge,
        scope,
        state,
    )
}

fn authorize_url_for(
    base: &str,
    resource: &str,
    client_id: &str,
    challenge: &str,
    scope: &str,
    state: &str,
) -> String {
    reqwest::Url::parse_with_params(
        &format!("{base}/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CLIENT_REDIRECT),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("scope", scope),
            ("state", state),
            ("resource", resource),
        ],
    )
    .expect("url")
    .to_string()
}

/// From the upstream redirect to the client's redirect: the IdP signs in, the proxy's callback
/// answers.
async fn through_upstream(upstream_url: &str) -> String {
    let (status, h, body) = get(upstream_url, None).await;
    assert_eq!(status, 302, "{body}");
    let callback = location(&h);
    let (status, h, body) = get(&callback, None).await;
    assert_eq!(status, 302, "{body}");
    location(&h)
}

async fn redeem(base: &str, client_id: &str, code: &str, verifier: &str) -> (u16, Value) {
    let r = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CLIENT_REDIRECT),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token");
    (r.status().as_u16(), r.json().await.expect("json"))
}

/// A client's whole sign-in through a proxy that auto-approves: registration, authorize, the
/// provider, the callback and the code exchange. Returns the upstream authorization URL (for
/// assertions on what the provider was asked) and the token answer.
async fn sign_in(base: &str, scope: &str) -> (String, Value) {
    let client_id = register(base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let (status, h, body) = get(
        &authorize_url(base, &client_id, &challenge, scope, "s"),
        None,
    )
    .await;
    assert_eq!(status, 302, "{body}");
    let upstream = location(&h);
    let back = through_upstream(&upstream).await;
    assert!(query(&back).contains_key("code"), "{back}");
    let (status, tokens) = redeem(base, &client_id, &query(&back)["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    (upstream, tokens)
}

/// An MCP client holding the access token of `tokens`.
async fn connect_with(server: &RunningServer, tokens: &Value) -> Client {
    let token = tokens["access_token"].as_str().expect("access token");
    Client::connect_as(server, V_LATEST, Some(token.to_owned())).await
}

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

    let back = through_upstream(&upstream).await;
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
    let back = through_upstream(&location(&h)).await;
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
    let back = through_upstream(&location(&h)).await;
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
    let back = through_upstream(&location(&h)).await;
    let q = query(&back);
    let (status, tokens) = redeem(&base, &client_id, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    server.stop().await;
}

/// The confused deputy of the MCP security best practices: an attacker's client (its
/// redirect URI on the attacker's site) never gets a code for a user who did not approve it,
/// and the consent form needs the cookie that was set with it.
/// The CSRF cookie's value that a consent page set, and the form's hidden field `name`.
fn csrf_cookie(h: &reqwest::header::HeaderMap) -> String {
    h["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("__Host-mcp-csrf="))
        .expect("the CSRF cookie")
        .to_owned()
}

fn form_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).expect("field") + marker.len();
    page[start..].split('"').next().expect("value").to_owned()
}

/// Posts the consent form, with this cookie header if any.
async fn post_consent(
    base: &str,
    cookie: Option<&str>,
    request_id: &str,
    csrf: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let form = [
        ("request", request_id),
        ("csrf", csrf),
        ("decision", "approve"),
    ];
    let mut rb = no_redirects().post(format!("{base}/authorize")).form(&form);
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    let r = rb.send().await.expect("post");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

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
    let (_, h, _) = get(
        &authorize_url(&base, &client_id, &challenge, "openid", "b"),
        None,
    )
    .await;
    let upstream_b = location(&h);

    // The IdP answers A; the answer is presented with B's state.
    let (_, h, _) = get(&upstream_a, None).await;
    let callback_a = location(&h);
    let state_b = query(&upstream_b)["state"].clone();
    let state_a = query(&upstream_a)["state"].clone();
    let swapped = callback_a.replace(&state_a, &state_b);
    let (status, h, body) = get(&swapped, None).await;
    assert_eq!(status, 302, "{body}");
    let q = query(&location(&h));
    assert_eq!(q["state"], "b");
    assert_eq!(q["error"], "temporarily_unavailable");
    assert!(q["error_description"].contains("PKCE"), "{q:?}");

    // A's own callback works once; a replay is refused.
    let (status, _, _) = get(&callback_a, None).await;
    assert_eq!(status, 302);
    let (status, _, body) = get(&callback_a, None).await;
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
    let back = through_upstream(&location(&h)).await;
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
    let store = crate::store::open_released(path);
    let oauth = idp
        .provider()
        .auto_approve(true)
        .store(Arc::new(store))
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
    let placeholder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let public = format!("http://{}/mcp", placeholder.local_addr().expect("addr"));
    drop(placeholder);

    let (server, running) = proxy_on(&idp, &path, &public);
    let base = format!("http://{}", running.addr());
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let url = authorize_url_for(&base, &public, &client_id, &challenge, "openid", "r");
    let (status, h, body) = get(&url, None).await;
    assert_eq!(status, 302, "{body}");
    // The provider sends the browser to the public URL's callback; the "proxy in front"
    // forwards it here.
    let (_, h, _) = get(&location(&h), None).await;
    let public_origin = public.trim_end_matches("/mcp");
    let callback = location(&h).replace(public_origin, &base);
    let (status, h, body) = get(&callback, None).await;
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

/// The `google` preset against a fixture with Google's URL layout: `access_type=offline` and
/// `prompt=consent` upstream, identity from the ID token, `admin` by a scope grant.
#[tokio::test]
async fn the_google_preset_signs_in_with_the_id_token() {
    use mcp_runtime::providers::GoogleProvider;
    let idp = Idp::start();
    idp.identity_only.store(true, Ordering::SeqCst);
    let google = GoogleProvider {
        base_url: Some(idp.url.clone()),
        ..GoogleProvider::new("proxy-client", "proxy-secret")
    };
    let proxy = google
        .into_proxy()
        .expect("google settings")
        .auto_approve(true)
        .grant_scope("admin", "email", "alice@example.com");
    let (server, base) = start_proxy(proxy);
    let (upstream, tokens) = sign_in(&base, "openid admin").await;
    assert!(
        upstream.starts_with(&format!("{}/o/oauth2/v2/auth?", idp.url)),
        "{upstream}"
    );
    let q = query(&upstream);
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(
        q["scope"], "openid email profile",
        "Google is not asked for this server's scopes"
    );
    assert_eq!(tokens["scope"], "openid admin");
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(who["result"]["structuredContent"]["sub"], "alice");
    assert_eq!(
        who["result"]["structuredContent"]["picture"],
        "https://example.com/alice.png"
    );
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "x"})).await),
        "did x"
    );
    server.stop().await;
}

/// The `okta` preset against a fixture with Okta's URL layout and token shape: `scp` as an
/// array grants `admin`, `groups` reach the caller's claims.
#[tokio::test]
async fn the_okta_preset_reads_scp_and_groups() {
    use mcp_runtime::providers::OktaProvider;
    let idp = Idp::start();
    idp.okta_shape.store(true, Ordering::SeqCst);
    let okta = OktaProvider {
        client_secret: Some("proxy-secret".into()),
        audience: Some(API.into()),
        ..OktaProvider::new(idp.url.clone(), "proxy-client")
    };
    let proxy = okta.into_proxy().expect("okta settings").auto_approve(true);
    let (server, base) = start_proxy(proxy);
    let (upstream, tokens) = sign_in(&base, "openid admin").await;
    assert!(
        upstream.starts_with(&format!("{}/oauth2/default/v1/authorize?", idp.url)),
        "{upstream}"
    );
    assert_eq!(
        tokens["scope"], "openid admin",
        "granted through Okta's `scp` array"
    );
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(
        who["result"]["structuredContent"]["groups"],
        json!(["Everyone", "mcp-admins"])
    );
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "y"})).await),
        "did y"
    );
    server.stop().await;
}

/// The `github` preset against a fixture with GitHub's layout and habits: no PKCE upstream,
/// a form-encoded answer with an opaque token and no ID token, identity from `/user`.
#[tokio::test]
async fn the_github_preset_asks_the_user_api_who_signed_in() {
    use mcp_runtime::providers::GitHubProvider;
    let idp = Idp::start();
    idp.github_shape.store(true, Ordering::SeqCst);
    let github = GitHubProvider {
        base_url: Some(idp.url.clone()),
        ..GitHubProvider::new("proxy-client", "proxy-secret")
    };
    let proxy = github
        .into_proxy()
        .expect("github settings")
        .auto_approve(true)
        .grant_scope("admin", "login", "octocat");
    let (server, base) = start_proxy(proxy);
    let (upstream, tokens) = sign_in(&base, "openid admin").await;
    assert!(
        upstream.starts_with(&format!("{}/login/oauth/authorize?", idp.url)),
        "{upstream}"
    );
    let q = query(&upstream);
    assert!(
        !q.contains_key("code_challenge"),
        "no PKCE with GitHub OAuth apps"
    );
    assert_eq!(q["scope"], "read:user user:email");
    assert_eq!(tokens["scope"], "openid admin");
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    let who = &who["result"]["structuredContent"];
    assert_eq!(who["sub"], "583231");
    assert_eq!(who["picture"], "https://avatars.example.com/u/583231");
    assert_eq!(who["upstream"], "gho_0");
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "z"})).await),
        "did z"
    );
    server.stop().await;
}

/// The `entra` preset against a fixture with Entra's v2.0 layout: the API scope asked for (and
/// never `resource`), `scp` granting `admin`, the tenant's issuer checked for a tenant id and,
/// per token, for `organizations`.
#[tokio::test]
async fn the_entra_preset_checks_the_tenant_and_reads_scp() {
    use mcp_runtime::providers::EntraProvider;
    let idp = Idp::start();
    let guid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    for (tenant, tid, ok) in [
        (guid, guid, true),
        (
            "organizations",
            "b1e2c3d4-0000-4000-8000-000000000001",
            true,
        ),
        ("organizations", "forged-tid", false),
    ] {
        *idp.entra_tid.lock().expect("lock") = Some(tid.to_owned());
        let entra = EntraProvider {
            api_scopes: vec!["api://mcp/admin".into()],
            base_url: Some(idp.url.clone()),
            ..EntraProvider::new(tenant, "proxy-client", "proxy-secret")
        };
        let proxy = entra
            .into_proxy()
            .expect("entra settings")
            .auto_approve(true);
        let (server, base) = start_proxy(proxy);
        let client_id = register(&base, CLIENT_REDIRECT).await;
        let (verifier, challenge) = pkce();
        let (_, h, _) = get(
            &authorize_url(&base, &client_id, &challenge, "openid admin", "e"),
            None,
        )
        .await;
        let upstream = location(&h);
        assert!(
            upstream.starts_with(&format!("{}/{tenant}/oauth2/v2.0/authorize?", idp.url)),
            "{upstream}"
        );
        let q = query(&upstream);
        assert!(!q.contains_key("resource"), "Entra never gets `resource`");
        assert_eq!(
            q["scope"],
            "openid profile email offline_access api://mcp/admin"
        );
        let back = through_upstream(&upstream).await;
        let q = query(&back);
        if !ok {
            assert_eq!(q["error"], "access_denied", "{back}");
            assert!(
                q["error_description"].contains("is not its tenant's"),
                "{back}"
            );
            server.stop().await;
            continue;
        }
        let (status, tokens) = redeem(&base, &client_id, &q["code"], &verifier).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(
            tokens["scope"], "openid admin",
            "granted through Entra's `scp`"
        );
        let c = Client::connect_as(
            &server,
            V_LATEST,
            Some(tokens["access_token"].as_str().expect("token").to_owned()),
        )
        .await;
        assert_eq!(
            text(&c.call("admin-action", json!({"action": "e"})).await),
            "did e"
        );
        server.stop().await;
    }
}

/// The `auth0` preset with `MCP_USE_OAUTH_AUTH0_CLIENT_ID` (here in code) runs behind the
/// proxy: consent here, `audience` sent to the tenant, RBAC `permissions` grant `admin`.
#[tokio::test]
async fn the_auth0_preset_with_a_client_id_runs_behind_the_proxy() {
    use mcp_runtime::auth::verifier::Secret;
    use mcp_runtime::providers::Auth0Provider;
    let idp = Idp::start();
    idp.auth0_shape.store(true, Ordering::SeqCst);
    let auth0 = Auth0Provider {
        client_id: Some("proxy-client".into()),
        client_secret: Some(Secret::new("proxy-secret")),
        ..Auth0Provider::new(idp.url.clone(), API)
    };
    let oauth = auth0.into_oauth(http()).expect("proxy mode");
    let server = start(
        McpServer::builder()
            .tools(tools![whoami, admin_action])
            .oauth(oauth),
    );
    let base = format!("http://{}", server.addr());
    let (status, m) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, 200);
    assert_eq!(
        m["registration_endpoint"],
        format!("{base}/register"),
        "clients register here"
    );
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let (status, h, page) = get(
        &authorize_url(&base, &client_id, &challenge, "openid admin", "a0"),
        None,
    )
    .await;
    assert_eq!(status, 200, "the consent page");
    let csrf = csrf_cookie(&h);
    let (status, h, body) = post_consent(
        &base,
        Some(&format!("__Host-mcp-csrf={csrf}")),
        &form_field(&page, "request"),
        &csrf,
    )
    .await;
    assert_eq!(status, 302, "{body}");
    let upstream = location(&h);
    assert!(
        upstream.starts_with(&format!("{}/authorize?", idp.url)),
        "{upstream}"
    );
    assert_eq!(
        query(&upstream)["audience"],
        API,
        "so that Auth0 issues a JWT for the API"
    );
    let back = through_upstream(&upstream).await;
    let (status, tokens) = redeem(&base, &client_id, &query(&back)["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        tokens["scope"], "openid admin",
        "granted through Auth0's permissions"
    );
    let c = Client::connect_as(
        &server,
        V_LATEST,
        Some(tokens["access_token"].as_str().expect("token").to_owned()),
    )
    .await;
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "a"})).await),
        "did a"
    );
    server.stop().await;
}
