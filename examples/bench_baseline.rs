//! The ceiling for `scripts/bench`: a bare actix-web handler that answers `POST /mcp` with the
//! same JSON-RPC result the quickstart's `add` tool returns, doing no MCP work at all.
//! `PORT` sets the port (default 3001).

use actix_web::{App, HttpResponse, HttpServer, web};

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"42"}]}}"#;

async fn answer(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(BODY)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    HttpServer::new(|| App::new().route("/mcp", web::post().to(answer)))
        .bind(("127.0.0.1", port))?
        .run()
        .await
}
