//! The 2026-07-28 revision over real HTTP, beside the older ones on the same endpoint: no
//! session and no `initialize`; `_meta` and the headers checked against the body with the
//! revision's errors, ids and statuses; `server/discover`; `resultType` and caching hints;
//! the revision's capability error, log levels and resource-not-found; OAuth unchanged.

use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;
use mcp_runtime::{Resource, ResourceRequest, Sampling};
use serde_json::{Value, json};

use crate::common::*;

pub(crate) const REVISION: &str = "2026-07-28";

/// Add two numbers
#[mcp_tool]
pub(crate) async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Asks the client's LLM
#[mcp_tool]
pub(crate) async fn ask_llm(ctx: Context) -> Result<String, ToolError> {
    Ok(ctx.sample(Sampling::new(5).user("hi")).await?.text())
}

/// Logs at info and at error
#[mcp_tool]
pub(crate) async fn chatty(ctx: Context) -> &'static str {
    ctx.info("an info line");
    ctx.error("an error line");
    "done"
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Name {
    name: String,
}

/// Two rounds: a name (unnamed key), then a confirmation (named key)
#[mcp_tool]
pub(crate) async fn greet_twice(ctx: Context) -> Result<String, ToolError> {
    let name = match ctx.elicit::<Name>("Your name?").await? {
        mcp_runtime::Elicitation::Accept(n) => n.name,
        other => return Ok(format!("no name ({})", other.action())),
    };
    let sure = ctx
        .input("sure")
        .elicit_schema("Sure?", json!({"type": "object", "properties": {}}))
        .await?;
    Ok(format!("Hello, {name} ({})", sure.action()))
}

/// Weather for a region, which also rides in the `Mcp-Param-Region` header
#[mcp_tool]
pub(crate) async fn weather(#[header("Region")] region: String, days: Option<u8>) -> String {
    format!("{region}: sunny for {} days", days.unwrap_or(1))
}

/// A haiku about a topic the user chooses
#[mcp_prompt]
pub(crate) async fn haiku(ctx: Context) -> Result<String, ToolError> {
    let topic = ctx
        .input("topic")
        .elicit_schema(
            "Which topic?",
            json!({"type": "object", "properties": {"topic": {"type": "string"}}}),
        )
        .await?;
    Ok(match topic {
        mcp_runtime::Elicitation::Accept(v) => {
            format!("A haiku about {}", v["topic"].as_str().unwrap_or("?"))
        }
        other => format!("no haiku ({})", other.action()),
    })
}

/// Admins only
#[mcp_tool(scopes = "admin")]
pub(crate) async fn purge() -> &'static str {
    "purged"
}

pub(crate) fn meta(extra: Value) -> Value {
    let mut m = json!({
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "it", "version": "1"},
    });
    if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    m
}

