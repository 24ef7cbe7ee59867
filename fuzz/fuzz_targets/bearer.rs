//! The Authorization header on a protected endpoint: arbitrary bytes as its value, verified
//! against a fixed RS256 key set. Nothing forged gets in: every answer is 400 or 401, with
//! a `WWW-Authenticate` challenge on the 401s checked by the integration tests.
#![no_main]

use std::cell::OnceCell;
use std::sync::Arc;

use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use mcp_runtime::actix_web::http::header::HeaderValue;
use mcp_runtime::actix_web::test::TestRequest;
use mcp_runtime::auth::OAuth;
use mcp_runtime::auth::jwks::JwksCache;
use mcp_runtime::auth::verifier::JwtVerifier;
use mcp_runtime::prelude::*;

#[path = "common.rs"]
mod common;

/// Add two numbers.
#[mcp_tool(scopes = "math")]
async fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

#[mcp_server(name = "fuzz", version = "0.0.0", tools = [add], oauth = fuzz_oauth)]
struct Fuzz;

thread_local! {
    static HARNESS: OnceCell<&'static common::Harness> = const { OnceCell::new() };
}

/// A fixed RS256 key set: nothing is fetched.
fn fuzz_oauth() -> OAuth {
    let key = KeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
    let public = key.public_key();
    let set = serde_json::json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
        "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    }]});
    let keys = JwksCache::fixed(set.to_string().as_bytes()).expect("a key set");
    let verifier = JwtVerifier::jwks(Arc::new(keys)).issuer("https://issuer.example");
    OAuth::new(verifier, "https://issuer.example")
}

fn harness() -> &'static common::Harness {
    let server = Fuzz::builder()
        .public_url("https://mcp.example/mcp")
        .stateless(true)
        .build()
        .expect("the fuzz server builds");
    common::Harness::leaked(server)
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let req = TestRequest::post()
        .uri("/mcp")
        .insert_header(("host", "mcp.example"))
        .insert_header(("content-type", "application/json"))
        .insert_header(("accept", "application/json, text/event-stream"))
        .insert_header(("mcp-protocol-version", "2025-11-25"))
        .insert_header(("authorization", value))
        .set_payload(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
    let (status, _) = HARNESS.with(|cell| (*cell.get_or_init(harness)).send(req));
    assert!(
        status.as_u16() == 401 || status.as_u16() == 400,
        "{status} for {:?}",
        String::from_utf8_lossy(data)
    );
});
