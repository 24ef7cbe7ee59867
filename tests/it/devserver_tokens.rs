//! The development server's tokens over real HTTP: confidential clients authenticate, refresh
//! tokens rotate and a replay revokes the family, a code redeemed twice revokes what it issued.

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::devserver::*;

#[tokio::test]
async fn confidential_clients_authenticate() {
    let (_server, base) = start_dev(true);
    let (status, c) = register(&base, json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(status, 201);
    assert_eq!(
        c["token_endpoint_auth_method"], "client_secret_basic",
        "the RFC 7591 default"
    );
    let id = c["client_id"].as_str().expect("id").to_owned();
    let secret = c["client_secret"].as_str().expect("a secret").to_owned();
    let (verifier, challenge) = pkce();

    let code = code_for(&base, &id, &challenge, "openid").await;
    let (s, h, e) = redeem(&base, &code, &id, &verifier).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    assert!(h.get("www-authenticate").is_none());

    let code = code_for(&base, &id, &challenge, "openid").await;
    let bad = STANDARD.encode(format!("{id}:wrong"));
    let r = http()
        .post(format!("{base}/oauth/token"))
        .header("authorization", format!("Basic {bad}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .starts_with("Basic")
    );

    let code = code_for(&base, &id, &challenge, "openid").await;
    let good = STANDARD.encode(format!("{id}:{secret}"));
    let r = http()
        .post(format!("{base}/oauth/token"))
        .header("authorization", format!("Basic {good}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.expect("json");
    assert!(t["access_token"].is_string());
    assert!(
        t.get("refresh_token").is_none(),
        "the client did not register refresh_token"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replay_revokes_the_family() {
    let (server, base) = start_dev(true);
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();
    let code = code_for(&base, &client_id, &challenge, "openid admin").await;
    let t = exchange(&base, &client_id, &code, &verifier).await;
    let r1 = t["refresh_token"].as_str().expect("refresh").to_owned();

    // Narrowing is allowed; widening is not.
    let (s, _, e) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r1),
            ("client_id", &client_id),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_scope")),
        "{e}"
    );
    // A refused request does not spend the token.

    let (s, _, t2) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r1),
            ("client_id", &client_id),
            ("scope", "admin"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t2}");
    assert_eq!(t2["scope"], "admin");
    let r2 = t2["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(r1, r2);
    let c = Client::connect_as(
        &server,
        V_LATEST,
        t2["access_token"].as_str().map(str::to_owned),
    )
    .await;
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "y"})).await),
        "did y"
    );

    // r1 again: refused, and r2 (same family) dies with it.
    let (s, _, e) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r1),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    let (s, _, e) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r2),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
}

/// RFC 9700 §4.1.1: a code that comes back after its redemption is stolen or replayed; what
/// the first redemption issued is revoked.
#[tokio::test]
async fn a_code_redeemed_twice_revokes_what_it_issued() {
    let (server, base) = start_dev(true);
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();
    let code = code_for(&base, &client_id, &challenge, "openid").await;
    let tokens = exchange(&base, &client_id, &code, &verifier).await;
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    let (status, _, body) = redeem(&base, &code, &client_id, &verifier).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        body["error_description"],
        "the authorization code was already used; the tokens it issued are revoked"
    );
    let (status, _, body) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error_description"],
        "the refresh token was revoked (a token of its grant was used twice)"
    );
    server.stop().await;
}
