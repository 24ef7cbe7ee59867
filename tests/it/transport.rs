//! Streamable HTTP: sessions, versions, response modes and every refusal.

use reqwest::Method;
use serde_json::json;

use crate::common::*;
use crate::fixtures;

#[tokio::test]
async fn initialize_creates_a_session_and_negotiates_the_version() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::new(&server);
    let r = c.post_raw(&init_body("2025-06-18")).await;
    assert_eq!(r.status, 200);
    let session = r
        .headers
        .get("mcp-session-id")
        .expect("session id")
        .to_str()
        .expect("ascii");
    assert_eq!(session.len(), 32);
    assert!(session.chars().all(|c| c.is_ascii_hexdigit()));
    let v = r.json();
    assert_eq!(v["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(
        v["result"]["serverInfo"],
        json!({"name":"it","version":"0.0.1"})
    );
    assert_eq!(v["result"]["instructions"], "test server");
    assert_eq!(
        v["result"]["capabilities"]["tools"],
        json!({"listChanged": true})
    );

    let r = c.post_raw(&init_body("1999-01-01")).await;
    assert_eq!(
        r.json()["result"]["protocolVersion"],
        V_LATEST,
        "unknown versions get the latest"
    );

    let mut bad = init_body(V_LATEST);
    bad["params"]
        .as_object_mut()
        .expect("params")
        .remove("protocolVersion");
    let r = c.post_raw(&bad).await;
    assert_eq!(r.json()["error"]["code"], -32602);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("protocolVersion")
    );
    server.stop().await;
}

#[tokio::test]
async fn requests_need_a_known_session() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let mut c = Client::new(&server);
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("missing Mcp-Session-Id header")
    );

    c.session = Some("0123456789abcdef0123456789abcdef".into());
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], -32001);
    server.stop().await;
}

#[tokio::test]
async fn ping_set_level_and_unknown_methods() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    assert_eq!(
        c.rpc(1, "ping", json!(null)).await,
        json!({"jsonrpc":"2.0","id":1,"result":{}})
    );
    assert_eq!(
        c.rpc(2, "logging/setLevel", json!({"level":"warning"}))
            .await["result"],
        json!({})
    );
    let e = c.rpc(3, "logging/setLevel", json!({"level":"loud"})).await;
    assert_eq!(e["error"]["code"], -32602);
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("got \"loud\"")
    );
    let e = c.rpc(4, "resources/list", json!({})).await;
    assert_eq!(
        e["error"],
        json!({"code":-32601,"message":"method `resources/list` is not supported by this server"})
    );
    let r = c.post_raw(&init_body(V_LATEST)).await;
    assert_eq!(
        r.status, 400,
        "initialize inside a session is refused: {r:?}"
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("this session is already initialized")
    );
    server.stop().await;
}

#[tokio::test]
async fn protocol_version_header_is_validated() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let mut c = Client::connect(&server, V_LATEST).await;
    c.version = "2020-01-01".into();
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"]["message"],
        "unsupported protocol version `2020-01-01`; this server supports 2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26"
    );
    assert_eq!(r.json()["error"]["code"], -32022);
    assert_eq!(r.json()["id"], 1, "the refusal names the request");
    assert_eq!(
        r.json()["error"]["data"],
        json!({"supported": ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"], "requested": "2020-01-01"})
    );
    // Any supported version is accepted, as the reference SDK does.
    c.version = "2025-03-26".into();
    assert_eq!(c.rpc(2, "ping", json!({})).await["result"], json!({}));
    server.stop().await;
}

#[tokio::test]
async fn notifications_and_responses_get_202() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","method":"notifications/whatever"}))
        .await;
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":"s1","result":{}}))
        .await;
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    server.stop().await;
}

