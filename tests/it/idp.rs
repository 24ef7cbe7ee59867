//! A local identity provider without dynamic registration, in the URL layouts and token shapes
//! of the providers the proxy presets front (Google, GitHub, Entra, Okta, Auth0, WorkOS), with
//! switches for denials and outages; and the steps of a client's sign-in through the proxy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mcp_runtime::RunningServer;
use mcp_runtime::actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use mcp_runtime::auth::Auth;
use mcp_runtime::prelude::*;
use mcp_runtime::providers::ProxyProvider;
use serde_json::{Value, json};

use crate::auth::{now, sign};
use crate::common::*;
use crate::devserver::{no_redirects, pkce};

pub(crate) const CLIENT_REDIRECT: &str = "http://127.0.0.1:9/cb";
pub(crate) const API: &str = "https://api.example.com";

/// Who is calling, and whether the proxy holds the upstream token for the call.
#[mcp_tool(name = "whoami", read_only)]
pub(crate) async fn whoami(auth: Auth) -> Json<Value> {
    let upstream = auth.upstream_token().await.ok().flatten();
    Json(json!({
        "sub": auth.user.user_id, "email": auth.user.email, "scopes": auth.scopes,
        "upstream": upstream.as_ref().map(|t| t.secret().to_owned()),
        "picture": auth.claims.get("picture"),
        "groups": auth.claims.get("groups"),
        "roles": auth.user.roles, "organizationId": auth.user.organization_id,
        "permissions": auth.permissions,
    }))
}

/// Admins only.
#[mcp_tool(name = "admin-action", scopes = "admin")]
pub(crate) async fn admin_action(action: String) -> String {
    format!("did {action}")
}

/// A local identity provider without dynamic registration: one pre-registered client
/// (`proxy-client` / `proxy-secret`), PKCE S256, RS256 tokens signed with the fixture key `k1`.
pub(crate) struct Idp {
    pub(crate) url: String,
    /// The last authorization request's parameters.
    pub(crate) last_authorize: Arc<Mutex<HashMap<String, String>>>,
    /// Access tokens issued, in order.
    pub(crate) issued: Arc<Mutex<Vec<String>>>,
    /// Answer the token request form-encoded (GitHub's habit without `Accept: application/json`).
    pub(crate) form_encoded: Arc<AtomicBool>,
    /// Deny every authorization request.
    pub(crate) deny: Arc<AtomicBool>,
    /// The token endpoint answers 503.
    pub(crate) down: Arc<AtomicBool>,
    /// Grant no API scopes (as Google and GitHub grant none of this server's).
    pub(crate) identity_only: Arc<AtomicBool>,
    /// Okta's token shape: `scp` as an array, and `groups`.
    pub(crate) okta_shape: Arc<AtomicBool>,
    /// GitHub's: no PKCE, opaque non-expiring tokens, form-encoded, no ID token.
    pub(crate) github_shape: Arc<AtomicBool>,
    /// Entra's: this tenant id in `tid` and the per-tenant issuer; the API's scopes in `scp`.
    pub(crate) entra_tid: Arc<Mutex<Option<String>>>,
    /// Auth0's: the issuer with a trailing slash, RBAC `permissions` and a namespaced roles
    /// claim in the access token.
    pub(crate) auth0_shape: Arc<AtomicBool>,
    /// WorkOS AuthKit's: access tokens bound to the `resource` asked for (which must come
    /// again at the token endpoint), with `org_id`, `role` and `permissions`.
    pub(crate) workos_shape: Arc<AtomicBool>,
    /// The token endpoint accepts the request and never answers.
    pub(crate) hang: Arc<AtomicBool>,
    /// The key set and the user API answer 503.
    pub(crate) identity_down: Arc<AtomicBool>,
    /// The `email_verified` claim of every token (`null`: none); `true` unless changed.
    pub(crate) email_verified: Arc<Mutex<Value>>,
    /// Access tokens carry `permissions: ["admin"]` whatever was asked (an account with
    /// that permission upstream).
    pub(crate) admin_permission: Arc<AtomicBool>,
    _handle: mcp_runtime::actix_web::dev::ServerHandle,
}

