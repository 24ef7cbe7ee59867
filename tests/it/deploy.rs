//! Deployment: the public URL (`public_url` / `MCP_URL`) behind a TLS-terminating proxy, the
//! refusal to bind a public address without it, and mounting into a user's own actix-web app.

use mcp_runtime::McpServer;
use mcp_runtime::actix_web::{App, HttpResponse, HttpServer, web};
use mcp_runtime::auth::{Auth, OAuth};
use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use serde_json::{Value, json};

use crate::auth::{Issuer, now, sign};
use crate::common::*;
use crate::devserver::{code_for_resource, exchange, pkce, public_client};

const ISS: &str = "https://issuer.test";
const PUBLIC: &str = "https://mcp.example.com/mcp";

/// Who is calling.
#[mcp_tool(name = "whoami", read_only)]
async fn whoami(auth: Auth) -> String {
    auth.user.user_id.clone()
}

/// Echoes its input (on the server without OAuth).
#[mcp_tool(name = "echo-b")]
async fn echo_b(text: String) -> String {
    text
}

fn token_for(aud: &str) -> String {
    sign(
        "k1",
        "k1",
        &json!({"iss": ISS, "sub": "user-1", "aud": aud, "iat": now(), "exp": now() + 600,
                "scope": "openid"}),
    )
}

fn behind_proxy(issuer: &Issuer) -> mcp_runtime::McpServerBuilder {
    McpServer::builder()
        .public_url(PUBLIC)
        .oauth(issuer.oauth())
        .tools(tools![whoami])
}

#[tokio::test]
async fn the_public_url_is_the_resource_and_nothing_comes_from_the_host_header() {
    let issuer = Issuer::start(&["k1"]);
    let server = start(behind_proxy(&issuer));
    let local = server.url();

    // The discovery document names the public URL, whatever Host the proxy forwards.
    let r = http()
        .get(format!(
            "http://{}/.well-known/oauth-protected-resource/mcp",
            server.addr()
        ))
        .header("host", "mcp.example.com")
        .send()
        .await
        .expect("prm");
    assert_eq!(r.status(), 200);
    let prm: Value = r.json().await.expect("json");
    assert_eq!(prm["resource"], PUBLIC);
    assert_eq!(prm["authorization_servers"], json!([ISS]));

    // The challenge points at the public metadata URL, even for a client using 127.0.0.1.
    let r = Client::new(&server).post_raw(&init_body(V_LATEST)).await;
    assert_eq!(r.status, 401, "{r:?}");
    let challenge = r.headers["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.contains(
            r#"resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#
        ),
        "{challenge}"
    );

    // Tokens must be issued for the public URL: one for the local address is refused.
    let mut c = Client::new(&server);
    c.bearer = Some(token_for(&local));
    let r = c.post_raw(&init_body(V_LATEST)).await;
    assert_eq!(r.status, 401, "{r:?}");
    assert!(
        r.body.contains(
            "not for this server: `aud` (or `resource`) must be https://mcp.example.com/mcp"
        ),
        "{}",
        r.body
    );

    // The public host is accepted in Host (as a proxy forwards it), and the token for the
    // public URL opens the endpoint.
    let token = token_for(PUBLIC);
    let r = Client::send(
        Client::new(&server)
            .request(reqwest::Method::POST)
            .header("host", "mcp.example.com")
            .header("origin", "https://mcp.example.com")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(init_body(V_LATEST).to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let c = Client::connect_as(&server, V_LATEST, Some(token)).await;
    assert_eq!(text(&c.call("whoami", json!({})).await), "user-1");

    // Any other Host is refused (DNS-rebinding protection), naming the fix.
    let r = Client::send(
        Client::new(&server)
            .request(reqwest::Method::POST)
            .header("host", "evil.example")
            .header("content-type", "application/json")
            .body(init_body(V_LATEST).to_string()),
    )
    .await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .starts_with("Host `evil.example` is not allowed"),
        "{}",
        r.body
    );
    server.stop().await;
}