#[tokio::test]
async fn malformed_messages_are_refused_precisely() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;
    let r = Client::send(
        c.request(Method::POST)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32700);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("invalid JSON: key must be a string")
    );
    assert_eq!(r.json()["id"], json!(null));

    let r = c
        .post_raw(&json!({"jsonrpc":"1.0","id":5,"method":"ping"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"],
        json!({"code":-32600,"message":"`jsonrpc` must be \"2.0\""})
    );
    assert_eq!(r.json()["id"], 5);

    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":{"x":1},"method":"ping"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32600);

    let r = c.post_raw(&json!(42)).await;
    assert_eq!(
        r.json()["error"]["message"],
        "a JSON-RPC message must be an object"
    );
    server.stop().await;
}

#[tokio::test]
async fn content_type_accept_and_body_size_are_enforced() {
    let (b, _) = fixtures::builder();
    let server = start(b.max_body_bytes(1024));
    let c = Client::connect(&server, V_LATEST).await;
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string();

    let r = Client::send(
        c.request(Method::POST)
            .header("content-type", "text/plain")
            .body(ping.clone()),
    )
    .await;
    assert_eq!(r.status, 415);
    assert_eq!(
        r.json()["error"]["message"],
        "Content-Type must be application/json, got `text/plain`"
    );

    let r = Client::send(
        c.request_accepting(Method::POST, "text/html")
            .header("content-type", "application/json")
            .body(ping.clone()),
    )
    .await;
    assert_eq!(r.status, 406);

    let big = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x".repeat(2000)}}});
    let r = c.post_raw(&big).await;
    assert_eq!(r.status, 413);
    assert_eq!(
        r.json()["error"]["message"],
        "the request body is larger than this server's limit of 1024 bytes"
    );

    // Chunked (no Content-Length) bodies are limited too.
    let stream =
        futures_util::stream::iter(vec![Ok::<_, std::io::Error>(big.to_string().into_bytes())]);
    let r = Client::send(
        c.request(Method::POST)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream)),
    )
    .await;
    assert_eq!(r.status, 413);

    // Accept: text/event-stream alone gets SSE even for simple requests.
    let r = Client::send(
        c.request_accepting(Method::POST, "text/event-stream")
            .header("content-type", "application/json")
            .body(ping),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.events(),
        vec![json!({"jsonrpc":"2.0","id":1,"result":{}})]
    );
    server.stop().await;
}

#[tokio::test]
async fn batches_only_in_2025_03_26() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let old = Client::connect(&server, "2025-03-26").await;
    assert_eq!(old.version, "2025-03-26");
    let batch = json!([
        {"jsonrpc":"2.0","id":1,"method":"ping"},
        {"jsonrpc":"2.0","method":"notifications/whatever"},
        {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}},
        {"jsonrpc":"2.0","id":3,"method":"nope"}
    ]);
    let r = old.post_raw(&batch).await;
    assert_eq!(r.status, 200);
    let mut replies = r.json().as_array().expect("array").clone();
    replies.sort_by_key(|m| m["id"].as_i64());
    assert_eq!(replies.len(), 3);
    assert_eq!(replies[0]["result"], json!({}));
    assert_eq!(replies[1]["result"]["content"][0]["text"], "hi");
    assert_eq!(replies[2]["error"]["code"], -32601);

    let only_notes = json!([{"jsonrpc":"2.0","method":"notifications/a"}]);
    assert_eq!(old.post_raw(&only_notes).await.status, 202);
    assert_eq!(old.post_raw(&json!([])).await.status, 400);

    let new = Client::connect(&server, V_LATEST).await;
    let r = new.post_raw(&batch).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"]["message"],
        "JSON-RPC batches are not allowed in protocol version 2025-11-25 (only in 2025-03-26)"
    );
    server.stop().await;
}

#[tokio::test]
async fn delete_ends_the_session_and_its_get_stream() {
    let (b, _) = fixtures::builder();
    let server = start(b);
    let c = Client::connect(&server, V_LATEST).await;

    let mut resp = c
        .request_accepting(Method::GET, "text/event-stream")
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let first = resp.chunk().await.expect("read").expect("a first chunk");
    assert_eq!(&first[..], b": keep-alive\n\n");
    let stream_done = tokio::spawn(async move { resp.text().await.expect("stream body") });

    let r = Client::send(c.request(Method::DELETE)).await;
    assert_eq!(r.status, 200);
    let body = tokio::time::timeout(std::time::Duration::from_secs(5), stream_done)
        .await
        .expect("the GET stream ends when its session is deleted")
        .expect("join");
    assert!(
        body.is_empty() || body.starts_with(": keep-alive"),
        "{body:?}"
    );

    let r = c
        .post_raw(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .await;
    assert_eq!(r.status, 404);
    let r = Client::send(c.request(Method::DELETE)).await;
    assert_eq!(r.status, 404);
    let r = Client::send(c.request_accepting(Method::GET, "application/json")).await;
    assert_eq!(r.status, 406);
    let r = Client::send(Client::new(&server).request(Method::DELETE)).await;
    assert_eq!(r.status, 400);
    let r = Client::send(Client::new(&server).request(Method::PUT)).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, POST, DELETE");
    server.stop().await;
}

#[tokio::test]
async fn stateless_mode_has_no_sessions() {
    let (b, _) = fixtures::builder();
    let server = start(b.stateless(true));
    let c = Client::new(&server);
    let r = c.post_raw(&init_body(V_LATEST)).await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("mcp-session-id").is_none());
    let resp = c.call("echo", json!({"text":"alone"})).await;
    assert_eq!(text(&resp), "alone");
    assert_eq!(
        Client::send(c.request_accepting(Method::GET, "text/event-stream"))
            .await
            .status,
        405
    );
    assert_eq!(Client::send(c.request(Method::DELETE)).await.status, 405);
    server.stop().await;
}

