//! The ceiling for `scripts/bench`: a bare actix-web handler that answers `POST /mcp` with the
//! same JSON-RPC result the quickstart's `add` tool returns, doing no MCP work at all; and
//! `POST /mcp-jwt`, the same handler verifying the bearer JWT with jsonwebtoken on every
//! request (RS256 against `bench_auth`'s key, `iss`, `aud`, `exp`): the ceiling for
//! authenticated requests without a cache; and `POST /mcp-jwt-parsed`, the RS256 signature
//! against a key parsed once (an aws-lc `ParsedPublicKey`) and `iss`, `aud`, `exp`, and nothing
//! else (not even the JOSE header, which jsonwebtoken reads to pin `alg`): a lower bound for any
//! server that parses its keys once. `PORT` sets the port (default 3001).

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"42"}]}}"#;

async fn answer(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(BODY)
}

struct Verify {
    key: DecodingKey,
    validation: Validation,
}

/// The request's bearer token, read as simply as a bare handler would.
fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The answer, or 401.
fn answer_if(verified: bool) -> HttpResponse {
    if verified {
        HttpResponse::Ok()
            .content_type("application/json")
            .body(BODY)
    } else {
        HttpResponse::Unauthorized().finish()
    }
}

async fn answer_jwt(
    req: HttpRequest,
    verify: web::Data<Verify>,
    _body: web::Bytes,
) -> HttpResponse {
    answer_if(bearer(&req).is_some_and(|t| {
        jsonwebtoken::decode::<serde_json::Value>(t, &verify.key, &verify.validation).is_ok()
    }))
}

/// The key `/mcp-jwt-parsed` verifies with, parsed once.
struct Parsed {
    key: aws_lc_rs::signature::ParsedPublicKey,
}

/// The claims `/mcp-jwt-parsed` checks, read in place.
#[derive(serde::Deserialize)]
struct Registered<'a> {
    exp: u64,
    #[serde(borrow)]
    iss: &'a str,
    #[serde(borrow)]
    aud: &'a str,
}

fn verify_parsed(parsed: &Parsed, token: &str) -> Option<()> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (message, signature) = token.rsplit_once('.')?;
    let (_header, payload) = message.split_once('.')?;
    let mut sig = [0u8; 512];
    let n = b64.decode_slice(signature, &mut sig).ok()?;
    parsed.key.verify_sig(message.as_bytes(), &sig[..n]).ok()?;
    let mut claims = [0u8; 1024];
    let n = b64.decode_slice(payload, &mut claims).ok()?;
    let c: Registered<'_> = serde_json::from_slice(&claims[..n]).ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    (c.exp >= now && c.iss == "https://bench.issuer.test" && c.aud == "https://bench.mcp.test/mcp")
        .then_some(())
}

async fn answer_jwt_parsed(
    req: HttpRequest,
    parsed: web::Data<Parsed>,
    _body: web::Bytes,
) -> HttpResponse {
    answer_if(bearer(&req).is_some_and(|t| verify_parsed(&parsed, t).is_some()))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let jwks: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/it/keys/jwks.json")).expect("fixture JWKS");
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["k1"].clone()).expect("JWK");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&["https://bench.issuer.test"]);
    validation.set_audience(&["https://bench.mcp.test/mcp"]);
    let verify = web::Data::new(Verify {
        key: DecodingKey::from_jwk(&jwk).expect("key"),
        validation,
    });
    let b64 = |s: &serde_json::Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.as_str().expect("a JWK member"))
            .expect("base64url")
    };
    let (n, e) = (b64(&jwks["k1"]["n"]), b64(&jwks["k1"]["e"]));
    let parsed = web::Data::new(Parsed {
        key: aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }
            .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
            .expect("RSA key"),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(verify.clone())
            .app_data(parsed.clone())
            .route("/mcp", web::post().to(answer))
            .route("/mcp-jwt", web::post().to(answer_jwt))
            .route("/mcp-jwt-parsed", web::post().to(answer_jwt_parsed))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
