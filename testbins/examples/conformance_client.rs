//! The client the official MCP conformance suite drives (`conformance client --command
//! "<this binary>"`): the suite appends the server URL and names the scenario in
//! `MCP_CONFORMANCE_SCENARIO` (and credentials in `MCP_CONFORMANCE_CONTEXT`). The sign-in's
//! "browser" follows the authorization server's redirect to the loopback callback.
//!
//! ```sh
//! cargo build --example conformance_client
//! npx @modelcontextprotocol/conformance@0.2.0-alpha.12 client \
//!     --command target/debug/examples/conformance_client --requirements 2025-11-25
//! ```

use futures_util::future::BoxFuture;
use mcp_runtime::client::auth::{
    AssertionSource, CallbackConfig, ClientKey, EnterpriseGrant, Grant, MemoryTokenStore, OAuth,
    OAuthConfig, Opener, Secret,
};
use mcp_runtime::client::{Client, ClientError, ClientHandler, RpcError, schema_defaults};
use serde_json::{Value, json};
use std::sync::Arc;

/// Accepts elicitations with the schema's defaults.
struct Handler;

impl ClientHandler for Handler {
    fn capabilities(&self) -> Value {
        json!({"elicitation": {"applyDefaults": true}, "sampling": {}})
    }

    fn elicit(&self, params: Value) -> BoxFuture<'_, Result<Value, RpcError>> {
        Box::pin(async move {
            let content = schema_defaults(params.get("requestedSchema").unwrap_or(&Value::Null));
            Ok(json!({"action": "accept", "content": content}))
        })
    }
}

/// Follows redirects (no cookies, no pages) until the loopback callback has answered.
fn robot() -> Opener {
    Opener::custom(|url| async move {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let mut next = url;
        for _ in 0..10 {
            let r = http.get(&next).send().await.map_err(|e| e.to_string())?;
            match r.headers().get("location").and_then(|v| v.to_str().ok()) {
                Some(loc) if r.status().is_redirection() => next = loc.to_owned(),
                _ => return Ok(()),
            }
        }
        Err("too many redirects".into())
    })
}

async fn run(url: &str, scenario: &str, context: &Value) -> Result<(), ClientError> {
    let mut cfg = OAuthConfig::default();
    cfg.callback = CallbackConfig::port(0);
    cfg.opener = robot();
    cfg.store = Some(Arc::new(MemoryTokenStore::new()));
    cfg.client_name = "mcp-runtime conformance client".into();
    cfg.client_metadata_url = Some("https://conformance-test.local/client-metadata.json".into());
    if let Some(id) = context.get("client_id").and_then(Value::as_str) {
        cfg.client_id = Some(id.to_owned());
    }
    if let Some(secret) = context.get("client_secret").and_then(Value::as_str) {
        cfg.client_secret = Some(Secret::new(secret));
    }
    let text = |k: &str| context.get(k).and_then(Value::as_str).map(str::to_owned);
    if scenario == "auth/wif-jwt-bearer" {
        // Workload identity: the platform's JWT, the JWT-bearer grant.
        cfg.grant = Grant::JwtBearer(AssertionSource::fixed(
            text("valid_jwt").unwrap_or_default(),
        ));
    }
    if scenario == "auth/enterprise-managed-authorization" {
        // The company's identity provider vouches: token exchange for an ID-JAG, then the
        // JWT-bearer grant as the configured client.
        cfg.grant = Grant::Enterprise(EnterpriseGrant::new(
            text("idp_token_endpoint").unwrap_or_default(),
            text("idp_client_id").unwrap_or_default(),
            AssertionSource::fixed(text("idp_id_token").unwrap_or_default()),
        ));
    }
    if scenario.starts_with("auth/dpop") {
        // DPoP-bound tokens: proofs at the token endpoint and on every request.
        cfg.dpop = true;
    }
    if scenario.starts_with("auth/client-credentials") {
        // A machine: its own credentials, no browser.
        cfg.grant = Grant::ClientCredentials;
        if let Some(pem) = context.get("private_key_pem").and_then(Value::as_str) {
            cfg.client_key = Some(Arc::new(ClientKey::from_pem(pem)?));
        }
    }
    let version = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "2025-11-25".into());
    let client = Client::builder(url)
        .protocol_version(&version)
        .client_info("mcp-runtime-conformance-client", env!("CARGO_PKG_VERSION"))
        .auth(OAuth::new(url, cfg)?)
        .handler(Handler)
        .connect()
        .await?;
    match scenario {
        "initialize" => {}
        "tools_call" => {
            let r = client
                .call_tool("add_numbers", json!({"a": 5, "b": 3}))
                .await?;
            println!("add_numbers: {}", r.text());
        }
        "elicitation-sep1034-client-defaults" => {
            client
                .call_tool("test_client_elicitation_defaults", json!({}))
                .await?;
        }
        "sse-retry" => {
            client.call_tool("test_reconnection", json!({})).await?;
        }
        "json-schema-2020-12-preservation" => {
            let tools = client.list_tools().await?;
            // Echo another tool's input schema exactly as received.
            if let Some(t) = tools.iter().find(|t| t.name != "json_schema_echo") {
                client
                    .call_tool("json_schema_echo", json!({"schema": t.input_schema}))
                    .await?;
            }
        }
        "request-metadata" | "json-schema-ref-no-deref" => {
            client.list_tools().await?;
        }
        "sep-2322-client-request-state" => {
            for tool in [
                "test_mrtr_echo_state",
                "test_mrtr_unrelated",
                "test_mrtr_no_state",
                "test_mrtr_no_result_type",
            ] {
                client.call_tool(tool, json!({})).await?;
            }
        }
        "http-standard-headers" => {
            client.list_tools().await?;
            client.call_tool("test_headers", json!({})).await?;
            if let Some(uri) = client
                .list_resources()
                .await?
                .first()
                .and_then(|r| r.get("uri"))
                .and_then(Value::as_str)
            {
                client.read_resource(uri).await?;
            }
            client.list_prompts().await?;
            client.get_prompt("test_prompt", json!({})).await?;
        }
        "http-custom-headers" => {
            client.list_tools().await?;
            for call in context
                .get("toolCalls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
                let args = call.get("arguments").cloned().unwrap_or(json!({}));
                client.call_tool(name, args).await?;
            }
        }
        "http-invalid-tool-headers" => {
            // Tools with invalid header designations are left out of the listing.
            for t in client.list_tools().await? {
                if t.name == "valid_tool" {
                    client
                        .call_tool("valid_tool", json!({"region": "us-west1"}))
                        .await?;
                }
            }
        }
        _ => {
            // The auth scenarios: list, then call the tool they guard (twice, so that a
            // change of authorization server is noticed).
            let tools = client.list_tools().await?;
            if tools.iter().any(|t| t.name == "test-tool") {
                client.call_tool("test-tool", json!({})).await?;
                client.call_tool("test-tool", json!({})).await?;
            }
        }
    }
    client.close().await;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "mcp_runtime=debug".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(url) = std::env::args().nth(1).filter(|u| u.starts_with("http")) else {
        eprintln!("usage: conformance_client <server url> (the suite appends it)");
        return std::process::ExitCode::from(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null);
    match run(&url, &scenario, &context).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance client ({scenario}): {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
