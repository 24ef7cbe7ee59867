//! The client against servers and authorization servers that lie: scripted over real HTTP on
//! 127.0.0.1. A downgrade to 2025-03-26 discovery plus a mix-up (an honest issuer's name beside
//! the attacker's token endpoint), URLs that are not https, a move to another authorization
//! server, protected-resource metadata without `resource`, answers that overflow or flood, and
//! callbacks from web pages that are not the sign-in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mcp_runtime::actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use mcp_runtime::client::Client;
use mcp_runtime::client::auth::{
    CallbackConfig, MemoryTokenStore, OAuth, OAuthConfig, Opener, TokenStore,
};
use serde_json::{Value, json};

use crate::client::robot_browser;

/// What a scripted server was sent: path and form or query, in order.
type Log = Arc<Mutex<Vec<(String, HashMap<String, String>)>>>;

/// A small authorization server: registration, `/authorize` that approves at once (with
/// `iss`), and a token endpoint checking PKCE; access tokens are `<prefix>-<n>`. It ignores
/// `resource`, as many real ones do.
struct Honest {
    url: String,
    log: Log,
    /// `expires_in` of its token answers.
    expires_in: Arc<Mutex<Value>>,
    /// Its `error_description` when it refuses a code.
    refuse_with: Arc<Mutex<Option<String>>>,
    /// The `iss` of its authorization responses (RFC 9207); its own URL by default.
    iss: Arc<Mutex<Option<String>>>,
    _handle: mcp_runtime::actix_web::dev::ServerHandle,
}

fn form_of(body: &[u8]) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(body)))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn query_of(req: &HttpRequest) -> HashMap<String, String> {
    form_of(req.query_string().as_bytes())
}

/// The client id of an `Authorization: Basic` header.
fn basic_id(req: &HttpRequest) -> Option<String> {
    use base64::Engine as _;
    let b64 = req
        .headers()
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':')?.0.to_owned())
}

fn b64_sha256(s: &str) -> String {
    use base64::Engine as _;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

fn listener() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    (l, url)
}

