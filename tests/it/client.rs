//! The client library against this project's servers over real HTTP: the whole OAuth sign-in
//! with the embedded dev server (a "browser" that follows redirects), step-up for a scoped
//! tool, silent refresh, token files 0600 in a 0700 folder, malformed files ignored, bearer
//! tokens, pagination-free listing, tool errors and JSON-RPC errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_runtime::RunningServer;
use mcp_runtime::auth::Auth;
use mcp_runtime::client::auth::{
    BearerToken, CallbackConfig, FileTokenStore, OAuth, OAuthConfig, Opener, TokenStore,
};
use mcp_runtime::client::{Client, ClientError};
use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use serde_json::{Value, json};

use crate::common::*;

/// Who is calling.
#[mcp_tool(name = "whoami", read_only)]
async fn whoami(auth: Auth) -> Json<Value> {
    Json(json!({"sub": auth.user.user_id, "scopes": auth.scopes}))
}

/// Admins only.
#[mcp_tool(name = "admin-action", scopes = "admin")]
async fn admin_action(action: String) -> String {
    format!("did {action}")
}

/// Always fails.
#[mcp_tool(name = "broken")]
async fn broken() -> Result<String, String> {
    Err("it broke".into())
}

/// Answers with terminal escape sequences (a hostile tool's output).
#[mcp_tool(name = "ansi", read_only)]
async fn ansi() -> String {
    "\u{1b}[2Jcleared\u{1b}]0;title\u{7}".into()
}

/// A server with the dev authorization server, auto-approving.
pub(crate) fn dev_server(ttl: Duration) -> RunningServer {
    let oauth = DevProvider::new()
        .auto_approve(true)
        .access_token_ttl(ttl)
        .into_oauth()
        .expect("dev server");
    start(
        McpServer::builder()
            .tools(tools![whoami, admin_action, broken, ansi])
            .oauth(oauth),
    )
}

