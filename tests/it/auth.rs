//! The OAuth resource server, against a local issuer with real RSA keys and a real JWKS over
//! HTTP: discovery, challenges, every refusal, scope guards, identity, rotation and outages.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::McpServer;
use mcp_runtime::RunningServer;
use mcp_runtime::actix_web::{App, HttpResponse, HttpServer, web};
use mcp_runtime::auth::jwks::JwksCache;
use mcp_runtime::auth::verifier::JwtVerifier;
use mcp_runtime::auth::{Auth, OAuth, ScopeRefusal};
use mcp_runtime::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

pub const ISS: &str = "https://issuer.test";

/// Who is calling.
#[mcp_tool(name = "get-user-info", read_only)]
pub(crate) async fn get_user_info(auth: Auth) -> Json<Value> {
    Json(json!({
        "userId": auth.user.user_id,
        "email": auth.user.email,
        "name": auth.user.name,
        "roles": auth.user.roles,
        "scopes": auth.scopes,
        "hasToken": !auth.access_token.secret().is_empty(),
    }))
}

/// Admins only.
#[mcp_tool(name = "admin-action", scopes = "admin", destructive)]
pub(crate) async fn admin_action(cmd: String) -> String {
    format!("ran {cmd}")
}

/// The JWKS endpoint of a local issuer.
pub struct Issuer {
    keys: Arc<Mutex<Vec<Value>>>,
    down: Arc<AtomicBool>,
    fetches: Arc<AtomicUsize>,
    pub url: String,
    _server: actix_web::dev::ServerHandle,
}

fn jwk(kid: &str) -> Value {
    let all: Value = serde_json::from_str(include_str!("keys/jwks.json")).expect("jwks fixture");
    all[kid].clone()
}

impl Issuer {
    /// OAuth for tokens from this issuer: its key set over HTTP, `iss` = `ISS`, the server's
    /// own URL as the audience.
    pub fn oauth(&self) -> OAuth {
        let jwks = JwksCache::new(format!("{}/jwks.json", self.url), http());
        OAuth::new(JwtVerifier::jwks(Arc::new(jwks)).issuer(ISS), ISS)
    }

