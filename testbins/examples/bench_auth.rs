//! The authenticated target of `scripts/bench`: the quickstart's `add` tool behind OAuth, with
//! JWTs checked against a JWKS that this same process publishes at `/jwks.json` (fetched over
//! HTTP like any issuer's; `/jwks-fetches` reports how many times it was fetched).
//!
//! ```sh
//! PORT=3303 cargo run --release --example bench_auth            # serve
//! BENCH_TOKEN_CACHE=0 PORT=3304 cargo run --release --example bench_auth   # no verified-token cache
//! BENCH_VERIFIER=jsonwebtoken ...                                # verify with jsonwebtoken instead
//! cargo run --release --example bench_auth -- tokens 2000        # print 2000 distinct valid tokens
//! cargo run --release --example bench_auth -- bad                # print a token with a bad signature
//! cargo run --release --example bench_auth -- unknown-kid 100    # print 100 tokens with unknown kids
//! cargo run --release --example bench_auth -- dpop 1000 URL      # a DPoP-bound token, then 1000 proofs for POST to URL
//! ```
//!
//! The signing keys are the test fixtures `tests/it/keys/k1.pem` and `k2.pem`: never use them
//! for anything real. `scripts/soak` also uses `tokens N k2`, `expired`, the `admin` and `slow`
//! tools and `BENCH_JWKS_URL` (keys from another issuer process, which it rotates and stops).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::actix_web::{HttpResponse, web};
use mcp_runtime::auth::jwks::JwksCache;
use mcp_runtime::auth::verifier::JwtVerifier;
use mcp_runtime::auth::{AuthError, OAuth, TokenVerifier, Verified};
use mcp_runtime::prelude::*;
use serde_json::json;

const ISSUER: &str = "https://bench.issuer.test";
const AUDIENCE: &str = "https://bench.mcp.test/mcp";
const KEY_PEM: &str = include_str!("../../tests/it/keys/k1.pem");
const K2_PEM: &str = include_str!("../../tests/it/keys/k2.pem");
const JWKS: &str = include_str!("../../tests/it/keys/jwks.json");

/// `BENCH_VERIFIER=jsonwebtoken`: the same server verifying each token with jsonwebtoken the way
/// the bare handler does (the key imported for every token), for a like-for-like comparison.
struct Jsonwebtoken {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

impl TokenVerifier for Jsonwebtoken {
    fn verify<'a>(
        &'a self,
        token: &'a str,
        _resource: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<Verified, AuthError>> {
        let verified = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &self.key,
            &self.validation,
        )
        .map(|data| Verified::from_claims(data.claims))
        .map_err(|e| AuthError::InvalidToken(e.to_string()));
        Box::pin(std::future::ready(verified))
    }

    fn describe(&self) -> String {
        "jsonwebtoken, the key imported for every token (benchmark)".into()
    }
}

/// Add two numbers.
#[mcp_tool(read_only)]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Needs the `admin` scope, which the benchmark's tokens lack (a step-up challenge).
#[mcp_tool(scopes = "admin")]
async fn admin() -> &'static str {
    "done"
}

/// Takes 200 ms (for clients that hang up mid-call).
#[mcp_tool(read_only)]
async fn slow() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    "slept"
}

fn token(n: u64, exp: u64) -> String {
    token_with_kid(n, exp, "k1")
}

fn token_with_kid(n: u64, exp: u64, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "bench-user", "exp": exp,
                        "iat": exp - 3600, "jti": n.to_string(), "scope": "openid"});
    let pem = if kid == "k2" { K2_PEM } else { KEY_PEM };
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("fixture key");
    jsonwebtoken::encode(&header, &claims, &key).expect("signed")
}

/// Prints a DPoP-bound token, then `n` proofs for POST to `url`.
fn dpop(n: u64, url: &str, exp: u64) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    let der = EcdsaKeyPair::generate_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .expect("key");
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref()).expect("key pair");
    let p = pair.public_key().as_ref();
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(&p[1..33]),
        URL_SAFE_NO_PAD.encode(&p[33..65]),
    );
    let sha = |s: &str| {
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            s.as_bytes(),
        ))
    };
    let jkt = sha(&format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
    ));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "bench-user", "exp": exp,
                        "iat": exp - 3600, "jti": "dpop", "scope": "openid", "cnf": {"jkt": jkt}});
    let key = EncodingKey::from_rsa_pem(KEY_PEM.as_bytes()).expect("fixture key");
    let token = jsonwebtoken::encode(&header, &claims, &key).expect("signed");
    println!("{token}");
    let mut proof_header = Header::new(Algorithm::ES256);
    proof_header.typ = Some("dpop+jwt".into());
    proof_header.jwk = Some(
        serde_json::from_value(json!({"kty": "EC", "crv": "P-256", "x": x, "y": y})).expect("jwk"),
    );
    let proof_key = EncodingKey::from_ec_der(der.as_ref());
    let ath = sha(&token);
    let now = exp - 3600;
    for i in 0..n {
        let c = json!({"jti": format!("p{i}"), "htm": "POST", "htu": url, "iat": now, "ath": ath});
        println!(
            "{}",
            jsonwebtoken::encode(&proof_header, &c, &proof_key).expect("proof")
        );
    }
}