/// A 2026-07-28 request: headers from the body unless `headers` overrides them.
pub(crate) async fn request(
    url: &str,
    id: i64,
    method: &str,
    mut params: Value,
    headers: &[(&str, Option<&str>)],
    bearer: Option<&str>,
) -> Reply {
    if params.get("_meta").is_none() {
        params["_meta"] = meta(json!({}));
    }
    let name = params
        .get("name")
        .or_else(|| params.get("uri"))
        .or_else(|| params.get("taskId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut h: Vec<(String, Option<String>)> = vec![
        ("mcp-protocol-version".into(), Some(REVISION.into())),
        ("mcp-method".into(), Some(method.into())),
    ];
    if let Some(n) = name {
        h.push(("mcp-name".into(), Some(n)));
    }
    for (k, v) in headers {
        h.retain(|(name, _)| name != k);
        h.push(((*k).into(), v.map(str::to_owned)));
    }
    let mut rb = http()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in h {
        if let Some(v) = v {
            rb = rb.header(k, v);
        }
    }
    if let Some(b) = bearer {
        rb = rb.header("authorization", format!("Bearer {b}"));
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    Client::send(rb.body(body.to_string())).await
}

pub(crate) fn server() -> mcp_runtime::RunningServer {
    start(
        McpServer::builder()
            .name("modern")
            .tools(tools![add, ask_llm, chatty, greet_twice, weather])
            .prompt(<haiku as PromptDef>::prompt())
            .resource(
                Resource::new("file:///a", "a")
                    .read(|_r: ResourceRequest| async { Ok::<_, ToolError>("a") }),
            ),
    )
}

#[tokio::test]
pub(crate) async fn a_2026_request_needs_no_session_beside_older_clients() {
    let server = server();
    let url = server.url();
    // An older client with a session, at the same time.
    let old = Client::connect(&server, V_LATEST).await;
    assert!(old.session.is_some());

    let r = request(
        &url,
        1,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 2, "b": 40}}),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.headers.get("mcp-session-id").is_none());
    let v = r.message();
    assert_eq!(v["id"], 1);
    assert_eq!(v["result"]["resultType"], "complete");
    assert_eq!(v["result"]["content"][0]["text"], "42");
    assert_eq!(text(&old.call("add", json!({"a": 1, "b": 1})).await), "2");

    let d = request(&url, 2, "server/discover", json!({}), &[], None)
        .await
        .json();
    let result = &d["result"];
    assert_eq!(
        result["supportedVersions"],
        json!([REVISION, "2025-11-25", "2025-06-18", "2025-03-26"])
    );
    assert_eq!(
        result["capabilities"]["resources"],
        json!({"listChanged": true, "subscribe": true})
    );
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "modern"
    );
    assert_eq!(result["resultType"], "complete");

    let list = request(&url, 3, "tools/list", json!({}), &[], None)
        .await
        .json();
    assert_eq!(
        (&list["result"]["ttlMs"], &list["result"]["cacheScope"]),
        (&json!(0), &json!("public"))
    );
    assert_eq!(list["result"]["tools"].as_array().map(Vec::len), Some(5));

    let missing = request(
        &url,
        4,
        "resources/read",
        json!({"uri": "file:///nope"}),
        &[],
        None,
    )
    .await;
    let e = missing.json();
    assert_eq!(
        (e["id"].clone(), e["error"]["code"].clone()),
        (json!(4), json!(-32602))
    );
    assert_eq!(e["error"]["data"], json!({"uri": "file:///nope"}));
    server.stop().await;
}

