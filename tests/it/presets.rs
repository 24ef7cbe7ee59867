//! The identity-provider presets against a local fixture that serves each provider's URL layout
//! (discovery documents, JWKS) on 127.0.0.1, with tokens shaped like the provider's: issuer and
//! audience rules, the claim mapping into `Auth`, the relayed metadata and a scope-guarded call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_runtime::RunningServer;
use mcp_runtime::actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use mcp_runtime::auth::{Auth, OAuth};
use mcp_runtime::prelude::*;
use mcp_runtime::providers::*;
use serde_json::{Value, json};

use crate::auth::{now, sign};
use crate::common::*;

/// The caller, as the tools see it.
#[mcp_tool(name = "get-user-info", read_only)]
async fn get_user_info(auth: Auth) -> Json<Value> {
    Json(json!({
        "userId": auth.user.user_id,
        "email": auth.user.email,
        "name": auth.user.name,
        "username": auth.user.username,
        "picture": auth.user.picture,
        "roles": auth.user.roles,
        "userPermissions": auth.user.permissions,
        "permissions": auth.permissions,
        "organizationId": auth.user.organization_id,
        "scopes": auth.scopes,
    }))
}

/// Admins only.
#[mcp_tool(name = "admin-action", scopes = "admin")]
async fn admin_action(auth: Auth) -> String {
    format!("admin {}", auth.user.user_id)
}

/// A provider's URL layout on 127.0.0.1: every path ending in a JWKS name serves the key set,
/// every discovery path a metadata document naming the path it was served at.
pub(crate) struct Fixture {
    pub(crate) base: String,
    metadata_fetches: Arc<AtomicUsize>,
    userinfo_fetches: Arc<AtomicUsize>,
    _handle: actix_web::dev::ServerHandle,
}

impl Fixture {
    pub(crate) fn start() -> Fixture {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let fetches = Arc::new(AtomicUsize::new(0));
        let userinfo = Arc::new(AtomicUsize::new(0));
        let (b, f, u) = (base.clone(), fetches.clone(), userinfo.clone());
        let server = HttpServer::new(move || {
            let (b, f, u) = (b.clone(), f.clone(), u.clone());
            App::new().default_service(web::to(move |req: HttpRequest| {
                let (b, f, u) = (b.clone(), f.clone(), u.clone());
                async move { serve(&req, &b, &f, &u) }
            }))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Fixture {
            base,
            metadata_fetches: fetches,
            userinfo_fetches: userinfo,
            _handle: handle,
        }
    }
}

fn serve(
    req: &HttpRequest,
    base: &str,
    fetches: &AtomicUsize,
    userinfo: &AtomicUsize,
) -> HttpResponse {
    let path = req.path();
    if path.ends_with("userinfo") {
        // Answers for the bearer token's subject (read, not verified: this is the provider).
        userinfo.fetch_add(1, Ordering::Relaxed);
        use base64::Engine as _;
        let sub = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|t| t.split('.').nth(1))
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|c| c["sub"].as_str().map(str::to_owned));
        return match sub {
            Some(sub) => HttpResponse::Ok().json(
                json!({"sub": sub, "email": "from-userinfo@example.com", "name": "From Userinfo"}),
            ),
            None => HttpResponse::Unauthorized().finish(),
        };
    }
    let jwks = ["/jwks.json", "/oauth2/jwks", "/certs", "/jwks"];
    if jwks.iter().any(|j| path.ends_with(j)) {
        let all: Value =
            serde_json::from_str(include_str!("keys/jwks.json")).expect("jwks fixture");
        return HttpResponse::Ok().json(json!({"keys": [all["k1"].clone()]}));
    }
    if path.contains("/.well-known/openid-configuration")
        || path.contains("/.well-known/oauth-authorization-server")
    {
        fetches.fetch_add(1, Ordering::Relaxed);
        return HttpResponse::Ok().json(json!({
            "issuer": format!("{base}{path}"),
            "served_at": path,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "registration_endpoint": format!("{base}/register"),
            "code_challenge_methods_supported": ["S256"],
        }));
    }
    HttpResponse::NotFound().finish()
}

