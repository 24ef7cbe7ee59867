//! Bearer auth beyond the MCP endpoint: the user's own routes taking `Auth` or sitting behind
//! bearer auth, and CORS for browser clients from accepted origins only.

use mcp_runtime::McpServer;
use mcp_runtime::actix_web::{HttpResponse, web};
use mcp_runtime::auth::{Auth, ScopeRefusal};
use mcp_runtime::prelude::*;
use reqwest::Method;
use serde_json::Value;

use crate::auth::*;
use crate::common::*;

async fn me(auth: Auth) -> HttpResponse {
    HttpResponse::Ok().body(auth.user.user_id.clone())
}

async fn purge(auth: Auth) -> Result<HttpResponse, mcp_runtime::auth::ScopeError> {
    auth.require_scope(&["admin"])?;
    Ok(HttpResponse::Ok().body("purged"))
}

async fn open() -> HttpResponse {
    HttpResponse::Ok().body("open")
}

#[tokio::test]
async fn custom_routes_take_auth_or_sit_behind_bearer_auth() {
    use mcp_runtime::actix_web::middleware::from_fn;
    use mcp_runtime::auth::routes::bearer_auth;

    let issuer = Issuer::start(&["k1"]);
    let oauth = issuer.oauth();
    let server = start(
        McpServer::builder()
            .oauth(oauth)
            .tools(tools![get_user_info])
            .routes(|cfg| {
                cfg.route("/me", web::get().to(me));
                cfg.route("/open", web::get().to(open));
                cfg.service(
                    web::scope("/api")
                        .wrap(from_fn(bearer_auth))
                        .route("/purge", web::post().to(purge))
                        .route("/open", web::get().to(open)),
                );
            }),
    );
    let base = format!("http://{}", server.addr());
    let user = sign("k1", "k1", &claims(&server.url(), "openid"));
    let admin = sign("k1", "k1", &claims(&server.url(), "openid admin"));

    let get = |path: &str, token: Option<&str>| {
        let mut rb = http().get(format!("{base}{path}"));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb.send()
    };
    // A route without Auth stays open.
    assert_eq!(get("/open", None).await.expect("open").status(), 200);
    // Auth as an extractor.
    let r = get("/me", None).await.expect("me");
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.starts_with(&format!(
            r#"Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp""#
        )),
        "{challenge}"
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "unauthorized");
    let r = get("/me", Some("not-a-jwt")).await.expect("me");
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains(r#"error="invalid_token""#)
    );
    let r = get("/me", Some(&user)).await.expect("me");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "user-1");

    // The middleware guards the whole scope, even routes without Auth.
    assert_eq!(get("/api/open", None).await.expect("api").status(), 401);
    assert_eq!(
        get("/api/open", Some(&user)).await.expect("api").status(),
        200
    );
    let post = |token: &str| {
        http()
            .post(format!("{base}/api/purge"))
            .bearer_auth(token)
            .send()
    };
    let r = post(&user).await.expect("purge");
    assert_eq!(r.status(), 403);
    // The same challenge builder as the MCP endpoint's: the metadata URL, an escaped
    // description and the scope to step up to.
    assert_eq!(
        r.headers()["www-authenticate"],
        format!(
            r#"Bearer resource_metadata="{}", error="insufficient_scope", error_description="missing required scope: admin", scope="admin""#,
            mcp_runtime::auth::metadata::ResourceMetadata::well_known_url(&server.url())
        )
        .as_str()
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "insufficient_scope");
    let r = post(&admin).await.expect("purge");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "purged");
    server.stop().await;
}

#[tokio::test]
async fn browser_clients_get_cors_for_accepted_origins_only() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let pre = http()
        .request(Method::OPTIONS, server.url())
        .header("origin", "http://localhost:6274")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-protocol-version",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(pre.status(), 204);
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:6274");
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .expect("ascii")
            .contains("mcp-session-id")
    );
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .expect("ascii")
            .contains("POST")
    );

    let r = http()
        .post(server.url())
        .header("origin", "http://localhost:6274")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(init_body(V_LATEST).to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:6274"
    );
    assert!(
        r.headers()["access-control-expose-headers"]
            .to_str()
            .expect("ascii")
            .contains("WWW-Authenticate"),
        "browser clients can read the challenge"
    );

    // An origin the endpoint refuses gets no CORS headers (and a 403).
    let r = http()
        .post(server.url())
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .body(init_body(V_LATEST).to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    server.stop().await;
}