fn main() -> Result<(), ServeError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;
    match args.first().map(String::as_str) {
        Some("tokens") => {
            let n: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1);
            let kid = args.get(2).map_or("k1", String::as_str);
            for i in 0..n {
                println!("{}", token_with_kid(i, exp, kid));
            }
            return Ok(());
        }
        Some("dpop") => {
            // A token bound to a new P-256 key (cnf.jkt), then `n` fresh proofs by that key
            // for POST to `url`, one per request (a proof is accepted once).
            let n: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1);
            let url = args
                .get(2)
                .map_or("http://127.0.0.1:3303/mcp", String::as_str);
            dpop(n, url, exp);
            return Ok(());
        }
        Some("expired") => {
            // Expired an hour ago: far beyond the leeway.
            println!("{}", token(0, exp - 7200));
            return Ok(());
        }
        Some("unknown-kid") => {
            // Well signed, but naming keys the issuer never published (a rotation the server
            // has not seen, or a forger guessing): each one asks for a key set refetch.
            let n: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1);
            for i in 0..n {
                println!("{}", token_with_kid(i, exp, &format!("rotated-{i}")));
            }
            return Ok(());
        }
        Some("bad") => {
            // The real signature with its last byte changed: still in range for the key, so
            // the verifier does the whole RSA computation before refusing it.
            let t = token(0, exp);
            let (head, sig) = t.rsplit_once('.').expect("three parts");
            let mut raw = URL_SAFE_NO_PAD.decode(sig).expect("base64url signature");
            if let Some(last) = raw.last_mut() {
                *last ^= 0x01;
            }
            println!("{head}.{}", URL_SAFE_NO_PAD.encode(raw));
            return Ok(());
        }
        _ => {}
    }

    let port = std::env::var("PORT").unwrap_or_else(|_| "3303".into());
    let cache: usize = std::env::var("BENCH_TOKEN_CACHE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let all: serde_json::Value = serde_json::from_str(JWKS).expect("fixture JWKS");
    let set = json!({"keys": [all["k1"].clone()]}).to_string();
    let fetches = Arc::new(AtomicU64::new(0));
    let jwks_url = std::env::var("BENCH_JWKS_URL")
        .unwrap_or_else(|_| format!("http://127.0.0.1:{port}/jwks.json"));
    let jwks = JwksCache::new(jwks_url, mcp_runtime::auth::http_client());
    let oauth = if std::env::var("BENCH_VERIFIER").as_deref() == Ok("jsonwebtoken") {
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(all["k1"].clone()).expect("fixture JWK");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        OAuth::new(
            Jsonwebtoken {
                key: jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("fixture key"),
                validation,
            },
            ISSUER,
        )
    } else {
        OAuth::new(
            JwtVerifier::jwks(Arc::new(jwks))
                .issuer(ISSUER)
                .audience(AUDIENCE),
            ISSUER,
        )
    }
    .token_cache(cache, std::time::Duration::from_secs(300));
    let counter = fetches.clone();
    let mut builder = McpServer::builder();
    // BENCH_WORKERS: HTTP worker threads (default one per core), e.g. more than the cores to
    // load the token cache's locks from more threads than can run.
    if let Some(n) = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        builder = builder.workers(n);
    }
    builder
        .name("bench-auth")
        .oauth(oauth)
        .tools(tools![add, admin, slow])
        .routes(move |cfg| {
            let (set, counter) = (set.clone(), counter.clone());
            let count = counter.clone();
            cfg.route(
                "/jwks.json",
                web::get().to(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                    let body = set.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .insert_header(("cache-control", "max-age=3600"))
                            .body(body)
                    }
                }),
            );
            cfg.route(
                "/jwks-fetches",
                web::get().to(move || {
                    let n = count.load(Ordering::Relaxed);
                    async move { HttpResponse::Ok().body(n.to_string()) }
                }),
            );
        })
        .build()?
        .run()
}
