//! DPoP at the resource server (RFC 9449 §7), over real HTTP, with tokens from a local issuer
//! bound to a P-256 key (`cnf.jkt`) and proofs made here: the right proof opens the endpoint;
//! everything an attacker holding a copied token or proof would try is refused with the DPoP
//! challenge: the proof again, the token as Bearer, a proof by another key, for another method
//! or URL, for another token, an old one, none, one carrying a private key or signed with a
//! shared secret; and an unbound token presented as DPoP.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use mcp_runtime::auth::ScopeRefusal;
use serde_json::{Value, json};

use crate::auth::{Issuer, claims, now, oauth_server, sign};
use crate::common::*;

struct Key {
    der: Vec<u8>,
    jwk: Value,
}

fn key() -> Key {
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .expect("key")
        .as_ref()
        .to_vec();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).expect("pair");
    let p = pair.public_key().as_ref();
    let jwk = json!({"kty": "EC", "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&p[1..33]), "y": URL_SAFE_NO_PAD.encode(&p[33..65])});
    Key { der, jwk }
}

/// RFC 7638 thumbprint of a P-256 JWK.
fn jkt(jwk: &Value) -> String {
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().expect("x"),
        jwk["y"].as_str().expect("y")
    );
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        canonical.as_bytes(),
    ))
}

fn ath(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        token.as_bytes(),
    ))
}

/// A token for `url` bound to `k` (`cnf.jkt`), from the local issuer.
fn bound_token(url: &str, k: &Key) -> String {
    let mut c = claims(url, "openid");
    c["cnf"] = json!({"jkt": jkt(&k.jwk)});
    sign("k1", "k1", &c)
}

/// A proof by `k` with `claims` over the defaults for POST to `url` with `token`.
fn proof(k: &Key, url: &str, token: &str, over: Value) -> String {
    let mut c = json!({"jti": URL_SAFE_NO_PAD.encode(rand16()), "htm": "POST", "htu": url,
        "iat": now(), "ath": ath(token)});
    for (name, v) in over.as_object().expect("object") {
        c[name] = v.clone();
    }
    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("dpop+jwt".into());
    header.jwk = Some(serde_json::from_value(k.jwk.clone()).expect("jwk"));
    jsonwebtoken::encode(&header, &c, &EncodingKey::from_ec_der(&k.der)).expect("proof")
}

/// A proof with exactly this header and these claims, signed by `k`.
fn raw_proof(k: &Key, header: &Value, claims: &Value) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &k.der).expect("pair");
    let sig = pair
        .sign(&SystemRandom::new(), message.as_bytes())
        .expect("sign");
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn rand16() -> [u8; 16] {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("random");
    b
}

async fn post(url: &str, auth: &str, dpop: Option<&str>) -> Reply {
    let mut rb = http()
        .post(url)
        .header("authorization", auth)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    if let Some(p) = dpop {
        rb = rb.header("dpop", p);
    }
    Client::send(rb.body(init_body(V_LATEST).to_string())).await
}

fn refused(r: &Reply, says: &str) {
    assert_eq!(r.status, 401, "{says}: {r:?}");
    let ch = r
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        ch.contains(says) || r.body.contains(says),
        "`{says}` not in {ch} / {}",
        r.body
    );
}

