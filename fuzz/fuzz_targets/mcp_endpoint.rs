//! The MCP endpoint end to end: arbitrary JSON-RPC bodies (envelopes, batches, `tools/call`
//! arguments for typed tools, resources, prompts) under the protocol revisions' header sets.
//! The server must answer every one without a 5xx, and a JSON answer must be JSON.
#![no_main]

use std::cell::OnceCell;

use libfuzzer_sys::fuzz_target;
use mcp_runtime::actix_web::test::TestRequest;
use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

#[path = "common.rs"]
mod common;

/// Add two numbers.
#[mcp_tool(read_only)]
async fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// A nested input.
#[derive(Deserialize, JsonSchema)]
struct Order {
    /// Items.
    items: Vec<Item>,
    /// A note.
    note: Option<String>,
}

/// One item.
#[derive(Deserialize, JsonSchema)]
struct Item {
    /// Its name.
    name: String,
    /// How many.
    quantity: u32,
}

/// Count an order's items.
#[mcp_tool]
async fn order(Input(o): Input<Order>) -> Result<String, ToolError> {
    if o.items.is_empty() {
        return Err(ToolError::new("an order needs items"));
    }
    let total: u64 = o.items.iter().map(|i| u64::from(i.quantity)).sum();
    let names: Vec<&str> = o.items.iter().map(|i| i.name.as_str()).collect();
    Ok(format!(
        "{total} of {} {}",
        names.join(","),
        o.note.unwrap_or_default()
    ))
}

/// Echo a name.
#[mcp_resource(uri = "names://{name}", name = "name", mime_type = "text/plain")]
async fn name(name: String) -> String {
    name
}

/// Greet.
#[mcp_prompt]
async fn hello(
    /// Whom
    who: String,
) -> String {
    format!("hello {who}")
}

#[mcp_server(name = "fuzz", version = "0.0.0", tools = [add, order], resources = [name], prompts = [hello])]
struct Fuzz;

thread_local! {
    static STATEFUL: OnceCell<&'static common::Harness> = const { OnceCell::new() };
    static STATELESS: OnceCell<&'static common::Harness> = const { OnceCell::new() };
}

fn post(body: &[u8], mode: u8) -> TestRequest {
    let mut req = TestRequest::post()
        .uri("/mcp")
        .insert_header(("host", "127.0.0.1:3000"))
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_vec());
    req = match mode % 3 {
        0 => req.insert_header(("accept", "application/json, text/event-stream")),
        1 => req.insert_header(("accept", "application/json")),
        _ => req,
    };
    match (mode / 3) % 4 {
        0 => req.insert_header(("mcp-protocol-version", "2025-11-25")),
        1 => {
            // The 2026-07-28 headers, named after the body where it says (so that the checks
            // past the header comparison are reached).
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            req = req.insert_header(("mcp-protocol-version", "2026-07-28"));
            if let Some(m) = v.get("method").and_then(|m| m.as_str())
                && let Ok(h) = mcp_runtime::actix_web::http::header::HeaderValue::from_str(m)
            {
                req = req.insert_header(("mcp-method", h));
            }
            let name = v
                .pointer("/params/name")
                .or_else(|| v.pointer("/params/uri"));
            if let Some(n) = name.and_then(|n| n.as_str())
                && let Ok(h) = mcp_runtime::actix_web::http::header::HeaderValue::from_str(n)
            {
                req = req.insert_header(("mcp-name", h));
            }
            req
        }
        2 => req.insert_header(("mcp-protocol-version", "2025-03-26")),
        _ => req,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let harness = if mode & 0x80 == 0 {
        &STATELESS
    } else {
        &STATEFUL
    };
    let (status, answer) = harness.with(|cell| {
        let h = cell.get_or_init(|| {
            common::Harness::leaked(
                Fuzz::builder()
                    .stateless(mode & 0x80 == 0)
                    .build()
                    .expect("the fuzz server builds"),
            )
        });
        h.send(post(body, mode & 0x7f))
    });
    assert!(
        !status.is_server_error() || status.as_u16() == 503,
        "{status} for {:?}",
        String::from_utf8_lossy(body)
    );
    if answer.first() == Some(&b'{') || answer.first() == Some(&b'[') {
        serde_json::from_slice::<serde_json::Value>(&answer).expect("a JSON answer is JSON");
    }
});
