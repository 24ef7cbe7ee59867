//! The JWT header and claims path behind a valid signature: arbitrary header and payload bytes
//! (separated by the first newline), signed with the verifier's HS256 secret. Whatever gets
//! through must be an HS256 token for this issuer and audience that has not expired.
#![no_main]

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use mcp_runtime::auth::TokenVerifier;
use mcp_runtime::auth::verifier::JwtVerifier;
use serde_json::Value;

const SECRET: &[u8] = b"fuzzing secret, 32 bytes or more!";
const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://mcp.example/mcp";

static VERIFIER: LazyLock<JwtVerifier> = LazyLock::new(|| {
    JwtVerifier::hs256(SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .leeway(30)
});
static KEY: LazyLock<hmac::Key> = LazyLock::new(|| hmac::Key::new(hmac::HMAC_SHA256, SECRET));

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    // The HS256 path never awaits anything that is pending: one poll finishes it.
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("the HS256 verifier waited on something"),
    }
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (header, payload) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let tag = hmac::sign(&KEY, message.as_bytes());
    let token = format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    let Ok(verified) = block_on(VERIFIER.verify(&token, AUDIENCE)) else {
        return;
    };
    let header: Value = serde_json::from_slice(header).expect("an accepted header is JSON");
    assert_eq!(header["alg"], "HS256");
    assert!(header.get("crit").is_none());
    let claims = &verified.claims;
    assert_eq!(claims["iss"], ISSUER);
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == AUDIENCE,
        Value::Array(items) => items.iter().any(|a| a == AUDIENCE),
        _ => false,
    };
    assert!(aud_ok, "accepted aud {:?}", claims["aud"]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let exp = claims["exp"].as_f64().expect("an accepted exp is a number");
    assert!(exp + 30.0 + 1.0 >= now as f64, "accepted an expired token");
    if let Some(nbf) = claims.get("nbf") {
        assert!(nbf.as_f64().expect("an accepted nbf is a number") <= (now + 31) as f64);
    }
});