#[tokio::test]
async fn bound_tokens_need_a_fresh_proof_by_their_key() {
    let issuer = Issuer::start(&["k1"]);
    let server = oauth_server(&issuer, ScopeRefusal::Forbidden);
    let url = server.url();
    let k = key();
    let token = bound_token(&url, &k);
    let dpop = format!("DPoP {token}");

    // The right proof.
    let good = proof(&k, &url, &token, json!({}));
    assert_eq!(post(&url, &dpop, Some(&good)).await.status, 200);
    // A copy of it.
    let r = post(&url, &dpop, Some(&good)).await;
    refused(&r, "used before");
    let ch = r.headers["www-authenticate"].to_str().expect("ascii");
    assert!(ch.starts_with("DPoP "), "{ch}");
    assert!(ch.contains("error=\"invalid_dpop_proof\""), "{ch}");
    assert!(ch.contains("algs=\"ES256"), "{ch}");
    // The token without its key.
    refused(
        &post(&url, &format!("Bearer {token}"), None).await,
        "bound to a key",
    );
    // Another key's proof.
    let thief = key();
    refused(
        &post(&url, &dpop, Some(&proof(&thief, &url, &token, json!({})))).await,
        "another key",
    );
    // For another method, another URL, another token, long ago.
    refused(
        &post(
            &url,
            &dpop,
            Some(&proof(&k, &url, &token, json!({"htm": "GET"}))),
        )
        .await,
        "htm",
    );
    refused(
        &post(
            &url,
            &dpop,
            Some(&proof(
                &k,
                &url,
                &token,
                json!({"htu": "https://other.example/mcp"}),
            )),
        )
        .await,
        "htu",
    );
    refused(
        &post(
            &url,
            &dpop,
            Some(&proof(&k, &url, &token, json!({"ath": ath("x")}))),
        )
        .await,
        "ath",
    );
    refused(
        &post(
            &url,
            &dpop,
            Some(&proof(&k, &url, &token, json!({"iat": now() - 3600}))),
        )
        .await,
        "not recent",
    );
    // No proof, or two.
    refused(&post(&url, &dpop, None).await, "exactly one DPoP proof");
    // A proof whose key includes its private part.
    let mut leaky_jwk = k.jwk.clone();
    leaky_jwk["d"] = json!("AAAA");
    let leaky = raw_proof(
        &k,
        &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": leaky_jwk}),
        &json!({"jti": "leak", "htm": "POST", "htu": url, "iat": now(), "ath": ath(&token)}),
    );
    refused(&post(&url, &dpop, Some(&leaky)).await, "public key");
    // Signed with a shared secret: not an accepted algorithm.
    let mut h = Header::new(jsonwebtoken::Algorithm::HS256);
    h.typ = Some("dpop+jwt".into());
    let hs = jsonwebtoken::encode(
        &h,
        &json!({"jti": "x", "htm": "POST", "htu": url, "iat": now(), "ath": ath(&token)}),
        &EncodingKey::from_secret(b"secret"),
    )
    .expect("hs256");
    refused(&post(&url, &dpop, Some(&hs)).await, "alg must be");

    // An unbound token presented as DPoP.
    let plain = sign("k1", "k1", &claims(&url, "openid"));
    refused(
        &post(
            &url,
            &format!("DPoP {plain}"),
            Some(&proof(&k, &url, &plain, json!({}))),
        )
        .await,
        "not bound to a key",
    );
    // And as Bearer it works as always.
    assert_eq!(
        post(&url, &format!("Bearer {plain}"), None).await.status,
        200
    );
}

/// The whole loop with nothing made by hand: the client with `OAuthConfig::dpop` signs in to
/// the development authorization server, which binds the tokens to the client's key (DPoP
/// token type, `cnf.jkt`), and every call carries a proof the resource server checks; the
/// token copied out of the client opens nothing; its refresh token refreshes only with the
/// key; a proof at the token endpoint used twice is refused.
#[tokio::test]
async fn the_client_and_the_dev_server_bind_tokens_to_the_client_s_key() {
    use mcp_runtime::client::auth::{
        CallbackConfig, MemoryTokenStore, OAuth, OAuthConfig, TokenStore as _,
    };
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    let server = crate::client::dev_server(std::time::Duration::from_secs(3600));
    let url = server.url();
    let store = Arc::new(MemoryTokenStore::new());
    let mut cfg = OAuthConfig::default();
    cfg.callback = CallbackConfig::port(0);
    cfg.opener = crate::client::robot_browser(Arc::new(AtomicUsize::new(0)));
    cfg.store = Some(store.clone());
    cfg.dpop = true;
    let oauth = Arc::new(OAuth::new(&url, cfg).expect("oauth"));
    let client = mcp_runtime::client::Client::builder(&url)
        .auth_shared(oauth.clone())
        .connect()
        .await
        .expect("signs in");
    let who = client.call_tool("whoami", json!({})).await.expect("whoami");
    assert!(who.text().contains("dev-user"), "{}", who.text());
    let tokens = oauth.tokens().await.expect("tokens");
    assert_eq!(tokens.token_type, "DPoP");
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(tokens.access_token.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("json");
    assert!(payload["cnf"]["jkt"].is_string(), "{payload}");
    let (_, metadata) = get_json(format!(
        "http://{}/.well-known/oauth-authorization-server",
        server.addr()
    ))
    .await;
    assert!(
        metadata["dpop_signing_alg_values_supported"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("ES256"))),
        "{metadata}"
    );

    // Copied out of the client: as Bearer, or as DPoP with a proof by the thief's key.
    refused(
        &post(&url, &format!("Bearer {}", tokens.access_token), None).await,
        "bound to a key",
    );
    let thief = key();
    refused(
        &post(
            &url,
            &format!("DPoP {}", tokens.access_token),
            Some(&proof(&thief, &url, &tokens.access_token, json!({}))),
        )
        .await,
        "another key",
    );

    // The refresh token: without a proof by the key, nothing.
    let refresh = tokens.refresh_token.clone().expect("refresh token");
    let token_endpoint = format!("http://{}/oauth/token", server.addr());
    let client_id = store
        .load_registration(&url)
        .expect("store")
        .expect("registered")
        .client_id;
    let refresh_with = |proof: Option<String>| {
        let (endpoint, refresh, client_id) =
            (token_endpoint.clone(), refresh.clone(), client_id.clone());
        async move {
            let mut rb = http().post(&endpoint);
            if let Some(p) = proof {
                rb = rb.header("dpop", p);
            }
            let r = rb
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", client_id.as_str()),
                ])
                .send()
                .await
                .expect("refresh");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = refresh_with(None).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
    let stolen = proof(&thief, &token_endpoint, "", json!({"ath": null}));
    assert_eq!(refresh_with(Some(stolen.clone())).await.0, 400);
    // A token-endpoint proof used twice.
    let (_, body) = refresh_with(Some(stolen)).await;
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("used before")),
        "{body}"
    );
    client.close().await;
}

