//! A client of any MCP server: connect, sign in if the server asks (OAuth in the browser, the
//! tokens kept for next time), list the tools, and call one while its progress streams in.
//!
//! ```sh
//! cargo run --example quickstart &                       # a server to talk to
//! cargo run --example client -- http://127.0.0.1:3000/mcp count_slowly '{"steps": 3}'
//! ```
//!
//! Against an OAuth-protected server (`cargo run --example quickstart_oauth`), the first run
//! opens the sign-in page; later runs reuse (and refresh) the tokens in `~/.mcp_use/tokens`.

use mcp_runtime::client::auth::{OAuth, OAuthConfig};
use mcp_runtime::client::{CallOptions, Client, ClientError, ClientHandler, Content};
use serde_json::{Value, json};

/// What the client does with what the server sends on its own: progress is printed.
struct ShowProgress;

impl ClientHandler for ShowProgress {
    fn progress(&self, params: &Value) {
        let done = params["progress"].as_f64().unwrap_or(0.0);
        let total = params["total"]
            .as_f64()
            .map(|t| format!("/{t}"))
            .unwrap_or_default();
        let message = params["message"].as_str().unwrap_or("");
        eprintln!("  progress {done}{total} {message}");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ClientError> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:3000/mcp".to_owned());
    let tool = args.next();
    let arguments: Value = match args.next() {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| ClientError::Config(format!("the arguments are not JSON: {e}")))?,
        None => json!({}),
    };

    // Signs in only if the server answers 401: discovery, registration, PKCE, the browser.
    let oauth = OAuth::new(&url, OAuthConfig::default())?;
    let client = Client::builder(&url)
        .auth(oauth)
        .handler(ShowProgress)
        .connect()
        .await?;
    let server = client.server();
    println!("connected to {} {}", server.name(), server.version());

    let tools = client.list_tools().await?;
    println!("{} tools:", tools.len());
    for t in &tools {
        let about = t
            .description
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        println!("  {}: {about}", t.name);
    }

    if let Some(tool) = tool {
        println!("calling {tool} with {arguments}");
        let options = CallOptions::default().progress(true);
        let result = client.call_tool_with(&tool, arguments, &options).await?;
        for content in &result.content {
            match content {
                Content::Text { text } => println!("{text}"),
                other => println!("{}", serde_json::to_string(other).unwrap_or_default()),
            }
        }
        if result.is_error {
            println!("(the tool reported an error)");
        }
    }
    client.close().await;
    Ok(())
}
