//! Machine-to-machine clients (the client-credentials grant) at the development server, over
//! real HTTP: operator-registered clients with a secret or a key (`private_key_jwt`, RFC 7523),
//! tokens bound to the resource with the scopes the client was given, and every refusal an
//! attacker could try (another client's grant type, a wrong secret, a replayed, re-aimed,
//! long-lived or forged assertion, a scope never given); and the client library signing in
//! with each.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use mcp_runtime::RunningServer;
use mcp_runtime::client::auth::{ClientKey, Grant, MemoryTokenStore, OAuth, OAuthConfig, Secret};
use mcp_runtime::client::{Client, ClientError};
use mcp_runtime::prelude::*;
use mcp_runtime::providers::{DevProvider, ServiceClient};
use serde_json::{Value, json};

use crate::common::*;
use crate::devserver::{admin_action, public_client, token, whoami};

const SECRET: &str = "s3rvice-secret-0123456789-abcdefghij";

/// A new P-256 key: its PKCS#8 DER and PEM.
fn p256() -> (Vec<u8>, String) {
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .expect("key")
        .as_ref()
        .to_vec();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(&der)
    );
    (der, pem)
}

struct Machines {
    server: RunningServer,
    base: String,
    /// The keyed client's private key (DER), to forge with.
    der: Vec<u8>,
    pem: String,
}

fn start_with_machines() -> Machines {
    let (der, pem) = p256();
    let jwk = ClientKey::from_pem(&pem).expect("key").public_jwk();
    let oauth = DevProvider::new()
        .service_client(
            ServiceClient::with_secret("reporter", SECRET)
                .expect("secret")
                .scopes(["admin"])
                .name("Nightly report"),
        )
        .service_client(
            ServiceClient::with_jwks("signer", &json!({"keys": [jwk]}).to_string())
                .expect("jwks")
                .scopes(["admin"]),
        )
        .into_oauth()
        .expect("dev provider");
    let server = start(
        McpServer::builder()
            .tools(tools![whoami, admin_action])
            .oauth(oauth),
    );
    let base = format!("http://{}", server.addr());
    Machines {
        server,
        base,
        der,
        pem,
    }
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json")
}

/// A client assertion signed with `der` (ES256), with `claims` over the defaults.
fn assertion(der: &[u8], base: &str, claims: Value) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut c = json!({
        "iss": "signer", "sub": "signer", "aud": base, "iat": now, "exp": now + 60,
        "jti": URL_SAFE_NO_PAD.encode(rand_bytes()),
    });
    for (k, v) in claims.as_object().expect("object") {
        if v.is_null() {
            c.as_object_mut().expect("object").remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::ES256),
        &c,
        &EncodingKey::from_ec_der(der),
    )
    .expect("sign")
}

fn rand_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("random");
    b
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn with_assertion(base: &str, jwt: &str) -> (u16, Value) {
    let (status, _, body) = token(
        base,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", jwt),
        ],
    )
    .await;
    (status, body)
}

/// `initialize` with `token`: the HTTP status.
async fn status_with(server: &RunningServer, token: &str) -> u16 {
    http()
        .post(server.url())
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&init_body(V_LATEST))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_service_client_gets_a_token_with_its_secret_and_only_what_it_was_given() {
    let m = start_with_machines();
    let base = &m.base;
    let (_, metadata) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!([
            "none",
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert!(
        metadata["token_endpoint_auth_signing_alg_values_supported"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("ES256")) && !a.contains(&json!("HS256"))),
        "{metadata}"
    );

    // client_secret_basic: the scopes it was given, for this resource, no refresh token.
    let r = http()
        .post(format!("{base}/oauth/token"))
        .basic_auth("reporter", Some(SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "admin");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("token").to_owned();
    let claims = claims_of(&access);
    assert_eq!(claims["sub"], "reporter");
    assert_eq!(claims["client_id"], "reporter");
    assert_eq!(claims["aud"], m.server.url());
    assert_eq!(claims["name"], "Nightly report");
    assert!(claims.get("preferred_username").is_none(), "{claims}");
    assert_eq!(status_with(&m.server, &access).await, 200);

    // client_secret_post, a subset of its scopes, and the resource named.
    let (status, _, body) = token(
        base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "reporter"),
            ("client_secret", SECRET),
            ("scope", "admin"),
            ("resource", &m.server.url()),
        ],
    )
    .await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("admin")));

    // A scope it was not given.
    let (status, _, body) = token(
        base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "reporter"),
            ("client_secret", SECRET),
            ("scope", "admin openid"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("`openid` is not given to this client")),
        "{body}"
    );

    // A wrong secret: 401 with the Basic challenge.
    let r = http()
        .post(format!("{base}/oauth/token"))
        .basic_auth("reporter", Some("s3rvice-secret-0123456789-abcdefghiX"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"token\"");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");

    // Another server's resource.
    let (status, _, body) = token(
        base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "reporter"),
            ("client_secret", SECRET),
            ("resource", "https://other.example/mcp"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );

    // A dynamically registered client cannot use the grant: nobody vouched for it.
    let stranger = public_client(base).await;
    let (status, _, body) = token(
        base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &stranger),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
    // And a service client uses no other grant.
    let (status, _, body) = token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "reporter"),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
    // Nor does it sign users in through the browser.
    let r = crate::devserver::no_redirects()
        .get(format!(
            "{base}/oauth/authorize?response_type=code&client_id=reporter&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&code_challenge=abcdefghijabcdefghijabcdefghijabcdefghijabc&code_challenge_method=S256"
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), 400);

    // Its token is revocable like any other, by itself.
    let r = http()
        .post(format!("{base}/oauth/revoke"))
        .basic_auth("reporter", Some(SECRET))
        .form(&[
            ("token", access.as_str()),
            ("token_type_hint", "access_token"),
        ])
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 200);
    assert_eq!(status_with(&m.server, &access).await, 401);
}