/// A browser that follows redirects (without cookies of its own) until the loopback
/// callback has answered; counts how often it was opened.
pub(crate) fn robot_browser(opened: Arc<AtomicUsize>) -> Opener {
    Opener::custom(move |url| {
        let opened = opened.clone();
        async move {
            opened.fetch_add(1, Ordering::SeqCst);
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?;
            let mut next = url;
            for _ in 0..10 {
                let r = http.get(&next).send().await.map_err(|e| e.to_string())?;
                match r.headers().get("location").and_then(|v| v.to_str().ok()) {
                    Some(loc) if r.status().is_redirection() => next = loc.to_owned(),
                    _ => return Ok(()),
                }
            }
            Err("too many redirects".into())
        }
    })
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("mcp-client-{name}-{}-{nanos}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn oauth_config(store: Arc<dyn TokenStore>, opened: Arc<AtomicUsize>) -> OAuthConfig {
    let mut cfg = OAuthConfig::default();
    cfg.callback = CallbackConfig::port(0);
    cfg.opener = robot_browser(opened);
    cfg.store = Some(store);
    cfg.client_name = "client test".into();
    cfg
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

#[tokio::test]
async fn the_client_signs_in_steps_up_and_refreshes_silently() {
    let server = dev_server(Duration::from_secs(3600));
    let url = server.url();
    let dir = temp_dir("signin");
    let files = FileTokenStore::new(&dir);
    let opened = Arc::new(AtomicUsize::new(0));
    let oauth =
        OAuth::new(&url, oauth_config(Arc::new(files.clone()), opened.clone())).expect("oauth");
    let client = Client::builder(&url)
        .auth(oauth)
        .connect()
        .await
        .expect("signs in and connects");
    assert_eq!(opened.load(Ordering::SeqCst), 1, "one sign-in");
    assert_eq!(client.server().protocol_version, "2025-11-25");
    let tools = client.list_tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["whoami", "admin-action", "broken", "ansi"]);
    assert_eq!(tools[1].input_schema["required"], json!(["action"]));
    let who = client.call_tool("whoami", json!({})).await.expect("whoami");
    assert_eq!(
        who.structured_content.as_ref().expect("structured")["sub"],
        "dev-user"
    );

    // Step-up: 403 insufficient_scope, a second sign-in with the union of scopes.
    let r = client
        .call_tool("admin-action", json!({"action": "x"}))
        .await
        .expect("after step-up");
    assert_eq!(r.text(), "did x");
    assert!(!r.is_error);
    assert_eq!(
        opened.load(Ordering::SeqCst),
        2,
        "one more sign-in for admin"
    );

    // A tool's failure is a result; a refused call is an error.
    let r = client
        .call_tool("broken", json!({}))
        .await
        .expect("a result");
    assert!(r.is_error);
    assert_eq!(r.text(), "it broke");
    let err = client
        .call_tool("nope", json!({}))
        .await
        .expect_err("unknown tool");
    assert_eq!(err.rpc().expect("rpc error").code, -32602, "{err}");

    // The files: 0600 in 0700 folders, the registration beside the tokens.
    let tokens_path = files.tokens_path(&url);
    let reg_path = files.registration_path(&url);
    assert!(tokens_path.exists() && reg_path.exists());
    #[cfg(unix)]
    {
        assert_eq!(mode(&tokens_path), 0o600);
        assert_eq!(mode(&reg_path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(reg_path.parent().expect("dir")), 0o700);
    }
    let stored = files.load_tokens(&url).expect("load").expect("tokens");
    assert!(
        stored.scope.as_deref().is_some_and(|s| s.contains("admin")),
        "{stored:?}"
    );
    let text = std::fs::read_to_string(&tokens_path).expect("read");
    assert!(text.contains(&url), "the file names its server");
    client.close().await;

    // A second client with the same store: no browser, the stored tokens serve.
    let oauth =
        OAuth::new(&url, oauth_config(Arc::new(files.clone()), opened.clone())).expect("oauth");
    let client = Client::builder(&url)
        .auth(oauth)
        .connect()
        .await
        .expect("connects");
    let r = client
        .call_tool("admin-action", json!({"action": "y"}))
        .await
        .expect("stored token");
    assert_eq!(r.text(), "did y");
    assert_eq!(opened.load(Ordering::SeqCst), 2, "no new sign-in");
    client.close().await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn expired_tokens_are_refreshed_without_a_browser() {
    let server = dev_server(Duration::from_secs(1));
    let url = server.url();
    let store = Arc::new(mcp_runtime::client::auth::MemoryTokenStore::new());
    let opened = Arc::new(AtomicUsize::new(0));
    let oauth = OAuth::new(&url, oauth_config(store.clone(), opened.clone())).expect("oauth");
    let client = Client::builder(&url)
        .auth(oauth)
        .connect()
        .await
        .expect("connects");
    let first = store.load_tokens(&url).expect("load").expect("tokens");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let who = client.call_tool("whoami", json!({})).await.expect("whoami");
    assert!(!who.is_error);
    let second = store.load_tokens(&url).expect("load").expect("tokens");
    assert_ne!(first.access_token, second.access_token, "refreshed");
    assert_ne!(first.refresh_token, second.refresh_token, "rotated");
    assert_eq!(opened.load(Ordering::SeqCst), 1, "silently: no browser");
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_token_file_is_ignored_and_replaced() {
    let server = dev_server(Duration::from_secs(3600));
    let url = server.url();
    let dir = temp_dir("malformed");
    let files = FileTokenStore::new(&dir);
    std::fs::create_dir_all(dir.join("registrations")).expect("mkdir");
    std::fs::write(files.tokens_path(&url), b"{not json").expect("write");
    std::fs::write(files.registration_path(&url), b"[]").expect("write");
    assert!(files.load_tokens(&url).expect("no error").is_none());
    let opened = Arc::new(AtomicUsize::new(0));
    let oauth =
        OAuth::new(&url, oauth_config(Arc::new(files.clone()), opened.clone())).expect("oauth");
    let client = Client::builder(&url)
        .auth(oauth)
        .connect()
        .await
        .expect("connects");
    assert_eq!(opened.load(Ordering::SeqCst), 1);
    assert!(files.load_tokens(&url).expect("load").is_some(), "replaced");
    client.close().await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_bearer_token_or_nothing() {
    let server = dev_server(Duration::from_secs(3600));
    let url = server.url();
    let err = Client::builder(&url)
        .auth(BearerToken::new("not-a-token"))
        .connect()
        .await
        .expect_err("refused");
    assert!(matches!(err, ClientError::Unauthorized(_)), "{err}");
    let err = Client::builder(&url).connect().await.expect_err("refused");
    assert!(err.to_string().starts_with("not authorized: "), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn a_busy_callback_port_is_named_before_any_browser() {
    let server = dev_server(Duration::from_secs(3600));
    let url = server.url();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let opened = Arc::new(AtomicUsize::new(0));
    let mut cfg = oauth_config(
        Arc::new(mcp_runtime::client::auth::MemoryTokenStore::new()),
        opened.clone(),
    );
    cfg.callback = CallbackConfig::port(port);
    let err = Client::builder(&url)
        .auth(OAuth::new(&url, cfg).expect("oauth"))
        .connect()
        .await
        .expect_err("port busy");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("127.0.0.1:{port}")) && msg.contains("choose another one"),
        "{msg}"
    );
    assert_eq!(opened.load(Ordering::SeqCst), 0, "no browser opened");
    server.stop().await;
}

/// A client of 2026-07-28 and this server speak that revision: no `initialize`, no session,
/// OAuth as before (a server of older revisions only is covered by the client conformance
/// scenarios, where the client falls back on `-32022`).
#[tokio::test]
async fn a_2026_client_speaks_2026_without_a_session() {
    let server = dev_server(Duration::from_secs(3600));
    let url = server.url();
    let opened = Arc::new(AtomicUsize::new(0));
    let oauth = OAuth::new(
        &url,
        oauth_config(
            Arc::new(mcp_runtime::client::auth::MemoryTokenStore::new()),
            opened,
        ),
    )
    .expect("oauth");
    let client = Client::builder(&url)
        .protocol_version("2026-07-28")
        .auth(oauth)
        .connect()
        .await
        .expect("connects");
    assert_eq!(client.protocol_version(), "2026-07-28");
    assert!(client.is_stateless());
    assert!(client.session_id().is_none(), "2026-07-28 has no sessions");
    let who = client.call_tool("whoami", json!({})).await.expect("whoami");
    assert!(!who.is_error, "{who:?}");
    server.stop().await;
}

/// Records what the server tells the client.
#[derive(Clone, Default)]
struct Recorder {
    progress: Arc<std::sync::Mutex<Vec<Value>>>,
    logs: Arc<std::sync::Mutex<Vec<Value>>>,
}

impl mcp_runtime::client::ClientHandler for Recorder {
    fn progress(&self, params: &Value) {
        self.progress.lock().expect("lock").push(params.clone());
    }
    fn log(&self, params: &Value) {
        self.logs.lock().expect("lock").push(params.clone());
    }
}

/// Progress and log notifications reach the handler; a timeout or a cancellation tells the
/// server (`notifications/cancelled`), whose tool is then dropped; a session the server forgot
/// is started again once.
#[tokio::test]
async fn notifications_cancellation_and_an_expired_session() {
    use mcp_runtime::client::CallOptions;
    let (b, dropped) = crate::fixtures::builder();
    let server = start(b);
    let seen = Recorder::default();
    let client = Client::builder(server.url())
        .handler(seen.clone())
        .connect()
        .await
        .expect("connects");
    assert_eq!(client.server().name(), "it");
    assert_eq!(client.server().instructions.as_deref(), Some("test server"));

    let r = client
        .call_tool_with(
            "progress",
            json!({}),
            &CallOptions::default().progress(true),
        )
        .await
        .expect("progress");
    assert_eq!(r.text(), "done");
    let progress = seen.progress.lock().expect("lock").clone();
    assert_eq!(progress.len(), 3, "{progress:?}");
    assert_eq!(progress[2]["progress"], 3.0);
    assert_eq!(progress[2]["total"], 3.0);

    client
        .request("logging/setLevel", json!({"level": "info"}))
        .await
        .expect("setLevel");
    client.call_tool("logs", json!({})).await.expect("logs");
    let logs = seen.logs.lock().expect("lock").clone();
    assert!(
        logs.iter()
            .any(|l| l["data"] == "an error line" && l["level"] == "error"),
        "{logs:?}"
    );

    let err = client
        .call_tool_with(
            "wait",
            json!({}),
            &CallOptions::default().timeout(Duration::from_millis(300)),
        )
        .await
        .expect_err("times out");
    assert!(matches!(err, ClientError::Timeout(_)), "{err}");
    for _ in 0..100 {
        if dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the server dropped the tool"
    );

    let token = mcp_runtime::client::CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        t.cancel();
    });
    let err = client
        .call_tool_with("wait", json!({}), &CallOptions::default().cancel(token))
        .await
        .expect_err("cancelled");
    assert!(matches!(err, ClientError::Cancelled), "{err}");

    // The session ends (DELETE); a clone of the client finds it gone and starts a new one.
    let again = client.clone();
    let first = client.session_id().expect("a session");
    client.close().await;
    let r = again
        .call_tool("echo", json!({"text": "hi"}))
        .await
        .expect("re-initialized");
    assert_eq!(r.text(), "hi");
    assert_ne!(again.session_id().expect("a new session"), first);
    server.stop().await;
}

/// An authorization server that does not advertise PKCE S256 is refused before any browser
/// opens, with a message that names it; so is a protected-resource document for another server.
#[tokio::test]
async fn no_sign_in_without_s256_or_for_another_resource() {
    use mcp_runtime::actix_web::{App, HttpResponse, HttpServer, web};
    for (pkce, resource_ok) in [(false, true), (true, false)] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let b = base.clone();
        let server = HttpServer::new(move || {
            let b = b.clone();
            App::new()
                .route(
                    "/mcp",
                    web::post().to({
                        let b = b.clone();
                        move || {
                            let b = b.clone();
                            async move {
                                HttpResponse::Unauthorized()
                                    .insert_header((
                                        "www-authenticate",
                                        format!(
                                            "Bearer resource_metadata=\"{b}/.well-known/oauth-protected-resource/mcp\""
                                        ),
                                    ))
                                    .finish()
                            }
                        }
                    }),
                )
                .route(
                    "/.well-known/oauth-protected-resource/mcp",
                    web::get().to({
                        let b = b.clone();
                        move || {
                            let resource = if resource_ok {
                                format!("{b}/mcp")
                            } else {
                                "https://elsewhere.example/mcp".to_owned()
                            };
                            let b = b.clone();
                            async move {
                                HttpResponse::Ok().json(
                                    json!({"resource": resource, "authorization_servers": [b]}),
                                )
                            }
                        }
                    }),
                )
                .route(
                    "/.well-known/oauth-authorization-server",
                    web::get().to(move || {
                        let b = b.clone();
                        async move {
                            let mut m = json!({"issuer": b, "authorization_endpoint": format!("{b}/authorize"),
                                "token_endpoint": format!("{b}/token"), "registration_endpoint": format!("{b}/register")});
                            if pkce {
                                m["code_challenge_methods_supported"] = json!(["S256"]);
                            }
                            HttpResponse::Ok().json(m)
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
        let url = format!("{base}/mcp");
        let opened = Arc::new(AtomicUsize::new(0));
        let oauth = OAuth::new(
            &url,
            oauth_config(
                Arc::new(mcp_runtime::client::auth::MemoryTokenStore::new()),
                opened.clone(),
            ),
        )
        .expect("oauth");
        let err = Client::builder(&url)
            .auth(oauth)
            .connect()
            .await
            .expect_err("refused");
        let msg = err.to_string();
        if pkce {
            assert!(
                msg.contains("is for `https://elsewhere.example/mcp`, not for"),
                "{msg}"
            );
        } else {
            assert!(
                msg.contains(&format!(
                    "the authorization server {base} does not advertise PKCE with S256"
                )),
                "{msg}"
            );
        }
        assert_eq!(opened.load(Ordering::SeqCst), 0, "no browser");
        handle.stop(true).await;
    }
}

/// An access token from the dev server of `url` (auto-approving), as a first sign-in gets it.
pub(crate) async fn first_token(url: &str) -> String {
    use mcp_runtime::client::auth::TokenStore as _;
    let store = Arc::new(mcp_runtime::client::auth::MemoryTokenStore::new());
    let oauth = OAuth::new(url, oauth_config(store.clone(), Arc::default())).expect("oauth");
    let client = Client::builder(url)
        .auth(oauth)
        .listen(false)
        .connect()
        .await
        .expect("signs in");
    client.close().await;
    store
        .load_tokens(url)
        .expect("load")
        .expect("tokens")
        .access_token
}
