//! The benchmark's reference handlers (testbins/examples/bench_baseline) verify what they claim to:
//! a comparison against a handler that let bad tokens through would flatter nobody honestly.

use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::auth::{now, sign};
use crate::common::http;
use crate::examples::{Running, example, start_example};

const ISSUER: &str = "https://bench.issuer.test";
const AUDIENCE: &str = "https://bench.mcp.test/mcp";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// bench_baseline on a free port (it takes `PORT` and logs nothing).
async fn start() -> (Running, u16) {
    let port = free_port();
    let child = Command::new(example("bench_baseline"))
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts");
    let running = Running(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (running, port);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("bench_baseline never listened on {port}");
}

/// A valid token for the benchmark's issuer and audience, and tokens each refused for a reason.
fn tokens() -> (String, Vec<(&'static str, String)>) {
    let claims =
        |iss: &str, aud: &str, exp: u64| json!({"iss": iss, "aud": aud, "sub": "u", "exp": exp});
    let valid = sign("k1", "k1", &claims(ISSUER, AUDIENCE, now() + 600));
    let (head, signature) = valid.rsplit_once('.').expect("three parts");
    // A bit of the signature itself flipped (not the last character's padding bits): still
    // base64url and in range for the key, so only the RSA check can refuse it.
    let mut raw = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    if let Some(last) = raw.last_mut() {
        *last ^= 0x01;
    }
    let forged = URL_SAFE_NO_PAD.encode(raw);
    let refused = [
        ("a forged signature", format!("{head}.{forged}")),
        (
            "another key",
            sign("k2", "k1", &claims(ISSUER, AUDIENCE, now() + 600)),
        ),
        (
            "an expired token",
            sign("k1", "k1", &claims(ISSUER, AUDIENCE, now() - 3600)),
        ),
        (
            "another issuer",
            sign(
                "k1",
                "k1",
                &claims("https://other.test", AUDIENCE, now() + 600),
            ),
        ),
        (
            "another audience",
            sign(
                "k1",
                "k1",
                &claims(ISSUER, "https://other.test/mcp", now() + 600),
            ),
        ),
        ("not a JWT", "abc".to_owned()),
    ];
    (valid, refused.into())
}

#[tokio::test]
async fn both_verifying_reference_handlers_accept_only_valid_tokens() {
    let (_server, port) = start().await;
    let (valid, refused) = tokens();
    for path in ["/mcp-jwt", "/mcp-jwt-parsed"] {
        let url = format!("http://127.0.0.1:{port}{path}");
        let ok = http()
            .post(&url)
            .bearer_auth(&valid)
            .body("{}")
            .send()
            .await
            .expect("answers");
        assert_eq!(ok.status(), 200, "{path}");
        assert_eq!(
            ok.json::<serde_json::Value>().await.expect("JSON")["result"]["content"][0]["text"],
            "42"
        );
        for (what, token) in &refused {
            let status = http()
                .post(&url)
                .bearer_auth(token)
                .body("{}")
                .send()
                .await
                .expect("answers")
                .status();
            assert_eq!(status, 401, "{path} with {what}");
        }
        let none = http().post(&url).body("{}").send().await.expect("answers");
        assert_eq!(none.status(), 401, "{path} without a token");
    }
}

#[tokio::test]
async fn bench_auth_verifies_with_either_verifier() {
    let (valid, refused) = tokens();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    for verifier in ["", "jsonwebtoken"] {
        // Its key set is served at its own port, which it must know in advance.
        let port = free_port().to_string();
        let (_server, url) = start_example(
            "bench_auth",
            &[
                ("PORT", &port),
                ("BENCH_TOKEN_CACHE", "0"),
                ("BENCH_VERIFIER", verifier),
            ],
        );
        let post = |token: &str| {
            http()
                .post(&url)
                .bearer_auth(token)
                .header("accept", "application/json, text/event-stream")
                .json(&initialize)
                .send()
        };
        assert_eq!(
            post(&valid).await.expect("answers").status(),
            200,
            "{verifier:?}"
        );
        for (what, token) in &refused {
            let refusal = post(token).await.expect("answers");
            assert_eq!(refusal.status(), 401, "{verifier:?} with {what}");
            assert!(
                refusal
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("error=\"invalid_token\"")),
                "{verifier:?} with {what}"
            );
        }
    }
}