#[tokio::test]
async fn private_key_jwt_assertions_are_checked_and_used_once() {
    let m = start_with_machines();
    let base = &m.base;
    let good = assertion(&m.der, base, json!({}));
    let (status, body) = with_assertion(base, &good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims_of(body["access_token"].as_str().expect("token"))["sub"],
        "signer"
    );
    // The token endpoint's URL is an accepted audience too (RFC 7523 §3).
    let to_endpoint = assertion(&m.der, base, json!({"aud": format!("{base}/oauth/token")}));
    assert_eq!(with_assertion(base, &to_endpoint).await.0, 200);

    let refused = |what: &'static str, jwt: String, says: &'static str| {
        let base = base.clone();
        async move {
            let (status, body) = with_assertion(&base, &jwt).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (401, Some("invalid_client")),
                "{what}: {body}"
            );
            let d = body["error_description"].as_str().unwrap_or_default();
            assert!(d.contains(says), "{what}: `{d}` should say `{says}`");
        }
    };
    // Replayed: a copied assertion opens nothing.
    refused("replay", good, "already used").await;
    // Aimed at another server.
    refused(
        "audience",
        assertion(&m.der, base, json!({"aud": "https://other.example"})),
        "`aud` must be",
    )
    .await;
    // Signed by another key.
    let (other, _) = p256();
    refused("forged", assertion(&other, base, json!({})), "signature").await;
    // Valid for an hour: its jti would have to be remembered that long.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    refused(
        "long-lived",
        assertion(&m.der, base, json!({"exp": now + 3600})),
        "valid for too long",
    )
    .await;
    refused(
        "expired",
        assertion(&m.der, base, json!({"exp": now - 120})),
        "expired",
    )
    .await;
    refused(
        "no jti",
        assertion(&m.der, base, json!({"jti": null})),
        "needs a `jti`",
    )
    .await;
    refused(
        "sub",
        assertion(&m.der, base, json!({"sub": "reporter"})),
        "`sub` must be the client id",
    )
    .await;
    // Naming a client that authenticates with a secret, or none the operator registered.
    refused(
        "secret client",
        assertion(&m.der, base, json!({"iss": "reporter", "sub": "reporter"})),
        "authenticates with its secret",
    )
    .await;
    refused(
        "unknown",
        assertion(&m.der, base, json!({"iss": "nobody", "sub": "nobody"})),
        "no client `nobody`",
    )
    .await;
    // alg confusion: HS256 keyed with anything public is not an accepted algorithm.
    let hs = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims_of(&assertion(&m.der, base, json!({}))),
        &EncodingKey::from_secret(b"the public key, perhaps"),
    )
    .expect("hs256");
    refused("hs256", hs, "HS256").await;
    // `alg: none`.
    let unsigned = {
        let jwt = assertion(&m.der, base, json!({}));
        let payload = jwt.split('.').nth(1).expect("payload").to_owned();
        format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        )
    };
    let (status, body) = with_assertion(base, &unsigned).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    // One method per request.
    let r = http()
        .post(format!("{base}/oauth/token"))
        .basic_auth("reporter", Some(SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion(&m.der, base, json!({}))),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 401);
    // A wrong assertion type.
    let (status, _, body) = token(
        base,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:example:saml"),
            ("client_assertion", &assertion(&m.der, base, json!({}))),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let _ = &m.pem;
}

/// A client library configured as a machine: no browser, a token at the first 401.
fn machine(url: &str, cfg: impl FnOnce(&mut OAuthConfig)) -> Result<OAuth, ClientError> {
    let mut c = OAuthConfig::default();
    c.grant = Grant::ClientCredentials;
    c.store = Some(Arc::new(MemoryTokenStore::new()));
    cfg(&mut c);
    OAuth::new(url, c)
}

#[tokio::test]
async fn the_client_library_signs_in_as_a_machine_with_a_secret_or_a_key() {
    let m = start_with_machines();
    let url = m.server.url();
    for (who, oauth) in [
        (
            "secret",
            machine(&url, |c| {
                c.client_id = Some("reporter".into());
                c.client_secret = Some(Secret::new(SECRET));
            }),
        ),
        (
            "key",
            machine(&url, |c| {
                c.client_id = Some("signer".into());
                c.client_key = Some(Arc::new(ClientKey::from_pem(&m.pem).expect("key")));
            }),
        ),
    ] {
        let client = Client::builder(&url)
            .auth(oauth.expect("oauth"))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        // The scope is asked for on the 403 (step-up with the client's credentials).
        let done = client
            .call_tool("admin-action", json!({"action": "report"}))
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_eq!(done.text(), "did report", "{who}");
        client.close().await;
    }

    // Without a client the operator registered, the error says what to configure.
    let e = Client::builder(&url)
        .auth(machine(&url, |_| {}).expect("oauth"))
        .connect()
        .await
        .expect_err("no client id");
    assert!(
        e.to_string()
            .contains("set client_id, and client_secret or client_key"),
        "{e}"
    );
    // A wrong secret: the server's refusal, not a browser.
    let e = Client::builder(&url)
        .auth(
            machine(&url, |c| {
                c.client_id = Some("reporter".into());
                c.client_secret = Some(Secret::new("wrong-secret-wrong-secret-wrong-secret"));
            })
            .expect("oauth"),
        )
        .connect()
        .await
        .expect_err("wrong secret");
    assert!(e.to_string().contains("invalid_client"), "{e}");
}
