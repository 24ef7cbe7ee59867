//! Test harness: real servers on 127.0.0.1:0, spoken to over real HTTP.

use mcp_runtime::{McpServer, McpServerBuilder, RunningServer};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const V_LATEST: &str = "2025-11-25";

/// Starts `builder` on an ephemeral loopback port with one worker.
pub fn start(builder: McpServerBuilder) -> RunningServer {
    let server: McpServer = builder.workers(1).build().expect("server builds");
    server.start("127.0.0.1:0").expect("server starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client")
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The JSON messages of an SSE body (`data:` lines), in order.
    pub fn events(&self) -> Vec<Value> {
        assert!(
            self.content_type().starts_with("text/event-stream"),
            "not SSE: {self:?}"
        );
        self.body
            .split("\n\n")
            .filter_map(|ev| ev.lines().find_map(|l| l.strip_prefix("data: ")))
            // The priming event of a resumable stream has empty data.
            .filter(|d| !d.is_empty())
            .map(|d| serde_json::from_str(d).expect("event data is JSON"))
            .collect()
    }
    /// The JSON-RPC message answering a request, whether sent as JSON or as SSE.
    pub fn message(&self) -> Value {
        if self.content_type().starts_with("text/event-stream") {
            self.events()
                .into_iter()
                .find(|m| m.get("id").is_some())
                .expect("a response event")
        } else {
            self.json()
        }
    }
}

/// A minimal MCP client over reqwest.
pub struct Client {
    pub http: reqwest::Client,
    pub url: String,
    pub session: Option<String>,
    pub version: String,
    pub accept: &'static str,
    /// Sent as `Authorization: Bearer …` when set.
    pub bearer: Option<String>,
}

impl Client {
    pub fn new(server: &RunningServer) -> Self {
        Client {
            url: server.url(),
            ..Client::new_raw()
        }
    }

    /// A client for a URL set afterwards.
    pub fn new_raw() -> Self {
        Client {
            http: http(),
            url: String::new(),
            session: None,
            version: V_LATEST.into(),
            accept: "application/json, text/event-stream",
            bearer: None,
        }
    }

    /// Connects: `initialize` (with `version`) and `notifications/initialized`.
    pub async fn connect(server: &RunningServer, version: &str) -> Self {
        Self::connect_as(server, version, None).await
    }

    /// Connects with a bearer token.
    pub async fn connect_as(server: &RunningServer, version: &str, bearer: Option<String>) -> Self {
        let mut c = Client::new(server);
        c.bearer = bearer;
        c.connect_raw(version).await
    }

    /// Connects this client (its URL and bearer already set).
    pub async fn connect_raw(mut self, version: &str) -> Self {
        let c = &mut self;
        let r = c.post_raw(&init_body(version)).await;
        assert_eq!(r.status, 200, "initialize: {r:?}");
        c.session = r
            .headers
            .get("mcp-session-id")
            .map(|v| v.to_str().expect("ascii").to_owned());
        c.version = r.json()["result"]["protocolVersion"]
            .as_str()
            .expect("version")
            .to_owned();
        let n = c
            .post_raw(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .await;
        assert_eq!(n.status, 202, "initialized: {n:?}");
        self
    }

    pub fn request(&self, method: reqwest::Method) -> reqwest::RequestBuilder {
        self.request_accepting(method, self.accept)
    }

    /// A request with this `Accept` header (and the session and version headers).
    pub fn request_accepting(
        &self,
        method: reqwest::Method,
        accept: &str,
    ) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .request(method, &self.url)
            .header("accept", accept);
        if let Some(s) = &self.session {
            rb = rb.header("mcp-session-id", s);
        }
        if let Some(b) = &self.bearer {
            rb = rb.header("authorization", format!("Bearer {b}"));
        }
        rb.header("mcp-protocol-version", &self.version)
    }

    pub async fn send(rb: reqwest::RequestBuilder) -> Reply {
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.expect("body");
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn post_raw(&self, body: &Value) -> Reply {
        Self::send(
            self.request(reqwest::Method::POST)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    /// Sends a request and returns its JSON-RPC response message.
    pub async fn rpc(&self, id: i64, method: &str, params: Value) -> Value {
        let r = self
            .post_raw(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}))
            .await;
        assert_eq!(r.status, 200, "{method}: {r:?}");
        r.message()
    }

    pub async fn call(&self, name: &str, arguments: Value) -> Value {
        self.rpc(
            7,
            "tools/call",
            json!({"name": name, "arguments": arguments}),
        )
        .await
    }
}

pub fn init_body(version: &str) -> Value {
    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name":"it","version":"1"}}})
}

/// The text of the first content item of a tools/call response.
pub fn text(resp: &Value) -> &str {
    resp["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {resp}"))
}

/// GET `url`: the status and the JSON body (`null` when the body is not JSON).
pub async fn get_json(url: String) -> (u16, Value) {
    let r = http().get(url).send().await.expect("get");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