#[tokio::test]
async fn a_public_address_needs_the_public_url() {
    let plain = || {
        McpServer::builder()
            .tools(tools![echo_b])
            .build()
            .expect("builds")
    };
    let e = plain().start("0.0.0.0:0").expect_err("no public URL");
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("set MCP_URL"), "{e}");
    assert!(e.to_string().contains("is not a loopback address"), "{e}");

    let server = McpServer::builder()
        .tools(tools![echo_b])
        .public_url("https://mcp.example.com/mcp")
        .workers(1)
        .build()
        .expect("builds")
        .start("0.0.0.0:0")
        .expect("a public URL allows a public bind");
    // Loopback callers still reach it; the endpoint path comes from the public URL.
    let url = format!("http://127.0.0.1:{}/mcp", server.addr().port());
    let mut c = Client::new_raw();
    c.url = url;
    let c = c.connect_raw(V_LATEST).await;
    assert_eq!(text(&c.call("echo-b", json!({"text": "hi"})).await), "hi");
    server.stop().await;
}

#[test]
fn malformed_public_urls_are_refused_naming_the_setting() {
    let cases = [
        (
            "http://localhost:80@evil.example/mcp",
            "has user info before `@`; the host would be `evil.example`",
        ),
        (
            "http://mcp.example.com/mcp",
            "uses plain HTTP on a non-loopback host",
        ),
        ("https://mcp.example.com/mcp?tenant=a", "has a query string"),
        ("https://mcp.example.com/mcp#x", "has a fragment"),
        ("mcp.example.com/mcp", "is not an absolute URL"),
        ("ftp://mcp.example.com/mcp", "has scheme `ftp`"),
    ];
    for (url, why) in cases {
        let e = McpServer::builder()
            .public_url(url)
            .build()
            .expect_err(url)
            .to_string();
        assert!(e.contains("public_url is invalid"), "{url}: {e}");
        assert!(e.contains(why), "{url}: {e}");
    }
    // Loopback http is fine for development.
    assert!(
        McpServer::builder()
            .public_url("http://127.0.0.1:8080/mcp")
            .build()
            .is_ok()
    );
    // One resource: a different OAuth::resource is a contradiction.
    let oauth = OAuth::new(
        mcp_runtime::auth::verifier::JwtVerifier::hs256(b"0123456789abcdef0123456789abcdef")
            .issuer(ISS),
        ISS,
    )
    .resource("https://other.example.com/mcp");
    let e = McpServer::builder()
        .public_url(PUBLIC)
        .oauth(oauth)
        .build()
        .expect_err("two resources")
        .to_string();
    assert!(
        e.contains("differs from the public URL `https://mcp.example.com/mcp`"),
        "{e}"
    );
}

