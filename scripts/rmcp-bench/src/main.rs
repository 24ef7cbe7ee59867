//! rmcp's streamable HTTP server with the `add` tool, behind a bearer middleware that verifies
//! RS256 tokens (signature, `iss`, `aud`, `exp`) with jsonwebtoken on every request, as an rmcp
//! user would write it. `PORT`, `JWK_N` and `JWK_E` (the key's base64url modulus and exponent).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddRequest {
    a: i64,
    b: i64,
}

#[derive(Clone)]
struct Bench {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Bench {
    #[tool(description = "Add two numbers.")]
    fn add(&self, Parameters(AddRequest { a, b }): Parameters<AddRequest>) -> String {
        (a + b).to_string()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Bench {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

async fn bearer(State(v): State<Arc<Verifier>>, req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    match token.map(|t| jsonwebtoken::decode::<serde_json::Value>(t, &v.key, &v.validation)) {
        Some(Ok(_)) => next.run(req).await,
        _ => (StatusCode::UNAUTHORIZED, [("www-authenticate", "Bearer")]).into_response(),
    }
}

#[tokio::main]
async fn main() {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("set {k}"));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&["https://bench.issuer.test"]);
    validation.set_audience(&["https://bench.mcp.test/mcp"]);
    let verifier = Arc::new(Verifier {
        key: DecodingKey::from_rsa_components(&env("JWK_N"), &env("JWK_E")).expect("an RSA key"),
        validation,
    });
    let service = StreamableHttpService::new(
        || {
            Ok(Bench {
                tool_router: Bench::tool_router(),
            })
        },
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default().with_json_response(true),
    );
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(verifier, bearer));
    // TCP_NODELAY, as actix-web sets it: without it, a response written in two segments waits
    // for the client's delayed ACK (about 40 ms a request on loopback).
    let listener =
        tokio::net::TcpListener::bind(("127.0.0.1", env("PORT").parse::<u16>().expect("PORT")))
            .await
            .expect("bind")
            .tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
    axum::serve(listener, app).await.expect("serve");
}
