//! An MCP server inside an actix-web application you already have: the app keeps its own
//! routes and state, and gains the MCP endpoint at `/mcp` with its OAuth (here the embedded
//! development authorization server, whose discovery documents and sign-in pages are mounted
//! at the root, where clients look for them).
//!
//! ```sh
//! cargo run --example mounted
//! curl http://127.0.0.1:3000/api/orders      # the app's own route
//! npx @modelcontextprotocol/inspector         # Streamable HTTP, http://127.0.0.1:3000/mcp
//! ```

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mcp_runtime::actix_web::{App, HttpResponse, HttpServer, web};
use mcp_runtime::prelude::*;
use serde_json::json;

/// The application's own state, shared by its routes and the MCP tools.
#[derive(Default)]
struct Orders {
    placed: AtomicU64,
}

/// How many orders the shop has taken.
#[mcp_tool(name = "order-count", read_only)]
async fn order_count(orders: State<Arc<Orders>>) -> u64 {
    orders.placed.load(Ordering::Relaxed)
}

/// Places an order (needs the `orders:write` scope).
#[mcp_tool(name = "place-order", scopes = "orders:write")]
async fn place_order(orders: State<Arc<Orders>>, item: String) -> String {
    let n = orders.placed.fetch_add(1, Ordering::Relaxed) + 1;
    format!("order {n}: {item}")
}

#[mcp_server(
    name = "shop",
    title = "The Shop",
    version = "1.0.0",
    oauth = "dev",
    tools = [order_count, place_order]
)]
struct Shop;

/// The app's own page.
async fn home() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("The Shop. MCP clients: /mcp\n")
}

/// The app's own API, on the same state as the tools.
async fn order_stats(orders: web::Data<Arc<Orders>>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"placed": orders.placed.load(Ordering::Relaxed)}))
}

#[mcp_runtime::actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    mcp_runtime::config::init_tracing();
    // Bind first: a mounted server never sees its address, so its public URL (the OAuth
    // resource and issuer) comes from MCP_URL or from the address bound here.
    let listener = TcpListener::bind(mcp_runtime::config::bind_addr_from_env()?)?;
    let addr = listener.local_addr()?;
    let public = std::env::var("MCP_URL").unwrap_or_else(|_| format!("http://{addr}/mcp"));

    let orders = Arc::new(Orders::default());
    let mcp = Shop::builder()
        .state(orders.clone())
        .public_url(public.as_str())
        .build()?;
    tracing::info!("The Shop at http://{addr}/, its MCP endpoint at {public}");
    println!("listening on http://{addr}/mcp");

    HttpServer::new(move || {
        let mcp = mcp.clone();
        App::new()
            .app_data(web::Data::new(orders.clone()))
            .route("/", web::get().to(home))
            .route("/api/orders", web::get().to(order_stats))
            // The endpoint, its discovery documents and the dev server's pages.
            .configure(|cfg| mcp.configure(cfg))
    })
    .h1_allow_half_closed(false)
    .shutdown_timeout(5)
    .listen(listener)?
    .run()
    .await?;
    Ok(())
}