/// An issued code's redirect URI, PKCE challenge, scope and resource.
type Grant = (String, String, String, Option<String>);

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
    workos_shape: Arc<AtomicBool>,
    hang: Arc<AtomicBool>,
    identity_down: Arc<AtomicBool>,
    email_verified: Arc<Mutex<Value>>,
    admin_permission: Arc<AtomicBool>,
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
            q.get("resource").cloned(),
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
    if st.hang.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
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
    let Some((redirect, challenge, mut scope, resource)) = form
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
    let email_verified = st.email_verified.lock().expect("lock").clone();
    let claims = |aud: &str| {
        let mut c = json!({"iss": iss, "sub": "alice", "aud": aud, "iat": now(), "exp": now() + 600,
               "scope": scope, "email": "alice@example.com", "name": "Alice",
               "picture": "https://example.com/alice.png"});
        if !email_verified.is_null() {
            c["email_verified"] = email_verified.clone();
        }
        c
    };
    let mut access_claims = claims(API);
    if st.workos_shape.load(Ordering::SeqCst) {
        // RFC 8707: the resource of the authorization request, again at the token endpoint.
        let Some(resource) = resource.filter(|r| form.get("resource") == Some(r)) else {
            return HttpResponse::BadRequest().json(
                json!({"error": "invalid_target", "error_description": "resource mismatch"}),
            );
        };
        let permissions: Vec<&str> = scope
            .split(' ')
            .filter(|s| !["openid", "profile", "email", "offline_access"].contains(s))
            .collect();
        access_claims = claims(&resource);
        access_claims["org_id"] = json!("org_7");
        access_claims["role"] = json!("member");
        access_claims["permissions"] = json!(permissions);
        access_claims["scope"] = json!("openid profile email offline_access");
    }
    if st.auth0_shape.load(Ordering::SeqCst) {
        let permissions: Vec<&str> = scope
            .split(' ')
            .filter(|s| !["openid", "profile", "email", "offline_access"].contains(s))
            .collect();
        access_claims["permissions"] = json!(permissions);
        access_claims["scope"] = json!("openid profile email");
        access_claims["https://example.com/roles"] = json!(["support"]);
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
    if st.admin_permission.load(Ordering::SeqCst) {
        access_claims["permissions"] = json!(["admin"]);
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
    if st.identity_down.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().finish();
    }
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

async fn idp_jwks(st: web::Data<IdpState>) -> HttpResponse {
    if st.identity_down.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let all: Value = serde_json::from_str(include_str!("keys/jwks.json")).expect("jwks");
    HttpResponse::Ok().json(json!({"keys": [all["k1"]]}))
}

impl Idp {
    pub(crate) fn start() -> Idp {
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
            workos_shape: Arc::default(),
            hang: Arc::default(),
            identity_down: Arc::default(),
            email_verified: Arc::new(Mutex::new(json!(true))),
            admin_permission: Arc::default(),
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
                // WorkOS AuthKit's URL layout.
                .route("/oauth2/authorize", web::get().to(idp_authorize))
                .route("/oauth2/token", web::post().to(idp_token))
                .route("/oauth2/jwks", web::get().to(idp_jwks))
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
            workos_shape: st.workos_shape,
            hang: st.hang,
            identity_down: st.identity_down,
            email_verified: st.email_verified,
            admin_permission: st.admin_permission,
            _handle: handle,
        }
    }

    pub(crate) fn provider(&self) -> ProxyProvider {
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

/// A fresh in-memory store: tests never share the default store file.
pub(crate) fn memory() -> Arc<dyn mcp_runtime::store::Store> {
    Arc::new(mcp_runtime::store::MemoryStore::new())
}

pub(crate) fn start_proxy(provider: ProxyProvider) -> (RunningServer, String) {
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

pub(crate) async fn register(base: &str, redirect: &str) -> String {
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
pub(crate) async fn get(
    url: &str,
    cookie: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut rb = no_redirects().get(url);
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    let r = rb.send().await.expect("get");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

pub(crate) fn location(h: &reqwest::header::HeaderMap) -> String {
    h.get("location")
        .expect("a Location header")
        .to_str()
        .expect("ascii")
        .to_owned()
}

pub(crate) fn query(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url)
        .expect("url")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn authorize_url(
    base: &str,
    client_id: &str,
    challenge: &str,
    scope: &str,
    state: &str,
) -> String {
    authorize_url_for(
        base,
        &format!("{base}/mcp"),
        client_id,
        challenge,
        scope,
        state,
    )
}

pub(crate) fn authorize_url_for(
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

/// From the proxy's redirect to the upstream (its headers: the upstream URL and the sign-in
/// cookie) to the client's redirect: the IdP signs in, the proxy's callback answers, in the
/// browser that began the sign-in.
pub(crate) async fn through_upstream(to_upstream: &reqwest::header::HeaderMap) -> String {
    let (status, h, body) = get(&location(to_upstream), None).await;
    assert_eq!(status, 302, "{body}");
    let callback = location(&h);
    let cookie = to_upstream
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-mcp-signin-"))
        .and_then(|c| c.split(';').next());
    let (status, h, body) = get(&callback, cookie).await;
    assert_eq!(status, 302, "{body}");
    location(&h)
}

/// The `name=value` of the cookie that binds a proxy sign-in to its browser, from the
/// redirect to the upstream.
pub(crate) fn signin_cookie(to_upstream: &reqwest::header::HeaderMap) -> String {
    to_upstream
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-mcp-signin-"))
        .expect("the sign-in cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned()
}

pub(crate) async fn redeem(
    base: &str,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> (u16, Value) {
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
pub(crate) async fn sign_in(base: &str, scope: &str) -> (String, Value) {
    let client_id = register(base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let (status, h, body) = get(
        &authorize_url(base, &client_id, &challenge, scope, "s"),
        None,
    )
    .await;
    assert_eq!(status, 302, "{body}");
    let upstream = location(&h);
    let back = through_upstream(&h).await;
    assert!(query(&back).contains_key("code"), "{back}");
    let (status, tokens) = redeem(base, &client_id, &query(&back)["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    (upstream, tokens)
}

/// An MCP client holding the access token of `tokens`.
pub(crate) async fn connect_with(server: &RunningServer, tokens: &Value) -> Client {
    let token = tokens["access_token"].as_str().expect("access token");
    Client::connect_as(server, V_LATEST, Some(token.to_owned())).await
}

/// The CSRF cookie's value that a consent page set, and the form's hidden field `name`.
pub(crate) fn csrf_cookie(h: &reqwest::header::HeaderMap) -> String {
    h["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("__Host-mcp-csrf="))
        .expect("the CSRF cookie")
        .to_owned()
}

pub(crate) fn form_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).expect("field") + marker.len();
    page[start..].split('"').next().expect("value").to_owned()
}

/// Approves the consent page `page` (served with headers `h`) in the browser that was shown
/// it: its CSRF cookie and the form's token.
pub(crate) async fn approve_consent(
    base: &str,
    h: &reqwest::header::HeaderMap,
    page: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let csrf = csrf_cookie(h);
    post_consent(
        base,
        Some(&format!("__Host-mcp-csrf={csrf}")),
        &form_field(page, "request"),
        &csrf,
    )
    .await
}

/// Posts the consent form, with this cookie header if any.
pub(crate) async fn post_consent(
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

/// The `admin` tool answers when `granted`, and is refused for want of its scope otherwise.
pub(crate) async fn assert_admin(c: &Client, granted: bool) {
    if granted {
        assert_eq!(
            text(&c.call("admin-action", json!({"action": "x"})).await),
            "did x"
        );
    } else {
        assert_admin_refused(c).await;
    }
}

/// The `admin` tool is refused for want of its scope: 403 `insufficient_scope`.
pub(crate) async fn assert_admin_refused(c: &Client) {
    let r = c
        .post_raw(&json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                          "params": {"name": "admin-action", "arguments": {"action": "x"}}}))
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    let challenge = r.headers["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
}
