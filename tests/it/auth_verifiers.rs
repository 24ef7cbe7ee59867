//! The resource server's other verifiers, each against a real server: HS256 shared secrets,
//! custom verifiers, opaque tokens by RFC 7662 introspection at a local issuer, and unverified
//! JWTs as a development switch.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::McpServer;
use mcp_runtime::RunningServer;
use mcp_runtime::auth::OAuth;
use mcp_runtime::auth::verifier::JwtVerifier;
use mcp_runtime::prelude::*;
use serde_json::json;

use crate::auth::*;
use crate::common::*;

/// A server with `verifier` and no JWKS, for the other verifiers.
fn server_with(
    verifier: impl mcp_runtime::auth::TokenVerifier,
    resource: Option<&str>,
) -> RunningServer {
    let mut oauth = OAuth::new(verifier, ISS);
    if let Some(r) = resource {
        oauth = oauth.resource(r);
    }
    start(
        McpServer::builder()
            .oauth(oauth)
            .tools(tools![get_user_info, admin_action]),
    )
}

#[tokio::test]
async fn hs256_shared_secrets() {
    let server = server_with(JwtVerifier::hs256("s3cret").issuer(ISS), None);
    let hs = |secret: &str| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(&server.url(), "openid admin"),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("hs256")
    };
    let c = Client::connect_as(&server, V_LATEST, Some(hs("s3cret"))).await;
    assert_eq!(
        text(&c.call("admin-action", json!({"cmd": "x"})).await),
        "ran x"
    );
    assert_eq!(
        status_and_reason(&server, &hs("guess")).await,
        (401, "the token's signature is invalid".into())
    );
    let rs = sign("k1", "k1", &claims(&server.url(), "openid"));
    let (status, reason) = status_and_reason(&server, &rs).await;
    assert_eq!(status, 401);
    assert!(
        reason.starts_with("the token is signed with RS256, which this server does not accept"),
        "{reason}"
    );
    server.stop().await;
}

#[tokio::test]
async fn custom_verifiers_decide_and_explain() {
    let verifier = mcp_runtime::auth::verifier::CustomVerifier::new(|token: String| async move {
        if token == "let-me-in" {
            Ok(
                json!({"sub": "custom-user", "scope": "openid", "email": "c@example.com"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            )
        } else {
            Err(format!("unknown token ({} bytes)", token.len()))
        }
    });
    let server = server_with(verifier, None);
    let c = Client::connect_as(&server, V_LATEST, Some("let-me-in".into())).await;
    let who = c.call("get-user-info", json!({})).await;
    assert_eq!(who["result"]["structuredContent"]["userId"], "custom-user");
    assert_eq!(who["result"]["structuredContent"]["email"], "c@example.com");
    assert_eq!(
        status_and_reason(&server, "nope").await,
        (401, "unknown token (4 bytes)".into())
    );
    server.stop().await;
}

#[tokio::test]
async fn opaque_tokens_by_introspection() {
    use mcp_runtime::auth::verifier::{IntrospectionVerifier, Secret};
    let issuer = Issuer::start(&["k1"]);
    let endpoint = format!("{}/introspect", issuer.url);
    let server = server_with(
        IntrospectionVerifier::new(endpoint.clone(), "rs", Secret::new("pw"), http()),
        Some("https://rs.test/mcp"),
    );
    let c = Client::connect_as(&server, V_LATEST, Some("live-token".into())).await;
    assert_eq!(
        c.call("get-user-info", json!({})).await["result"]["structuredContent"]["userId"],
        "opaque-user"
    );
    assert_eq!(
        text(&c.call("admin-action", json!({"cmd": "y"})).await),
        "ran y"
    );
    assert_eq!(
        status_and_reason(&server, "revoked-token").await,
        (
            401,
            "the token is not active (revoked, expired or unknown)".into()
        )
    );
    assert_eq!(
        status_and_reason(&server, "other-aud-token").await,
        (
            401,
            "the token is not for this server: `aud` must include https://rs.test/mcp".into()
        )
    );
    server.stop().await;

    // Wrong client credentials at the introspection endpoint: the server cannot verify (503).
    let server = server_with(
        IntrospectionVerifier::new(endpoint.clone(), "rs", Secret::new("wrong"), http()),
        Some("https://rs.test/mcp"),
    );
    assert_eq!(
        status_and_reason(&server, "live-token").await,
        (
            503,
            format!("token introspection at {endpoint} answered HTTP 401 Unauthorized")
        )
    );
    assert_eq!(format!("{:?}", Secret::new("pw")), "Secret(<redacted>)");
    server.stop().await;
}

#[tokio::test]
async fn unverified_jwts_are_accepted_only_as_a_development_switch() {
    let server = server_with(mcp_runtime::auth::verifier::dangerous::UnverifiedJwt, None);
    // Signed by a key nobody trusts, for another audience: accepted (this is what the switch does).
    let c = Client::connect_as(
        &server,
        V_LATEST,
        Some(sign(
            "rogue",
            "x",
            &claims("https://anything/mcp", "openid"),
        )),
    )
    .await;
    assert_eq!(
        c.call("get-user-info", json!({})).await["result"]["structuredContent"]["userId"],
        "user-1"
    );
    // Expiry is still enforced.
    let mut expired = claims(&server.url(), "openid");
    expired["exp"] = json!(now() - 10);
    assert_eq!(
        status_and_reason(&server, &sign("rogue", "x", &expired)).await,
        (401, "the token expired".into())
    );
    server.stop().await;
}