fn serve_with(oauth: OAuth) -> RunningServer {
    start(
        McpServer::builder()
            .oauth(oauth)
            .tools(tools![get_user_info, admin_action]),
    )
}

fn token(claims: Value) -> String {
    let mut c = claims;
    c["exp"] = json!(now() + 600);
    c["iat"] = json!(now());
    sign("k1", "k1", &c)
}

async fn user(server: &RunningServer, token: String) -> (Value, Value) {
    let c = Client::connect_as(server, V_LATEST, Some(token)).await;
    let who = c.call("get-user-info", json!({})).await["result"]["structuredContent"].clone();
    // 200 with the result, or 403 with the JSON-RPC error.
    let admin = c
        .post_raw(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                          "params": {"name": "admin-action", "arguments": {}}}))
        .await
        .json();
    (who, admin)
}

async fn refused(server: &RunningServer, token: &str) -> (u16, String) {
    let r = Client::send(
        Client::new(server)
            .request(reqwest::Method::POST)
            .bearer_auth(token)
            .json(&init_body(V_LATEST)),
    )
    .await;
    (
        r.status,
        r.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn auth0_checks_the_api_audience_and_maps_permissions_and_roles() {
    let fx = Fixture::start();
    let oauth = Auth0Provider::new(fx.base.clone(), "https://api.example.com")
        .roles_claim("https://example.com/roles")
        .into_oauth(http())
        .expect("auth0");
    let server = serve_with(oauth);
    let iss = format!("{}/", fx.base);
    let good = token(json!({
        "iss": iss, "sub": "auth0|42", "aud": ["https://api.example.com", format!("{}userinfo", iss)],
        "scope": "openid profile", "permissions": ["admin", "read:reports"],
        "https://example.com/roles": ["editor"], "email": "ada@example.com", "nickname": "ada"
    }));
    let (who, admin) = user(&server, good).await;
    assert_eq!(who["userId"], "auth0|42");
    assert_eq!(who["roles"], json!(["editor"]));
    assert_eq!(who["permissions"], json!(["admin", "read:reports"]));
    assert_eq!(who["userPermissions"], json!(["admin", "read:reports"]));
    assert_eq!(who["username"], "ada");
    assert_eq!(
        text(&admin),
        "admin auth0|42",
        "the `admin` permission opens the tool"
    );

    // Another API's token; no trailing slash on the issuer; an opaque token.
    let other = token(json!({"iss": iss, "sub": "x", "aud": "https://other.example.com"}));
    assert_eq!(
        refused(&server, &other).await,
        (
            401,
            "the token is not for this server: `aud` must be https://api.example.com".into()
        )
    );
    let no_slash = token(json!({"iss": fx.base, "sub": "x", "aud": "https://api.example.com"}));
    assert!(
        refused(&server, &no_slash)
            .await
            .1
            .contains("another issuer")
    );
    let (status, msg) = refused(&server, "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..abc..def").await;
    assert_eq!(status, 401);
    assert!(
        msg.contains("request tokens with audience=https://api.example.com"),
        "{msg}"
    );

    // Discovery: the metadata names Auth0; its document is relayed (fetched once, cached).
    let (_, prm) = get_json(format!(
        "http://{}/.well-known/oauth-protected-resource/mcp",
        server.addr()
    ))
    .await;
    assert_eq!(prm["authorization_servers"], json!([iss]));
    assert_eq!(prm["resource"], server.url());
    for _ in 0..2 {
        let (status, m) = get_json(format!(
            "http://{}/.well-known/oauth-authorization-server",
            server.addr()
        ))
        .await;
        assert_eq!(status, 200);
        assert_eq!(m["served_at"], "/.well-known/oauth-authorization-server");
    }
    assert_eq!(
        fx.metadata_fetches.load(Ordering::Relaxed),
        1,
        "cached, not fetched per request"
    );
}

#[tokio::test]
async fn workos_binds_tokens_to_this_server_and_maps_the_organization() {
    let fx = Fixture::start();
    let oauth = WorkOsProvider::new(fx.base.clone())
        .into_oauth(http())
        .expect("workos");
    let server = serve_with(oauth);
    let good = token(json!({
        "iss": fx.base, "sub": "user_01", "aud": server.url(), "org_id": "org_7",
        "role": "member", "permissions": ["admin"], "email": "ada@example.com"
    }));
    let (who, admin) = user(&server, good).await;
    assert_eq!(who["organizationId"], "org_7");
    assert_eq!(who["roles"], json!(["member"]));
    assert_eq!(text(&admin), "admin user_01");
    let unbound = token(json!({"iss": fx.base, "sub": "user_01", "aud": "client_123"}));
    let (status, msg) = refused(&server, &unbound).await;
    assert_eq!(status, 401);
    assert!(msg.starts_with("the token is not for this server"), "{msg}");
    // Direct mode: AuthKit's own metadata, relayed (clients register there).
    let (_, m) = get_json(format!(
        "http://{}/.well-known/oauth-authorization-server",
        server.addr()
    ))
    .await;
    assert_eq!(m["token_endpoint"], format!("{}/token", fx.base));
    assert_eq!(
        m["registration_endpoint"],
        format!("{}/register", fx.base),
        "{m}"
    );
    let (_, prm) = get_json(format!(
        "http://{}/.well-known/oauth-protected-resource",
        server.addr()
    ))
    .await;
    assert_eq!(
        prm["scopes_supported"],
        json!(["email", "offline_access", "openid", "profile", "admin"])
    );
}

#[tokio::test]
async fn supabase_accepts_its_audience_jwks_keys_and_the_legacy_secret_only_when_given() {
    let fx = Fixture::start();
    let issuer = format!("{}/auth/v1", fx.base);
    let claims = json!({
        "iss": issuer, "sub": "5f1e", "aud": "authenticated", "role": "authenticated", "aal": "aal1",
        "email": "ada@example.com",
        "user_metadata": {"full_name": "Ada Lovelace", "avatar_url": "https://img.example/ada.png"}
    });
    let hs = {
        let mut c = claims.clone();
        c["exp"] = json!(now() + 600);
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &c,
            &jsonwebtoken::EncodingKey::from_secret(b"legacy-secret"),
        )
        .expect("hs256")
    };

    let p = SupabaseProvider {
        url: Some(fx.base.clone()),
        ..Default::default()
    };
    let server = serve_with(p.clone().into_oauth(http()).expect("supabase"));
    let (who, admin) = user(&server, token(claims.clone())).await;
    assert_eq!(who["name"], "Ada Lovelace");
    assert_eq!(who["picture"], "https://img.example/ada.png");
    assert_eq!(who["roles"], json!(["authenticated"]));
    assert_eq!(
        admin["error"]["message"], "tool `admin-action`: missing required scope: admin",
        "no admin scope or permission: 403"
    );
    let (status, msg) = refused(&server, &hs).await;
    assert_eq!(status, 401);
    assert!(
        msg.contains("HS256"),
        "without the secret, HS256 is refused: {msg}"
    );
    let wrong_aud = token(json!({"iss": issuer, "sub": "x", "aud": "anon"}));
    assert!(
        refused(&server, &wrong_aud)
            .await
            .1
            .contains("`aud` must be authenticated")
    );

    let server = serve_with(
        p.jwt_secret("legacy-secret")
            .into_oauth(http())
            .expect("supabase"),
    );
    let c = Client::connect_as(&server, V_LATEST, Some(hs)).await;
    assert_eq!(
        c.call("get-user-info", json!({})).await["result"]["structuredContent"]["userId"],
        "5f1e"
    );
    // The issuer has a path: the path-inserted RFC 8414 form is relayed.
    let (status, m) = get_json(format!(
        "http://{}/.well-known/oauth-authorization-server/auth/v1",
        server.addr()
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        m["served_at"],
        "/.well-known/oauth-authorization-server/auth/v1"
    );
}

#[tokio::test]
async fn keycloak_reads_realm_and_client_roles() {
    let fx = Fixture::start();
    let oauth = KeycloakProvider::new(fx.base.clone(), "mcp")
        .client_id("mcp-server")
        .into_oauth(http())
        .expect("keycloak");
    let server = serve_with(oauth);
    let issuer = format!("{}/realms/mcp", fx.base);
    let good = token(json!({
        "iss": issuer, "sub": "f:1", "aud": [server.url(), "account"], "preferred_username": "ada",
        "realm_access": {"roles": ["offline_access", "user"]},
        "resource_access": {"mcp-server": {"roles": ["admin"]}, "account": {"roles": ["view-profile"]}},
        "scope": "openid email"
    }));
    let (who, admin) = user(&server, good).await;
    assert_eq!(who["username"], "ada");
    assert_eq!(who["roles"], json!(["offline_access", "user", "admin"]));
    assert_eq!(
        who["permissions"],
        json!(["admin"]),
        "client roles are permissions too"
    );
    assert_eq!(text(&admin), "admin f:1");
    let other_realm =
        token(json!({"iss": format!("{}/realms/other", fx.base), "sub": "x", "aud": server.url()}));
    assert!(
        refused(&server, &other_realm)
            .await
            .1
            .contains("another issuer")
    );
    for (path, upstream) in [
        (
            "/.well-known/openid-configuration/realms/mcp",
            "/realms/mcp/.well-known/openid-configuration",
        ),
        (
            "/realms/mcp/.well-known/openid-configuration",
            "/realms/mcp/.well-known/openid-configuration",
        ),
        (
            "/.well-known/oauth-authorization-server/realms/mcp",
            "/.well-known/oauth-authorization-server/realms/mcp",
        ),
    ] {
        let (status, m) = get_json(format!("http://{}{path}", server.addr())).await;
        assert_eq!(
            (status, m["served_at"].as_str()),
            (200, Some(upstream)),
            "{path}"
        );
    }
}

#[tokio::test]
async fn clerk_maps_organization_claims_of_both_token_versions() {
    let fx = Fixture::start();
    let server = serve_with(
        ClerkProvider::new(fx.base.clone())
            .into_oauth(http())
            .expect("clerk"),
    );
    let v1 = token(json!({
        "iss": fx.base, "sub": "user_2a", "aud": server.url(), "org_id": "org_1",
        "org_role": "org:admin", "org_permissions": ["admin", "org:billing:read"]
    }));
    let (who, admin) = user(&server, v1).await;
    assert_eq!(who["organizationId"], "org_1");
    assert_eq!(who["roles"], json!(["org:admin"]));
    assert_eq!(who["permissions"], json!(["admin", "org:billing:read"]));
    assert_eq!(text(&admin), "admin user_2a");
    let v2 = token(json!({
        "iss": fx.base, "sub": "user_2b", "aud": server.url(), "v": 2,
        "o": {"id": "org_2", "rol": "member", "per": "read,write"}
    }));
    let (who, admin) = user(&server, v2).await;
    assert_eq!(who["organizationId"], "org_2");
    assert_eq!(who["roles"], json!(["member"]));
    assert_eq!(who["permissions"], json!(["read", "write"]));
    assert_eq!(
        admin["error"]["message"],
        "tool `admin-action`: missing required scope: admin"
    );
    let unbound =
        token(json!({"iss": fx.base, "sub": "user_2c", "aud": "https://elsewhere.example"}));
    assert!(
        refused(&server, &unbound)
            .await
            .1
            .starts_with("the token is not for this server")
    );
    let (status, m) = get_json(format!(
        "http://{}/.well-known/openid-configuration",
        server.addr()
    ))
    .await;
    assert_eq!(
        (status, m["served_at"].as_str()),
        (200, Some("/.well-known/openid-configuration"))
    );
}

#[tokio::test]
async fn better_auth_uses_its_jwks_path() {
    let fx = Fixture::start();
    let url = format!("{}/api/auth", fx.base);
    let server = serve_with(
        BetterAuthProvider::new(url.clone())
            .into_oauth(http())
            .expect("better auth"),
    );
    let good = token(json!({
        "iss": url, "sub": "u1", "aud": server.url(), "email": "ada@example.com", "name": "Ada",
        "roles": ["owner"], "permissions": ["admin"]
    }));
    let (who, admin) = user(&server, good).await;
    assert_eq!(
        (who["name"].as_str(), who["roles"].clone()),
        (Some("Ada"), json!(["owner"]))
    );
    assert_eq!(text(&admin), "admin u1");
    let unbound = token(json!({"iss": url, "sub": "u1", "aud": "https://elsewhere.example"}));
    assert!(
        refused(&server, &unbound)
            .await
            .1
            .starts_with("the token is not for this server")
    );
    // The issuer has a path (/api/auth): the path-inserted forms are relayed.
    let (status, m) = get_json(format!(
        "http://{}/.well-known/oauth-authorization-server/api/auth",
        server.addr()
    ))
    .await;
    assert_eq!(
        (status, m["served_at"].as_str()),
        (
            200,
            Some("/.well-known/oauth-authorization-server/api/auth")
        )
    );
    let (status, m) = get_json(format!(
        "http://{}/api/auth/.well-known/openid-configuration",
        server.addr()
    ))
    .await;
    assert_eq!(
        (status, m["served_at"].as_str()),
        (200, Some("/api/auth/.well-known/openid-configuration"))
    );
}

#[tokio::test]
async fn an_unreachable_provider_gives_502_metadata_and_503_tokens_and_the_server_still_starts() {
    // A port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let server = serve_with(
        KeycloakProvider::new(dead.clone(), "mcp")
            .into_oauth(http())
            .expect("keycloak"),
    );
    let (status, m) = get_json(format!(
        "http://{}/.well-known/openid-configuration",
        server.addr()
    ))
    .await;
    assert_eq!(status, 502);
    assert_eq!(m["error"], "bad_gateway");
    assert!(
        m["error_description"]
            .as_str()
            .expect("text")
            .contains("could not be fetched")
    );
    let t = token(json!({"iss": format!("{dead}/realms/mcp"), "sub": "x", "aud": server.url()}));
    let (status, msg) = refused(&server, &t).await;
    assert_eq!(status, 503, "{msg}");
    assert!(msg.contains("could not be fetched"), "{msg}");
}

#[tokio::test]
async fn userinfo_fills_a_missing_email_once_per_subject() {
    let fx = Fixture::start();
    let server = serve_with(
        Auth0Provider::new(fx.base.clone(), "https://api.example.com")
            .into_oauth(http())
            .expect("auth0"),
    );
    let iss = format!("{}/", fx.base);
    // Auth0 access tokens carry no email or name.
    for n in 0..2 {
        let t = token(
            json!({"iss": iss, "sub": "auth0|7", "aud": "https://api.example.com", "jti": n}),
        );
        let (who, _) = user(&server, t).await;
        assert_eq!(who["email"], "from-userinfo@example.com");
        assert_eq!(who["name"], "From Userinfo");
    }
    assert_eq!(
        fx.userinfo_fetches.load(Ordering::Relaxed),
        1,
        "cached per subject"
    );
    // A token that has them is not enriched.
    let t = token(
        json!({"iss": iss, "sub": "auth0|8", "aud": "https://api.example.com",
                         "email": "own@example.com", "name": "Own"}),
    );
    let (who, _) = user(&server, t).await;
    assert_eq!(who["email"], "own@example.com");
    assert_eq!(fx.userinfo_fetches.load(Ordering::Relaxed), 1);
}

#[test]
fn the_macro_and_the_runtime_know_the_same_presets() {
    // The proc-macro crate cannot depend on the runtime, so it keeps its own list; the trybuild
    // case pins the macro's message, and this pins that message to the runtime's list.
    let stderr = include_str!("../../trybuild/ui/mcp_server/fail/unknown_oauth_preset.stderr");
    let listed = format!("known presets: {}\n", PRESETS.join(", "));
    assert!(stderr.contains(&listed), "{listed:?} not in:\n{stderr}");
}
