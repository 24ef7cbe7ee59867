//! The client and a server of the legacy HTTP+SSE transport (2024-11-05), over real HTTP: the
//! POST of `initialize` refused with 405, the GET's event stream naming the endpoint, then the
//! whole session on that transport; with the fallback off, an error that names the transport;
//! an endpoint on another origin refused (the client's credentials would go there).

use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use mcp_runtime::client::Client;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A legacy server: `GET /sse` names `endpoint`; `POST <endpoint>` answers on the stream.
struct Legacy {
    stream: Mutex<Option<mpsc::UnboundedSender<Bytes>>>,
    endpoint: String,
}

fn event(kind: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
}

async fn sse(state: web::Data<Arc<Legacy>>) -> HttpResponse {
    let (tx, rx) = mpsc::unbounded_channel();
    let _ = tx.send(event("endpoint", &state.endpoint));
    *state.stream.lock().expect("lock") = Some(tx);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(body)
}

async fn message(state: web::Data<Arc<Legacy>>, body: web::Json<Value>) -> HttpResponse {
    let m = body.into_inner();
    let answer = match m["method"].as_str() {
        Some("initialize") => Some(
            json!({"protocolVersion": "2024-11-05", "capabilities": {"tools": {}},
            "serverInfo": {"name": "legacy", "version": "0.1"}}),
        ),
        Some("tools/list") => {
            Some(json!({"tools": [{"name": "hello", "inputSchema": {"type": "object"}}]}))
        }
        Some("tools/call") => {
            Some(json!({"content": [{"type": "text", "text": "hello from 2024"}]}))
        }
        _ => None,
    };
    if let (Some(result), Some(id)) = (answer, m.get("id"))
        && let Some(tx) = state.stream.lock().expect("lock").as_ref()
    {
        let _ = tx.send(event(
            "message",
            &json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
        ));
    }
    HttpResponse::Accepted().finish()
}

async fn refuse(_req: HttpRequest) -> HttpResponse {
    HttpResponse::MethodNotAllowed().body("Method Not Allowed")
}

/// Starts one; its `/sse` URL.
fn start(endpoint: &str) -> (String, actix_web::dev::ServerHandle) {
    let state = Arc::new(Legacy {
        stream: Mutex::new(None),
        endpoint: endpoint.to_owned(),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/sse", listener.local_addr().expect("addr"));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .route("/sse", web::get().to(sse))
            .route("/sse", web::post().to(refuse))
            .route("/messages", web::post().to(message))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (url, handle)
}

#[actix_web::test]
async fn the_client_falls_back_to_legacy_sse_or_says_why_not() {
    let (url, handle) = start("/messages?session=1");
    let client = Client::builder(&url).connect().await.expect("falls back");
    assert_eq!(client.server().name(), "legacy");
    assert_eq!(client.server().protocol_version, "2024-11-05");
    let tools = client.list_tools().await.expect("tools");
    assert_eq!(tools[0].name, "hello");
    let r = client.call_tool("hello", json!({})).await.expect("call");
    assert_eq!(r.text(), "hello from 2024");
    client.close().await;

    let e = Client::builder(&url)
        .legacy_sse(false)
        .connect()
        .await
        .expect_err("fallback off");
    assert!(
        e.to_string()
            .contains("speaks the legacy HTTP+SSE transport (2024-11-05)"),
        "{e}"
    );
    handle.stop(false).await;

    // An endpoint on another origin: the client's messages (and credentials) do not go there.
    let (url, handle) = start("http://attacker.example/messages");
    let e = Client::builder(&url)
        .connect()
        .await
        .expect_err("off-origin");
    assert!(e.to_string().contains("on another origin"), "{e}");
    handle.stop(false).await;
}