/// Mounted into a user's app: their routes, the dev server, an endpoint inside a scope, and a
/// second MCP service that keeps its own state.
#[tokio::test]
async fn mounted_in_a_users_app_beside_their_routes() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let public = format!("{base}/api/mcp");
    let with_oauth = McpServer::builder()
        .name("a")
        .path("/mcp")
        .public_url(&public)
        .oauth(
            DevProvider::new()
                .auto_approve(true)
                .into_oauth()
                .expect("dev"),
        )
        .tools(tools![whoami])
        .build()
        .expect("a builds");
    let open = McpServer::builder()
        .name("b")
        .path("/other/mcp")
        .tools(tools![echo_b])
        .build()
        .expect("b builds");
    let server = HttpServer::new(move || {
        let (a, b) = (with_oauth.clone(), open.clone());
        App::new()
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .configure(|cfg| a.configure_discovery(cfg))
            .service(web::scope("/api").configure(|cfg| a.configure_endpoint(cfg)))
            .configure(|cfg| b.configure(cfg))
    })
    .workers(1)
    .disable_signals()
    .h1_allow_half_closed(false)
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);

    // The user's own route.
    let r = http()
        .get(format!("{base}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "ok");

    // Discovery at the root, for the endpoint inside the scope.
    let (status, prm) = get_json(format!(
        "{base}/.well-known/oauth-protected-resource/api/mcp"
    ))
    .await;
    assert_eq!(status, 200, "{prm}");
    assert_eq!(prm["resource"], public);
    assert_eq!(prm["authorization_servers"], json!([base]));
    let (status, asm) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, 200, "{asm}");
    assert_eq!(asm["issuer"], base);
    assert_eq!(asm["token_endpoint"], format!("{base}/oauth/token"));

    // Unauthenticated: 401 pointing at the scoped endpoint's metadata.
    let mut a = Client::new_raw();
    a.url = public.clone();
    let r = a.post_raw(&init_body(V_LATEST)).await;
    assert_eq!(r.status, 401, "{r:?}");
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains(&format!(
                "resource_metadata=\"{base}/.well-known/oauth-protected-resource/api/mcp\""
            ))
    );

    // A whole sign-in with the embedded server, then a call through the scoped endpoint.
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();
    let code = code_for_resource(&base, &public, &client_id, &challenge, "openid").await;
    let tokens = exchange(&base, &client_id, &code, &verifier).await;
    a.bearer = Some(tokens["access_token"].as_str().expect("token").to_owned());
    let a = a.connect_raw(V_LATEST).await;
    assert_eq!(text(&a.call("whoami", json!({})).await), "dev-user");

    // The second service has its own tools and no OAuth.
    let mut b = Client::new_raw();
    b.url = format!("{base}/other/mcp");
    let b = b.connect_raw(V_LATEST).await;
    let tools = b.rpc(1, "tools/list", json!({})).await;
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["echo-b"]);
    assert_eq!(text(&b.call("echo-b", json!({"text": "x"})).await), "x");
    // And a's session is unknown to b.
    let mut stray = Client::new_raw();
    stray.url = format!("{base}/other/mcp");
    stray.session = a.session.clone();
    let r = stray
        .post_raw(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}))
        .await;
    assert_eq!(r.status, 404, "{r:?}");
    handle.stop(true).await;
}

/// The health route answers probes that reach a pod by its address: no token, a foreign
/// `Host`, `GET` or `HEAD`; it moves or goes away by setting, and cannot hide the endpoint.
#[tokio::test]
async fn the_health_route_answers_probes_without_a_token_or_a_known_host() {
    let issuer = Issuer::start(&["k1"]);
    let server = start(behind_proxy(&issuer));
    let health = format!("http://{}/healthz", server.addr());
    let r = http()
        .get(&health)
        .header("host", "10.1.2.3:8080")
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.expect("body"), r#"{"status":"ok"}"#);
    let r = http().head(&health).send().await.expect("head");
    assert_eq!(r.status(), 200);
    // The endpoint itself still wants a token and a known host.
    let r = http()
        .post(server.url())
        .header("host", "10.1.2.3:8080")
        .json(&init_body(V_LATEST))
        .send()
        .await
        .expect("endpoint");
    assert_eq!(r.status(), 403);
    server.stop().await;

    let moved = start(
        McpServer::builder()
            .tools(tools![echo_b])
            .health_path("/ready"),
    );
    let status = |path: &str| {
        let url = format!("http://{}{path}", moved.addr());
        async move { http().get(url).send().await.expect("get").status().as_u16() }
    };
    assert_eq!(
        (status("/ready").await, status("/healthz").await),
        (200, 404)
    );
    moved.stop().await;

    let none = start(McpServer::builder().tools(tools![echo_b]).no_health_route());
    let r = http()
        .get(format!("http://{}/healthz", none.addr()))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    none.stop().await;

    let err = McpServer::builder()
        .tools(tools![echo_b])
        .health_path("/mcp")
        .build()
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("the health route's path `/mcp` is the MCP endpoint's"),
        "{err}"
    );
    let err = McpServer::builder()
        .health_path("healthz")
        .build()
        .expect_err("refused")
        .to_string();
    assert!(err.contains("must start with `/`"), "{err}");
}