#[tokio::test]
pub(crate) async fn meta_headers_and_methods_are_refused_precisely() {
    let server = server();
    let url = server.url();
    let add_call = json!({"name": "add", "arguments": {"a": 1, "b": 2}});
    type Case<'a> = (
        Value,
        Vec<(&'a str, Option<&'a str>)>,
        &'a str,
        u16,
        i64,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            json!({"_meta": {}}),
            vec![],
            "tools/list",
            400,
            -32602,
            "`params._meta` lacks `io.modelcontextprotocol/protocolVersion` (a string)",
        ),
        (
            json!({"_meta": meta(json!({"io.modelcontextprotocol/protocolVersion": "2026-01-01"}))}),
            vec![],
            "tools/list",
            400,
            -32020,
            "the MCP-Protocol-Version header (`2026-07-28`) does not match `_meta` `io.modelcontextprotocol/protocolVersion` (2026-01-01)",
        ),
        (
            add_call.clone(),
            vec![("mcp-method", Some("tools/list"))],
            "tools/call",
            400,
            -32020,
            "the Mcp-Method header (`tools/list`) does not match the body's method (`tools/call`)",
        ),
        (
            add_call.clone(),
            vec![("mcp-name", None)],
            "tools/call",
            400,
            -32020,
            "the Mcp-Name header is required for tools/call (the body names `add`)",
        ),
        (
            add_call.clone(),
            vec![("mcp-name", Some("sub"))],
            "tools/call",
            400,
            -32020,
            "the Mcp-Name header (`sub`) does not match the body's `add`",
        ),
        (
            json!({}),
            vec![],
            "ping",
            404,
            -32601,
            "`ping` does not exist in protocol version 2026-07-28",
        ),
        (
            json!({}),
            vec![],
            "initialize",
            404,
            -32601,
            "`initialize` does not exist in protocol version 2026-07-28",
        ),
        (
            json!({}),
            vec![],
            "tools/frobnicate",
            404,
            -32601,
            "method `tools/frobnicate` is not supported by this server",
        ),
    ];
    for (i, (params, headers, method, status, code, message)) in cases.into_iter().enumerate() {
        let id = 100 + i as i64;
        let r = request(&url, id, method, params, &headers, None).await;
        assert_eq!(r.status, status, "{message}: {r:?}");
        let v = r.json();
        assert_eq!(
            (v["id"].as_i64(), v["error"]["code"].as_i64()),
            (Some(id), Some(code)),
            "{v}"
        );
        assert_eq!(v["error"]["message"], message);
    }
    // A header sent twice could say two things: refused.
    let twice = http()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", REVISION)
        .header("mcp-method", "tools/list")
        .header("mcp-method", "tools/call")
        .body(
            json!({"jsonrpc": "2.0", "id": 8, "method": "tools/list",
                   "params": {"_meta": meta(json!({}))}})
            .to_string(),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(twice.status(), 400);
    let v: Value = twice.json().await.expect("JSON");
    assert_eq!(
        v["error"]["message"],
        "the mcp-method header is sent more than once; send it once"
    );
    // Whitespace around a header value is not part of it.
    let r = request(
        &url,
        9,
        "tools/call",
        add_call,
        &[("mcp-name", Some("  add "))],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");

    // A version nobody speaks: named, with what is supported, and the request's id.
    let r = request(
        &url,
        7,
        "tools/list",
        json!({"_meta": meta(json!({"io.modelcontextprotocol/protocolVersion": "v9"}))}),
        &[("mcp-protocol-version", Some("v9"))],
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(
        (v["id"].clone(), v["error"]["code"].clone()),
        (json!(7), json!(-32022))
    );
    assert_eq!(v["error"]["data"]["requested"], "v9");
    assert_eq!(v["error"]["data"]["supported"][0], REVISION);
    server.stop().await;
}

#[tokio::test]
pub(crate) async fn capabilities_and_log_levels_come_from_the_request() {
    let server = server();
    let url = server.url();
    let r = request(
        &url,
        1,
        "tools/call",
        json!({"name": "ask_llm", "arguments": {}}),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    let v = r.json();
    assert_eq!(v["error"]["code"], -32021);
    assert_eq!(
        v["error"]["data"],
        json!({"requiredCapabilities": {"sampling": {}}})
    );

    let quiet = request(
        &url,
        2,
        "tools/call",
        json!({"name": "chatty", "arguments": {}}),
        &[],
        None,
    )
    .await;
    assert_eq!(
        quiet.content_type(),
        "application/json",
        "no log without a logLevel: {quiet:?}"
    );
    assert_eq!(quiet.json()["result"]["content"][0]["text"], "done");
    let loud = request(
        &url,
        3,
        "tools/call",
        json!({"name": "chatty", "arguments": {},
        "_meta": meta(json!({"io.modelcontextprotocol/logLevel": "warning"}))}),
        &[],
        None,
    )
    .await;
    let events = loud.events();
    let logs: Vec<&Value> = events
        .iter()
        .filter(|e| e["method"] == "notifications/message")
        .collect();
    assert_eq!(logs.len(), 1, "{events:?}");
    assert_eq!(logs[0]["params"]["data"], "an error line");
    assert_eq!(
        events.last().expect("result")["result"]["resultType"],
        "complete"
    );
    server.stop().await;
}

#[tokio::test]
pub(crate) async fn oauth_and_the_step_up_are_unchanged_under_the_revision() {
    let oauth = DevProvider::new()
        .auto_approve(true)
        .access_token_ttl(Duration::from_secs(3600))
        .into_oauth()
        .expect("dev server");
    let server = start(McpServer::builder().oauth(oauth).tools(tools![add, purge]));
    let url = server.url();
    let r = request(&url, 1, "tools/list", json!({}), &[], None).await;
    assert_eq!(r.status, 401);
    assert!(r.headers.get("www-authenticate").is_some());
    let token = crate::client::first_token(&url).await;
    let r = request(
        &url,
        2,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 1, "b": 1}}),
        &[],
        Some(&token),
    )
    .await;
    assert_eq!(r.message()["result"]["content"][0]["text"], "2");
    let r = request(
        &url,
        3,
        "tools/call",
        json!({"name": "purge", "arguments": {}}),
        &[],
        Some(&token),
    )
    .await;
    assert_eq!(r.status, 403, "{r:?}");
    let challenge = r
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    // SEP-2350: the scopes this operation needs, not those already granted as well.
    assert!(challenge.contains(r#"scope="admin""#), "{challenge}");
    assert_eq!(r.json()["id"], 3);
    server.stop().await;
}

#[tokio::test]
pub(crate) async fn headers_declared_by_a_tool_must_say_what_the_body_says() {
    let server = server();
    let url = server.url();
    let list = request(&url, 1, "tools/list", json!({}), &[], None)
        .await
        .json();
    let weather = list["result"]["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "weather"))
        .expect("weather")
        .clone();
    assert_eq!(
        weather["inputSchema"]["properties"]["region"]["x-mcp-header"],
        "Region"
    );
    let call = |region: &str| json!({"name": "weather", "arguments": {"region": region}});
    let ok = request(
        &url,
        2,
        "tools/call",
        call("Île-de-France"),
        &[("mcp-param-region", Some("=?base64?w45sZS1kZS1GcmFuY2U=?="))],
        None,
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(
        ok.message()["result"]["content"][0]["text"],
        "Île-de-France: sunny for 1 days"
    );
    let literal = request(
        &url,
        3,
        "tools/call",
        call("north"),
        &[("mcp-param-region", Some("north"))],
        None,
    )
    .await;
    assert_eq!(literal.status, 200, "{literal:?}");
    for (id, header, message) in [
        (
            4,
            None,
            "the Mcp-Param-Region header is required: the body gives `region`",
        ),
        (
            5,
            Some("south"),
            "the Mcp-Param-Region header does not match the argument `region`",
        ),
        (
            6,
            Some("=?base64?bm9ydGg?="),
            "the Mcp-Param-Region header: its Base64 is invalid",
        ),
    ] {
        let r = request(
            &url,
            id,
            "tools/call",
            call("north"),
            &[("mcp-param-region", header)],
            None,
        )
        .await;
        assert_eq!(r.status, 400, "{r:?}");
        let v = r.json();
        assert_eq!(v["error"]["code"], -32020);
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(message)),
            "{v}"
        );
    }
    // The library client copies the argument into the header itself.
    let client = mcp_runtime::client::Client::builder(&url)
        .protocol_version(REVISION)
        .connect()
        .await
        .expect("connects");
    let r = client
        .call_tool("weather", json!({"region": "  spaced ", "days": 3}))
        .await
        .expect("a result");
    assert_eq!(r.text(), "  spaced : sunny for 3 days");
    server.stop().await;
}

#[tokio::test]
pub(crate) async fn a_header_that_is_not_visible_ascii_is_refused_as_such() {
    let server = server();
    let url = server.url();
    let r = request(
        &url,
        1,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 1, "b": 2}}),
        &[("mcp-name", Some("add\u{e9}"))],
        None,
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    let e = &r.json()["error"];
    assert_eq!(e["code"], -32020);
    assert_eq!(
        e["message"],
        "the mcp-name header is not visible ASCII text; send such a value as \
         `=?base64?...?=` (Base64 of its UTF-8)"
    );
    let r = request(
        &url,
        2,
        "tools/call",
        json!({"name": "weather", "arguments": {"region": "north"}}),
        &[("mcp-param-region", Some("n\u{f6}rth"))],
        None,
    )
    .await;
    assert_eq!(r.json()["error"]["code"], -32020, "{r:?}");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("mcp-param-region header is not visible ASCII")),
        "{r:?}"
    );
    server.stop().await;
}