impl Honest {
    fn start(prefix: &'static str) -> Honest {
        let (l, url) = listener();
        let log: Log = Arc::default();
        let expires_in = Arc::new(Mutex::new(json!(3600)));
        let refuse_with: Arc<Mutex<Option<String>>> = Arc::default();
        let codes: Arc<Mutex<HashMap<String, (String, String)>>> = Arc::default();
        let iss = Arc::new(Mutex::new(Some(url.clone())));
        let (base, lg, exp, refuse, is) = (
            url.clone(),
            log.clone(),
            expires_in.clone(),
            refuse_with.clone(),
            iss.clone(),
        );
        let server = HttpServer::new(move || {
            let (base, lg, exp, refuse, codes, is) = (
                base.clone(),
                lg.clone(),
                exp.clone(),
                refuse.clone(),
                codes.clone(),
                is.clone(),
            );
            let (b1, b2) = (base.clone(), base.clone());
            let (l1, l2, l3) = (lg.clone(), lg.clone(), lg.clone());
            let (c1, c2) = (codes.clone(), codes.clone());
            App::new()
                .route(
                    "/.well-known/oauth-authorization-server",
                    web::get().to(move || {
                        let b = b1.clone();
                        async move {
                            HttpResponse::Ok().json(json!({
                                "issuer": b, "authorization_endpoint": format!("{b}/authorize"),
                                "token_endpoint": format!("{b}/token"),
                                "registration_endpoint": format!("{b}/register"),
                                "code_challenge_methods_supported": ["S256"],
                                "authorization_response_iss_parameter_supported": true,
                                "response_types_supported": ["code"]}))
                        }
                    }),
                )
                .route(
                    "/register",
                    web::post().to(move |body: web::Bytes| {
                        let l = l1.clone();
                        async move {
                            let n = l.lock().expect("lock").len();
                            l.lock()
                                .expect("lock")
                                .push(("/register".into(), HashMap::new()));
                            let req: Value = serde_json::from_slice(&body).unwrap_or_default();
                            HttpResponse::Created().json(json!({
                                "client_id": format!("client-{n}"),
                                "redirect_uris": req["redirect_uris"],
                                "token_endpoint_auth_method": "none"}))
                        }
                    }),
                )
                .route(
                    "/authorize",
                    web::get().to(move |req: HttpRequest| {
                        let (l, c, is) = (l2.clone(), c1.clone(), is.clone());
                        let _ = &b2;
                        async move {
                            let q = query_of(&req);
                            l.lock()
                                .expect("lock")
                                .push(("/authorize".into(), q.clone()));
                            let code = format!("code-{}", c.lock().expect("lock").len());
                            c.lock().expect("lock").insert(
                                code.clone(),
                                (
                                    q.get("code_challenge").cloned().unwrap_or_default(),
                                    q.get("client_id").cloned().unwrap_or_default(),
                                ),
                            );
                            let mut back = reqwest::Url::parse_with_params(
                                q.get("redirect_uri")
                                    .map_or("http://127.0.0.1:9/", String::as_str),
                                &[
                                    ("code", code.as_str()),
                                    ("state", q.get("state").map_or("", String::as_str)),
                                ],
                            )
                            .expect("url");
                            if let Some(iss) = is.lock().expect("lock").clone() {
                                back.query_pairs_mut().append_pair("iss", &iss);
                            }
                            HttpResponse::Found()
                                .insert_header(("location", back.as_str()))
                                .finish()
                        }
                    }),
                )
                .route(
                    "/token",
                    web::post().to(move |req: HttpRequest, body: web::Bytes| {
                        let (l, c, exp, refuse) =
                            (l3.clone(), c2.clone(), exp.clone(), refuse.clone());
                        async move {
                            let mut f = form_of(&body);
                            // A confidential client's id comes in the Basic header.
                            if let Some(id) = basic_id(&req) {
                                f.entry("client_id".into()).or_insert(id);
                            }
                            l.lock().expect("lock").push(("/token".into(), f.clone()));
                            if let Some(why) = refuse.lock().expect("lock").clone() {
                                return HttpResponse::BadRequest().json(
                                    json!({"error": "invalid_grant", "error_description": why}),
                                );
                            }
                            let n = l.lock().expect("lock").len();
                            let refresh = || {
                                HttpResponse::Ok().json(json!({
                                    "access_token": format!("{prefix}-{n}"), "token_type": "Bearer",
                                    "expires_in": exp.lock().expect("lock").clone(),
                                    "refresh_token": format!("{prefix}-refresh-{n}")}))
                            };
                            if f.get("grant_type").map(String::as_str) == Some("refresh_token") {
                                return refresh();
                            }
                            let ok = f
                                .get("code")
                                .and_then(|code| c.lock().expect("lock").remove(code))
                                .is_some_and(|(challenge, client)| {
                                    f.get("code_verifier").map(|v| b64_sha256(v)) == Some(challenge)
                                        && f.get("client_id") == Some(&client)
                                });
                            if ok {
                                refresh()
                            } else {
                                HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}))
                            }
                        }
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(l)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Honest {
            url,
            log,
            expires_in,
            refuse_with,
            iss,
            _handle: handle,
        }
    }

    fn seen(&self, path: &str) -> Vec<HashMap<String, String>> {
        self.log
            .lock()
            .expect("lock")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// A scripted MCP server: `/mcp` answers 401 unless the bearer token starts with the
/// accepted prefix (then a minimal `initialize` result); its discovery documents are what
/// the test sets (`None`: 404).
struct Scripted {
    url: String,
    /// The protected-resource metadata (both the path-suffixed and the root document).
    prm: Arc<Mutex<Option<Value>>>,
    /// The origin's RFC 8414 metadata (for the 2025-03-26 fallback).
    as_metadata: Arc<Mutex<Option<Value>>>,
    /// The prefix of the bearer tokens it accepts.
    accepts: Arc<Mutex<String>>,
    /// What its own `/token` (an attacker's token endpoint) was sent.
    stolen: Log,
    _handle: mcp_runtime::actix_web::dev::ServerHandle,
}

impl Scripted {
    fn start() -> Scripted {
        let (l, url) = listener();
        let prm: Arc<Mutex<Option<Value>>> = Arc::default();
        let as_metadata: Arc<Mutex<Option<Value>>> = Arc::default();
        let accepts = Arc::new(Mutex::new("never".to_owned()));
        let stolen: Log = Arc::default();
        let (p, a, acc, st) = (
            prm.clone(),
            as_metadata.clone(),
            accepts.clone(),
            stolen.clone(),
        );
        let server = HttpServer::new(move || {
            let (p1, p2, a1, acc, st) = (p.clone(), p.clone(), a.clone(), acc.clone(), st.clone());
            let doc = |v: &Arc<Mutex<Option<Value>>>| match v.lock().expect("lock").clone() {
                Some(d) => HttpResponse::Ok().json(d),
                None => HttpResponse::NotFound().finish(),
            };
            App::new()
                .route(
                    "/.well-known/oauth-protected-resource/mcp",
                    web::get().to(move || std::future::ready(doc(&p1))),
                )
                .route(
                    "/.well-known/oauth-protected-resource",
                    web::get().to(move || std::future::ready(doc(&p2))),
                )
                .route(
                    "/.well-known/oauth-authorization-server",
                    web::get().to(move || std::future::ready(doc(&a1))),
                )
                .route(
                    "/token",
                    web::post().to(move |body: web::Bytes| {
                        st.lock()
                            .expect("lock")
                            .push(("/token".into(), form_of(&body)));
                        std::future::ready(
                            HttpResponse::BadRequest().json(json!({"error": "invalid_grant"})),
                        )
                    }),
                )
                .route(
                    "/mcp",
                    web::post().to(move |req: HttpRequest| {
                        let accepted = acc.lock().expect("lock").clone();
                        let ok = req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.strip_prefix("Bearer "))
                            .is_some_and(|t| t.starts_with(&accepted));
                        std::future::ready(if ok {
                            HttpResponse::Ok().json(json!({"jsonrpc": "2.0", "id": 0, "result": {
                                "protocolVersion": "2025-11-25", "capabilities": {},
                                "serverInfo": {"name": "scripted", "version": "1"}}}))
                        } else {
                            HttpResponse::Unauthorized()
                                .insert_header(("www-authenticate", "Bearer"))
                                .finish()
                        })
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(l)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Scripted {
            url,
            prm,
            as_metadata,
            accepts,
            stolen,
            _handle: handle,
        }
    }

    fn mcp(&self) -> String {
        format!("{}/mcp", self.url)
    }

    /// Protected-resource metadata naming `issuer`.
    fn point_to(&self, issuer: &str) {
        *self.prm.lock().expect("lock") =
            Some(json!({"resource": self.mcp(), "authorization_servers": [issuer]}));
    }
}

fn config(store: Arc<dyn TokenStore>, opener: Opener) -> OAuthConfig {
    let mut cfg = OAuthConfig::default();
    cfg.callback = CallbackConfig::port(0);
    cfg.opener = opener;
    cfg.store = Some(store);
    cfg.authorize_timeout = std::time::Duration::from_secs(10);
    cfg
}

async fn connect(url: &str, cfg: OAuthConfig) -> Result<Client, String> {
    let oauth = OAuth::new(url, cfg).map_err(|e| e.to_string())?;
    Client::builder(url)
        .auth(oauth)
        .connect()
        .await
        .map_err(|e| e.to_string())
}

/// Case 1: a server with no protected-resource metadata sends the client to 2025-03-26
/// discovery, where its RFC 8414 document claims the honest authorization server's issuer but
/// names the attacker's token endpoint. The client refuses it (RFC 8414 §3.3), so the code and
/// verifier never reach the attacker, who would redeem them at the honest server.
#[tokio::test]
async fn a_downgrade_and_mix_up_steals_no_code() {
    let honest = Honest::start("honest");
    let evil = Scripted::start();
    *evil.as_metadata.lock().expect("lock") = Some(json!({
        "issuer": honest.url,
        "authorization_endpoint": format!("{}/authorize", honest.url),
        "token_endpoint": format!("{}/token", evil.url),
        "registration_endpoint": format!("{}/register", honest.url),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    }));
    let opened = Arc::new(AtomicUsize::new(0));
    let cfg = config(
        Arc::new(MemoryTokenStore::new()),
        robot_browser(opened.clone()),
    );
    let err = connect(&evil.mcp(), cfg).await.expect_err("refused");
    // What an attacker would do with what reached its token endpoint: redeem it honestly.
    let stolen: Vec<HashMap<String, String>> = evil
        .stolen
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, f)| f.clone())
        .collect();
    for form in stolen {
        let r = reqwest::Client::new()
            .post(format!("{}/token", honest.url))
            .form(&form)
            .send()
            .await
            .expect("redeem");
        assert!(
            !r.status().is_success(),
            "the attacker redeemed the stolen code"
        );
    }
    assert!(err.contains("RFC 8414 §3.3"), "{err}");
    assert!(
        evil.stolen.lock().expect("lock").is_empty(),
        "no code or verifier sent to the attacker"
    );
    assert_eq!(opened.load(Ordering::SeqCst), 0, "no browser opened");
}

/// The 2025-03-26 fallback still works against an honest old server whose metadata names its
/// own origin.
#[tokio::test]
async fn the_2025_03_26_fallback_still_signs_in_to_an_honest_old_server() {
    let honest = Honest::start("old");
    let server = Scripted::start();
    // The honest authorization server is this same origin in 2025-03-26 terms: here the
    // scripted server's metadata names its own origin and points at the honest endpoints.
    *server.as_metadata.lock().expect("lock") = Some(json!({
        "issuer": server.url,
        "authorization_endpoint": format!("{}/authorize", honest.url),
        "token_endpoint": format!("{}/token", honest.url),
        "registration_endpoint": format!("{}/register", honest.url),
        "code_challenge_methods_supported": ["S256"],
    }));
    *server.accepts.lock().expect("lock") = "old-".into();
    // An old server that does not send RFC 9207's `iss`.
    *honest.iss.lock().expect("lock") = None;
    let cfg = config(
        Arc::new(MemoryTokenStore::new()),
        robot_browser(Arc::new(AtomicUsize::new(0))),
    );
    connect(&server.mcp(), cfg).await.expect("signed in");
}

/// Case 2: no OAuth URL that is not https (loopback excepted) is used: a `javascript:`
/// authorization endpoint never reaches the opener, a plain-http remote token endpoint or
/// authorization server is refused before anything is sent.
#[tokio::test]
async fn urls_that_are_not_https_are_refused() {
    let honest = Honest::start("h");
    let evil = Scripted::start();
    let opened = Arc::new(AtomicUsize::new(0));
    for (what, prm_issuer, metadata) in [
        (
            "javascript: authorization endpoint",
            None,
            Some(json!({
            "issuer": evil.url, "authorization_endpoint": "javascript:alert(document.domain)",
            "token_endpoint": format!("{}/token", honest.url),
            "registration_endpoint": format!("{}/register", honest.url),
            "code_challenge_methods_supported": ["S256"]})),
        ),
        (
            "file: authorization endpoint",
            None,
            Some(json!({
            "issuer": evil.url, "authorization_endpoint": "file:///etc/passwd",
            "token_endpoint": format!("{}/token", honest.url),
            "code_challenge_methods_supported": ["S256"]})),
        ),
        (
            "plain-http remote token endpoint",
            None,
            Some(json!({
            "issuer": evil.url, "authorization_endpoint": format!("{}/authorize", honest.url),
            "token_endpoint": "http://attacker.example/token",
            "registration_endpoint": format!("{}/register", honest.url),
            "code_challenge_methods_supported": ["S256"]})),
        ),
        (
            "plain-http remote authorization server",
            Some("http://as.example"),
            None,
        ),
    ] {
        *evil.as_metadata.lock().expect("lock") = metadata;
        match prm_issuer {
            Some(i) => evil.point_to(i),
            None => *evil.prm.lock().expect("lock") = None,
        }
        let cfg = config(
            Arc::new(MemoryTokenStore::new()),
            robot_browser(opened.clone()),
        );
        let err = connect(&evil.mcp(), cfg).await.expect_err(what);
        assert!(err.contains("refusing"), "{what}: {err}");
    }
    assert_eq!(
        opened.load(Ordering::SeqCst),
        0,
        "the browser was never opened"
    );
    assert!(honest.seen("/register").is_empty() && honest.seen("/token").is_empty());
}

/// Case 4: protected-resource metadata without `resource` (RFC 9728 requires it) is refused.
#[tokio::test]
async fn metadata_without_resource_is_refused() {
    let honest = Honest::start("h");
    let server = Scripted::start();
    *server.prm.lock().expect("lock") = Some(json!({"authorization_servers": [honest.url]}));
    let cfg = config(
        Arc::new(MemoryTokenStore::new()),
        robot_browser(Arc::new(AtomicUsize::new(0))),
    );
    let err = connect(&server.mcp(), cfg).await.expect_err("refused");
    assert!(err.contains("has no `resource`"), "{err}");
    assert!(honest.seen("/authorize").is_empty());
}

/// Case 3: after the server moves to another authorization server, the refresh token and a
/// configured client's secret are not sent to the new one; a dynamically registered client
/// signs in there anew.
#[tokio::test]
async fn a_new_authorization_server_gets_no_old_refresh_token_or_secret() {
    let first = Honest::start("as1");
    let second = Honest::start("as2");
    let server = Scripted::start();
    server.point_to(&first.url);
    *server.accepts.lock().expect("lock") = "as1-".into();
    // Tokens that expire at once, so the next call refreshes before sending.
    *first.expires_in.lock().expect("lock") = json!(1);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let opener = robot_browser(Arc::new(AtomicUsize::new(0)));
    let client = connect(&server.mcp(), config(store.clone(), opener.clone()))
        .await
        .expect("signed in at the first");
    drop(client);
    server.point_to(&second.url);
    *server.accepts.lock().expect("lock") = "as2-".into();
    let steps: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut cfg = config(store.clone(), opener.clone());
    let log = steps.clone();
    cfg.step_log = Some(Arc::new(move |m: &str| {
        log.lock().expect("lock").push(m.to_owned());
    }));
    connect(&server.mcp(), cfg)
        .await
        .expect("signed in anew at the second");
    let steps = steps.lock().expect("lock").clone();
    assert!(
        steps
            .iter()
            .any(|m| m.contains("refresh before expiry failed")
                && m.contains("not sending it there")),
        "the expiring token's refresh was held back: {steps:#?}"
    );
    assert!(
        second
            .seen("/token")
            .iter()
            .all(|f| f.get("grant_type").map(String::as_str) == Some("authorization_code")),
        "no refresh token went to the new server: {:?}",
        second.seen("/token")
    );

    // A configured client (id and secret) used with the first is not offered to the second.
    let first = Honest::start("as1");
    let second = Honest::start("as2");
    let server = Scripted::start();
    server.point_to(&first.url);
    *server.accepts.lock().expect("lock") = "as1-".into();
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let with_client = |store: Arc<dyn TokenStore>| {
        let mut cfg = config(store, opener.clone());
        cfg.client_id = Some("client-0".into());
        cfg.client_secret = Some(mcp_runtime::client::auth::Secret::new("s3cret"));
        cfg
    };
    connect(&server.mcp(), with_client(store.clone()))
        .await
        .expect("first");
    server.point_to(&second.url);
    *server.accepts.lock().expect("lock") = "as2-".into();
    let err = connect(&server.mcp(), with_client(store.clone()))
        .await
        .expect_err("not to the second");
    assert!(err.contains("set its issuer"), "{err}");
    assert!(
        second.seen("/token").is_empty(),
        "the secret went nowhere new"
    );
    assert!(second.seen("/authorize").is_empty());
    // Named in the configuration, the new issuer is used.
    let mut cfg = with_client(store);
    cfg.client_issuer = Some(second.url.clone());
    connect(&server.mcp(), cfg)
        .await
        .expect("configured for the second");
}

/// Case 5: what an authorization server sends cannot crash or flood the client: an
/// `expires_in` of 2^64−1 signs in (capped), metadata past the bound is not read whole, and an
/// `error_description` with terminal escapes reaches the error with them shown, not obeyed.
#[tokio::test]
async fn hostile_answers_neither_crash_nor_flood_nor_escape() {
    let honest = Honest::start("h");
    let server = Scripted::start();
    server.point_to(&honest.url);
    *server.accepts.lock().expect("lock") = "h-".into();
    *honest.expires_in.lock().expect("lock") = json!(u64::MAX);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let opener = robot_browser(Arc::new(AtomicUsize::new(0)));
    connect(&server.mcp(), config(store.clone(), opener.clone()))
        .await
        .expect("signed in despite expires_in = 2^64-1");
    let stored = store
        .load_tokens(&server.mcp())
        .expect("load")
        .expect("tokens");
    assert!(
        stored.expires_at.is_some_and(|e| e < u64::MAX / 2),
        "capped: {stored:?}"
    );

    *honest.refuse_with.lock().expect("lock") = Some("bad\u{1b}[2J\u{1b}]0;owned\u{7}".into());
    let err = connect(
        &server.mcp(),
        config(Arc::new(MemoryTokenStore::new()), opener.clone()),
    )
    .await
    .expect_err("refused");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("bad\\u{1b}[2J"), "{err}");

    // 8 MiB of metadata: not read past the bound (256 KiB), so no authorization server.
    let big = Scripted::start();
    big.point_to(&big.url);
    *big.as_metadata.lock().expect("lock") = Some(json!({
        "issuer": big.url, "authorization_endpoint": format!("{}/authorize", honest.url),
        "token_endpoint": format!("{}/token", honest.url),
        "code_challenge_methods_supported": ["S256"],
        "padding": "x".repeat(8 << 20)}));
    let err = connect(
        &big.mcp(),
        config(Arc::new(MemoryTokenStore::new()), opener),
    )
    .await
    .expect_err("no metadata");
    assert!(err.contains("no authorization server metadata"), "{err}");
}

/// Case 5: a request to the loopback callback without the sign-in's `state` (any web page
/// can send one) does not end the sign-in: the real answer still completes it.
#[tokio::test]
async fn a_stray_callback_does_not_end_the_sign_in() {
    let honest = Honest::start("h");
    let server = Scripted::start();
    server.point_to(&honest.url);
    *server.accepts.lock().expect("lock") = "h-".into();
    let strays = Arc::new(AtomicUsize::new(0));
    let counted = strays.clone();
    let opener = Opener::custom(move |url: String| {
        let counted = counted.clone();
        async move {
            let q: HashMap<String, String> = reqwest::Url::parse(&url)
                .map_err(|e| e.to_string())?
                .query_pairs()
                .into_owned()
                .collect();
            let callback = q.get("redirect_uri").cloned().unwrap_or_default();
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?;
            // A web page aborting the sign-in: a wrong state, then none at all.
            for stray in [
                format!("{callback}?code=x&state=wrong"),
                format!("{callback}?error=access_denied"),
            ] {
                let r = http.get(&stray).send().await.map_err(|e| e.to_string())?;
                if r.status() == 400 {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            }
            // Then the user's browser, through the authorization server.
            let r = http.get(&url).send().await.map_err(|e| e.to_string())?;
            let back = r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or("no redirect")?
                .to_owned();
            http.get(&back).send().await.map_err(|e| e.to_string())?;
            Ok(())
        }
    });
    connect(
        &server.mcp(),
        config(Arc::new(MemoryTokenStore::new()), opener),
    )
    .await
    .expect("the real answer signs in");
    assert_eq!(
        strays.load(Ordering::SeqCst),
        2,
        "both strays answered 400 and ignored"
    );
}