/// Server nonces (RFC 9449 §8, §9): with `dpop_nonces`, a proof without a recent nonce of the
/// server's is answered `use_dpop_nonce` with a `DPoP-Nonce` header, by the resource server
/// (401) and the token endpoint (400); the client makes its proof again with it, on both, and
/// gets through.
#[tokio::test]
async fn server_nonces_are_asked_for_and_honoured() {
    use mcp_runtime::client::auth::{CallbackConfig, MemoryTokenStore, OAuth, OAuthConfig};
    use mcp_runtime::prelude::*;
    use mcp_runtime::providers::DevProvider;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    // The resource server alone, with a token from the local issuer.
    let issuer = Issuer::start(&["k1"]);
    let server = start(
        McpServer::builder()
            .oauth(issuer.oauth().dpop_nonces(true))
            .tools(tools![crate::auth::get_user_info]),
    );
    let url = server.url();
    let k = key();
    let token = bound_token(&url, &k);
    let dpop = format!("DPoP {token}");
    let r = post(&url, &dpop, Some(&proof(&k, &url, &token, json!({})))).await;
    refused(&r, "use_dpop_nonce");
    let nonce = r.headers["dpop-nonce"].to_str().expect("nonce").to_owned();
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .expect("ascii")
            .starts_with("DPoP ")
    );
    let with = proof(&k, &url, &token, json!({"nonce": nonce}));
    assert_eq!(post(&url, &dpop, Some(&with)).await.status, 200);
    refused(
        &post(
            &url,
            &dpop,
            Some(&proof(&k, &url, &token, json!({"nonce": "made-up"}))),
        )
        .await,
        "use_dpop_nonce",
    );

    // The client against the development server asking for nonces at both ends.
    let oauth = DevProvider::new()
        .auto_approve(true)
        .dpop_nonces(true)
        .into_oauth()
        .expect("dev")
        .dpop_nonces(true);
    let dev = start(
        McpServer::builder()
            .tools(tools![crate::devserver::whoami])
            .oauth(oauth),
    );
    let mut cfg = OAuthConfig::default();
    cfg.callback = CallbackConfig::port(0);
    cfg.opener = crate::client::robot_browser(Arc::new(AtomicUsize::new(0)));
    cfg.store = Some(Arc::new(MemoryTokenStore::new()));
    cfg.dpop = true;
    let client = mcp_runtime::client::Client::builder(dev.url())
        .auth(OAuth::new(&dev.url(), cfg).expect("oauth"))
        .connect()
        .await
        .expect("signs in with nonces");
    let who = client.call_tool("whoami", json!({})).await.expect("whoami");
    assert!(who.text().contains("dev-user"), "{}", who.text());
    client.close().await;
}

/// `require_dpop`: bearer tokens are refused with the DPoP challenge, bound ones work with
/// their proofs, and the protected-resource metadata says so.
#[tokio::test]
async fn a_server_may_accept_bound_tokens_only() {
    use mcp_runtime::prelude::*;
    let issuer = Issuer::start(&["k1"]);
    let server = start(
        McpServer::builder()
            .oauth(issuer.oauth().require_dpop(true))
            .tools(tools![crate::auth::get_user_info]),
    );
    let url = server.url();
    let r = post(
        &url,
        &format!("Bearer {}", sign("k1", "k1", &claims(&url, "openid"))),
        None,
    )
    .await;
    refused(&r, "DPoP-bound tokens only");
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .expect("ascii")
            .starts_with("DPoP ")
    );
    let k = key();
    let token = bound_token(&url, &k);
    let good = proof(&k, &url, &token, json!({}));
    assert_eq!(
        post(&url, &format!("DPoP {token}"), Some(&good))
            .await
            .status,
        200
    );
    let (_, prm) = get_json(format!(
        "http://{}/.well-known/oauth-protected-resource/mcp",
        server.addr()
    ))
    .await;
    assert_eq!(prm["dpop_bound_access_tokens_required"], true, "{prm}");
}
