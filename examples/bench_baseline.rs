//! The ceiling for `scripts/bench`: a bare actix-web handler that answers `POST /mcp` with the
//! same JSON-RPC result the quickstart's `add` tool returns, doing no MCP work at all; and
//! `POST /mcp-jwt`, the same handler verifying the bearer JWT with jsonwebtoken on every
//! request (RS256 against `bench_auth`'s key, `iss`, `aud`, `exp`): the ceiling for
//! authenticated requests without a cache. `PORT` sets the port (default 3001).

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

async fn answer_jwt(
    req: HttpRequest,
    verify: web::Data<Verify>,
    _body: web::Bytes,
) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token
        .map(|t| jsonwebtoken::decode::<serde_json::Value>(t, &verify.key, &verify.validation))
    {
        Some(Ok(_)) => HttpResponse::Ok()
            .content_type("application/json")
            .body(BODY),
        _ => HttpResponse::Unauthorized().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let jwks: serde_json::Value =
        serde_json::from_str(include_str!("../tests/it/keys/jwks.json")).expect("fixture JWKS");
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["k1"].clone()).expect("JWK");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&["https://bench.issuer.test"]);
    validation.set_audience(&["https://bench.mcp.test/mcp"]);
    let verify = web::Data::new(Verify {
        key: DecodingKey::from_jwk(&jwk).expect("key"),
        validation,
    });
    HttpServer::new(move || {
        App::new()
            .app_data(verify.clone())
            .route("/mcp", web::post().to(answer))
            .route("/mcp-jwt", web::post().to(answer_jwt))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