#[tokio::test]
async fn dns_rebinding_protection() {
    let (b, _) = fixtures::builder();
    let server = start(b.allowed_origins(["https://app.example.com"]));
    let c = Client::new(&server);
    let init = init_body(V_LATEST).to_string();
    let post = |host: Option<&str>, origin: Option<&str>| {
        let mut rb = c
            .request(Method::POST)
            .header("content-type", "application/json")
            .body(init.clone());
        if let Some(h) = host {
            rb = rb.header("host", h);
        }
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        Client::send(rb)
    };
    let r = post(Some("evil.example.com"), Some("http://evil.example.com")).await;
    assert_eq!(r.status, 403);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("Host `evil.example.com` is not allowed")
    );
    let r = post(None, Some("http://evil.example.com")).await;
    assert_eq!(r.status, 403);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("Origin `http://evil.example.com` is not allowed")
    );
    assert_eq!(
        post(Some("localhost:1234"), Some("http://localhost:1234"))
            .await
            .status,
        200
    );
    assert_eq!(post(Some("[::1]:80"), None).await.status, 200);
    assert_eq!(
        post(None, Some("https://app.example.com")).await.status,
        200
    );
    assert_eq!(post(None, Some("null")).await.status, 403);
    server.stop().await;
}

#[tokio::test]
async fn refused_requests_keep_the_connection_open() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (builder, _) = fixtures::builder();
    let server = start(builder);
    let mut sock = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let host = server.addr();
    // A refusal before the body is read (wrong Content-Type), then a good request, on one
    // connection: both must be answered.
    let request = |ct: &str| {
        format!(
            "POST /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ct}\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    sock.write_all(request("text/plain").as_bytes())
        .await
        .expect("write");
    sock.write_all(request("application/json").as_bytes())
        .await
        .expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let text = String::from_utf8_lossy(&got);
        // Both status lines, and the second response's head complete.
        if text.matches("HTTP/1.1 ").count() >= 2
            && text
                .rsplit("HTTP/1.1 ")
                .next()
                .is_some_and(|r| r.contains("\r\n\r\n"))
        {
            break;
        }
        match tokio::time::timeout(std::time::Duration::from_millis(500), sock.read(&mut buf)).await
        {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 415"), "{text}");
    assert_eq!(
        text.matches("HTTP/1.1 ").count(),
        2,
        "the second request is answered on the same connection:\n{text}"
    );
    assert!(
        !text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    server.stop().await;
}

/// A flood of `initialize` cannot lock others out: one caller keeps at most its share (its
/// oldest sessions go), and a full server makes room by evicting the least recently used idle
/// session instead of refusing a newcomer.
#[tokio::test]
async fn a_session_flood_evicts_the_flooders_oldest_not_the_newcomer() {
    use std::time::Duration;

    use mcp_runtime::McpServer;
    let issuer = crate::auth::Issuer::start(&["k1"]);
    let oauth = issuer.oauth();
    let server = start(
        McpServer::builder()
            .oauth(oauth)
            .tools(mcp_runtime::tools![crate::fixtures::echo])
            .max_sessions(20)
            .max_sessions_per_caller(4)
            .session_idle_timeout(Duration::from_secs(600)),
    );
    let url = server.url();
    let token = |sub: &str| {
        crate::auth::sign(
            "k1",
            "k1",
            &json!({"iss": crate::auth::ISS, "sub": sub, "aud": url, "iat": crate::auth::now(),
                    "exp": crate::auth::now() + 600}),
        )
    };
    let mut flood = Vec::new();
    for _ in 0..40 {
        flood.push(Client::connect_as(&server, V_LATEST, Some(token("mallory"))).await);
    }
    let ann = Client::connect_as(&server, V_LATEST, Some(token("ann"))).await;
    assert_eq!(text(&ann.call("echo", json!({"text": "hi"})).await), "hi");
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let mut statuses = Vec::new();
    for c in &flood {
        statuses.push(c.post_raw(&body).await.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        4,
        "mallory keeps 4 sessions: {statuses:?}"
    );
    assert!(
        statuses[36..].iter().all(|s| *s == 200),
        "the newest survive: {statuses:?}"
    );
    assert!(
        statuses[..36].iter().all(|s| *s == 404),
        "the oldest went: {statuses:?}"
    );

    // Full (many callers): the least recently used idle session makes room.
    let mut crowd = Vec::new();
    for i in 0..19 {
        crowd.push(Client::connect_as(&server, V_LATEST, Some(token(&format!("u{i}")))).await);
    }
    // ann is now the least recently used of 20+ sessions (the cap is 20).
    let late = Client::connect_as(&server, V_LATEST, Some(token("late"))).await;
    assert_eq!(text(&late.call("echo", json!({"text": "in"})).await), "in");
    server.stop().await;
}