    pub fn start(kids: &[&str]) -> Issuer {
        let keys = Arc::new(Mutex::new(kids.iter().map(|k| jwk(k)).collect::<Vec<_>>()));
        let down = Arc::new(AtomicBool::new(false));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, d, f) = (keys.clone(), down.clone(), fetches.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let base = url.clone();
        let server = HttpServer::new(move || {
            let (k, d, f) = (k.clone(), d.clone(), f.clone());
            let base = base.clone();
            App::new()
                .route("/introspect", web::post().to(introspect))
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(move || {
                        let base = base.clone();
                        async move {
                            HttpResponse::Ok().json(
                                json!({"issuer": base, "jwks_uri": format!("{base}/jwks.json")}),
                            )
                        }
                    }),
                )
                .route(
                    "/jwks.json",
                    web::get().to(move || {
                        let (k, d, f) = (k.clone(), d.clone(), f.clone());
                        async move {
                            f.fetch_add(1, Ordering::SeqCst);
                            if d.load(Ordering::SeqCst) {
                                return HttpResponse::ServiceUnavailable().finish();
                            }
                            let keys = k.lock().expect("lock").clone();
                            HttpResponse::Ok()
                                .insert_header(("cache-control", "public, max-age=300"))
                                .json(json!({ "keys": keys }))
                        }
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Issuer {
            keys,
            down,
            fetches,
            url,
            _server: handle,
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// RFC 7662 at the local issuer: client `rs`/`pw`; `live-token` is active for audience
/// `https://rs.test/mcp`, `other-aud-token` for another audience, anything else inactive.
async fn introspect(
    req: actix_web::HttpRequest,
    form: web::Form<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("rs:pw")
    );
    if req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let aud = match form.get("token").map(String::as_str) {
        Some("live-token") => "https://rs.test/mcp",
        Some("other-aud-token") => "https://elsewhere.test/mcp",
        _ => return HttpResponse::Ok().json(json!({"active": false})),
    };
    HttpResponse::Ok().json(json!({
        "active": true, "sub": "opaque-user", "aud": aud, "scope": "openid admin",
        "exp": now() + 600, "iss": ISS
    }))
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A token signed with the fixture key `key`, announced as `kid`.
pub fn sign(key: &str, kid: &str, claims: &Value) -> String {
    let pem = std::fs::read(format!(
        "{}/tests/it/keys/{key}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("key fixture");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(&pem).expect("pem"),
    )
    .expect("signed")
}

pub fn claims(aud: &str, scope: &str) -> Value {
    json!({
        "iss": ISS, "sub": "user-1", "aud": aud, "iat": now(), "exp": now() + 600,
        "scope": scope, "email": "ada@example.com", "name": "Ada Lovelace", "roles": ["editor"]
    })
}

pub(crate) fn oauth_server(issuer: &Issuer, refusal: ScopeRefusal) -> RunningServer {
    let jwks = JwksCache::new(format!("{}/jwks.json", issuer.url), http())
        .with_cooldown(Duration::from_millis(300));
    let oauth = OAuth::new(JwtVerifier::jwks(Arc::new(jwks)).issuer(ISS), ISS)
        .scopes_supported(["openid", "profile"])
        .baseline_scopes(["openid"])
        .scope_refusal(refusal);
    start(
        McpServer::builder()
            .name("secure")
            .oauth(oauth)
            .tools(tools![get_user_info, admin_action]),
    )
}

fn www_authenticate(r: &Reply) -> &str {
    r.headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no challenge: {r:?}"))
}

#[tokio::test]
async fn discovery_and_the_401_challenge() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let c = Client::new(&server);
    let r = c.post_raw(&init_body(V_LATEST)).await;
    assert_eq!(r.status, 401);
    let port = server.addr().port();
    assert_eq!(
        www_authenticate(&r),
        format!(
            r#"Bearer resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", scope="openid""#
        )
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("requires an access token")
    );

    let base = format!("http://{}", server.addr());
    let root = http()
        .get(format!("{base}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .expect("prm");
    assert_eq!(root.headers()["access-control-allow-origin"], "*");
    let root: Value = root.json().await.expect("json");
    let (status, suffixed) =
        get_json(format!("{base}/.well-known/oauth-protected-resource/mcp")).await;
    assert_eq!(status, 200, "{suffixed}");
    assert_eq!(
        root, suffixed,
        "both documents carry the same canonical resource"
    );
    assert_eq!(
        root,
        json!({
            "resource": server.url(),
            "authorization_servers": [ISS],
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported": ["ES256", "ES384", "RS256", "PS256", "EdDSA", "RS384"],
            "dpop_bound_access_tokens_required": false,
            "scopes_supported": ["openid", "profile", "admin"]
        })
    );
    server.stop().await;
}

#[tokio::test]
async fn a_valid_token_reaches_the_tools_with_the_callers_identity() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let token = sign("k1", "k1", &claims(&server.url(), "openid profile"));
    let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
    let r = c.call("get-user-info", json!({})).await;
    assert_eq!(
        r["result"]["structuredContent"],
        json!({"userId":"user-1","email":"ada@example.com","name":"Ada Lovelace","roles":["editor"],
               "scopes":["openid","profile"],"hasToken":true})
    );
    // The verified-token cache answers the second call: still exactly one JWKS fetch.
    let _ = c.call("get-user-info", json!({})).await;
    assert_eq!(issuer.fetches(), 1);
    server.stop().await;
}

#[tokio::test]
async fn every_bad_token_is_refused_with_a_reason() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let aud = server.url();
    let mut expired = claims(&aud, "openid");
    expired["exp"] = json!(now() - 3600);
    let mut early = claims(&aud, "openid");
    early["nbf"] = json!(now() + 3600);
    let mut no_exp = claims(&aud, "openid");
    no_exp.as_object_mut().expect("obj").remove("exp");
    let mut other_iss = claims(&aud, "openid");
    other_iss["iss"] = json!("https://evil.test");
    let none_alg = {
        use base64::Engine as _;
        let e = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            e(&json!({"alg":"none","kid":"k1"})),
            e(&claims(&aud, "openid"))
        )
    };
    let hs_confusion = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("k1".into());
        let pubkey = jwk("k1")["n"].as_str().expect("n").to_owned();
        jsonwebtoken::encode(
            &h,
            &claims(&aud, "openid"),
            &EncodingKey::from_secret(pubkey.as_bytes()),
        )
        .expect("hs")
    };
    let cases: Vec<(String, &str)> = vec![
        (
            sign("rogue", "k1", &claims(&aud, "openid")),
            "the token's signature is invalid",
        ),
        (sign("k1", "k1", &expired), "the token expired"),
        (
            sign("k1", "k1", &early),
            "the token is not valid yet (`nbf` is in the future)",
        ),
        (sign("k1", "k1", &no_exp), "the token has no `exp` claim"),
        (
            sign("k1", "k1", &claims("https://other.example/mcp", "openid")),
            "the token is not for this server",
        ),
        (
            sign("k1", "k1", &other_iss),
            "the token was issued by another issuer; expected `iss` https://issuer.test",
        ),
        (none_alg, "unsigned tokens (`alg: none`) are not accepted"),
        (
            hs_confusion,
            "the token is signed with HS256, which this server does not accept",
        ),
        ("not-a-jwt".into(), "the token is not a JWT"),
    ];
    for (token, reason) in cases {
        let mut c = Client::new(&server);
        c.bearer = Some(token);
        let r = c.post_raw(&init_body(V_LATEST)).await;
        assert_eq!(r.status, 401, "{reason}: {r:?}");
        let challenge = www_authenticate(&r);
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{challenge}"
        );
        assert!(
            challenge.contains(&format!("error_description=\"{}", reason.replace('"', ""))),
            "{reason}: {challenge}"
        );
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .expect("msg")
                .starts_with(reason),
            "{r:?}"
        );
    }
    // Tokens in the query string are refused outright.
    let url = format!("{}?access_token=abc", server.url());
    let r = Client::send(
        http()
            .post(url)
            .header("content-type", "application/json")
            .body(init_body(V_LATEST).to_string()),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(www_authenticate(&r).contains(r#"error="invalid_request""#));
    server.stop().await;
}

#[tokio::test]
async fn scope_guards_answer_403_with_a_step_up_challenge() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let c = Client::connect_as(
        &server,
        V_LATEST,
        Some(sign("k1", "k1", &claims(&server.url(), "openid"))),
    )
    .await;
    // Arguments are not even looked at before the guard: this call has none.
    let r = c
        .post_raw(
            &json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin-action"}}),
        )
        .await;
    assert_eq!(r.status, 403);
    let challenge = www_authenticate(&r);
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"scope="openid admin""#), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    // Under 2026-07-28 (SEP-2350) the challenge names what this call needs; the client keeps
    // what it was granted.
    let modern = http()
        .post(server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "admin-action")
        .bearer_auth(sign("k1", "k1", &claims(&server.url(), "openid")))
        .body(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                "name": "admin-action", "arguments": {}, "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {}}}})
            .to_string(),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(modern.status(), 403);
    let challenge = modern
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(challenge.contains(r#"scope="admin""#), "{challenge}");
    assert_eq!(
        r.json(),
        json!({"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"tool `admin-action`: missing required scope: admin"}})
    );

    let admin = Client::connect_as(
        &server,
        V_LATEST,
        Some(sign("k1", "k1", &claims(&server.url(), "openid admin"))),
    )
    .await;
    assert_eq!(
        text(&admin.call("admin-action", json!({"cmd": "purge"})).await),
        "ran purge"
    );
    server.stop().await;

    let server = oauth_server(&issuer, ScopeRefusal::ToolError);
    let c = Client::connect_as(
        &server,
        V_LATEST,
        Some(sign("k1", "k1", &claims(&server.url(), "openid"))),
    )
    .await;
    let r = c.call("admin-action", json!({"cmd": "purge"})).await;
    assert_eq!(r["result"]["isError"], true);
    assert_eq!(
        text(&r),
        "tool `admin-action`: missing required scope: admin"
    );
    server.stop().await;
}

#[tokio::test]
async fn sessions_belong_to_their_subject() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let mut c = Client::connect_as(
        &server,
        V_LATEST,
        Some(sign("k1", "k1", &claims(&server.url(), "openid"))),
    )
    .await;
    let mut other = claims(&server.url(), "openid");
    other["sub"] = json!("user-2");
    c.bearer = Some(sign("k1", "k1", &other));
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .await;
    assert_eq!(
        r.status, 404,
        "another subject cannot use the session: {r:?}"
    );
    let r = Client::send(c.request(Method::DELETE)).await;
    assert_eq!(r.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn key_rotation_and_the_unknown_kid_storm() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let aud = server.url();
    let c = Client::connect_as(
        &server,
        V_LATEST,
        Some(sign("k1", "k1", &claims(&aud, "openid"))),
    )
    .await;
    assert_eq!(issuer.fetches(), 1);
    drop(c);

    // The issuer rotates to k2: a token with the new kid makes the server refetch once.
    tokio::time::sleep(Duration::from_millis(350)).await;
    issuer.keys.lock().expect("lock").push(jwk("k2"));
    let c = Client::connect_as(
        &server,
        V_LATEST,
        Some(sign("k2", "k2", &claims(&aud, "openid"))),
    )
    .await;
    assert_eq!(
        c.call("get-user-info", json!({})).await["result"]["structuredContent"]["userId"],
        "user-1"
    );
    assert_eq!(issuer.fetches(), 2);

    // A burst of tokens with unknown kids costs at most one fetch per cooldown.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let before = issuer.fetches();
    let mut burst = Vec::new();
    for i in 0..20 {
        let mut c = Client::new(&server);
        c.bearer = Some(sign("k1", &format!("unknown-{i}"), &claims(&aud, "openid")));
        burst.push(tokio::spawn(async move {
            c.post_raw(&init_body(V_LATEST)).await.status
        }));
    }
    for b in burst {
        assert_eq!(b.await.expect("join"), 401);
    }
    assert!(
        issuer.fetches() - before <= 1,
        "{} fetches for 20 unknown kids",
        issuer.fetches() - before
    );
    server.stop().await;
}

#[tokio::test]
async fn issuer_outages() {
    // Down at start: the server starts anyway and answers 503 until the keys can be fetched.
    let issuer = Issuer::start(&["k1"]);
    issuer.down.store(true, Ordering::SeqCst);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let token = sign("k1", "k1", &claims(&server.url(), "openid"));
    let mut c = Client::new(&server);
    c.bearer = Some(token.clone());
    let r = c.post_raw(&init_body(V_LATEST)).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("cannot verify tokens: the issuer's keys")
    );

    issuer.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
    assert!(c.session.is_some(), "recovered once the issuer is back");

    // Down later: the cached keys keep verifying new tokens.
    issuer.down.store(true, Ordering::SeqCst);
    let mut fresh = claims(&server.url(), "openid");
    fresh["jti"] = json!("another-token");
    let c = Client::connect_as(&server, V_LATEST, Some(sign("k1", "k1", &fresh))).await;
    assert!(c.session.is_some());
    server.stop().await;
}

#[test]
fn tools_that_need_a_caller_need_oauth() {
    let err = McpServer::builder()
        .tools(tools![get_user_info, admin_action])
        .build()
        .expect_err("no oauth");
    let msg = err.to_string();
    assert!(msg.contains("tool `get-user-info`"), "{msg}");
    assert!(msg.contains("tool `admin-action`"), "{msg}");
    assert!(msg.contains("requires an authenticated caller (it takes `Auth` or requires scopes), but the server has no OAuth"), "{msg}");
}

#[test]
fn tool_scopes_must_be_declared_when_the_server_declares_its_scopes() {
    let issuer_free = OAuth::new(
        mcp_runtime::auth::verifier::JwtVerifier::hs256("secret"),
        ISS,
    );
    let err = McpServer::builder()
        .oauth(issuer_free)
        .scopes(["openid", "admn"])
        .tools(tools![get_user_info, admin_action])
        .build()
        .expect_err("undeclared");
    let msg = err.to_string();
    assert!(msg.contains("tool `admin-action`"), "{msg}");
    assert!(
        msg.contains(
            "requires scope `admin`, which the server does not declare (declared: openid, admn)"
        ),
        "{msg}"
    );
    assert_eq!(err.problems.len(), 1, "{msg}");
}

#[tokio::test]
async fn tools_list_can_hide_what_the_caller_cannot_call() {
    let issuer = Issuer::start(&["k1"]);
    let make = |hide: bool| {
        let oauth = issuer.oauth().hide_unauthorized_tools(hide);
        start(
            McpServer::builder()
                .oauth(oauth)
                .tools(tools![get_user_info, admin_action]),
        )
    };
    for (hide, scope, expected) in [
        (true, "openid", vec!["get-user-info"]),
        (true, "openid admin", vec!["get-user-info", "admin-action"]),
        (false, "openid", vec!["get-user-info", "admin-action"]),
    ] {
        let server = make(hide);
        let token = sign("k1", "k1", &claims(&server.url(), scope));
        let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
        let r = c.rpc(1, "tools/list", json!({})).await;
        let names: Vec<&str> = r["result"]["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| t["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, expected, "hide={hide} scope={scope}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_custom_provider_with_endpoints_serves_authorization_server_metadata() {
    use mcp_runtime::providers::CustomProvider;
    let provider = CustomProvider {
        issuer: ISS.into(),
        jwks_url: Some(format!("{ISS}/jwks.json")),
        auth_endpoint: Some(format!("{ISS}/authorize")),
        token_endpoint: Some(format!("{ISS}/token")),
        scopes: vec!["openid".into()],
        ..Default::default()
    };
    let server = start(
        McpServer::builder()
            .oauth(provider.into_oauth(http()))
            .tools(tools![get_user_info]),
    );
    let r = http()
        .get(format!(
            "http://{}/.well-known/oauth-authorization-server",
            server.addr()
        ))
        .send()
        .await
        .expect("metadata");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let m: Value = r.json().await.expect("json");
    assert_eq!(
        m,
        json!({"issuer": ISS, "authorization_endpoint": format!("{ISS}/authorize"),
               "token_endpoint": format!("{ISS}/token"), "jwks_uri": format!("{ISS}/jwks.json"),
               "scopes_supported": ["openid"], "response_types_supported": ["code"],
               "grant_types_supported": ["authorization_code", "refresh_token"],
               "code_challenge_methods_supported": ["S256"]})
    );
    server.stop().await;

    // Without endpoints there is nothing to describe: 404.
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let r = http()
        .get(format!(
            "http://{}/.well-known/oauth-authorization-server",
            server.addr()
        ))
        .send()
        .await
        .expect("metadata");
    assert_eq!(r.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn tokens_are_bound_to_this_server_by_aud_or_resource() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let url = server.url();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims(&url, "openid");
        f(&mut c);
        sign("k1", "k1", &c)
    };
    let array = with(&|c| c["aud"] = json!(["https://api.example", url.clone()]));
    let resource = with(&|c| {
        c["aud"] = json!("https://api.example");
        c["resource"] = json!(url.clone());
    });
    let none = with(&|c| {
        c.as_object_mut().expect("object").remove("aud");
    });
    for token in [array, resource] {
        let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
        assert_eq!(
            c.call("get-user-info", json!({})).await["result"]["structuredContent"]["userId"],
            "user-1"
        );
    }
    let (status, reason) = status_and_reason(&server, &none).await;
    assert_eq!(status, 401);
    assert_eq!(
        reason,
        format!("the token is not for this server: `aud` (or `resource`) must be {url} (RFC 8707)")
    );
    server.stop().await;
}

pub(crate) async fn status_and_reason(server: &RunningServer, token: &str) -> (u16, String) {
    let mut c = Client::new(server);
    c.bearer = Some(token.to_owned());
    let r = c.post_raw(&init_body(V_LATEST)).await;
    let reason = r.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    (r.status, reason)
}
