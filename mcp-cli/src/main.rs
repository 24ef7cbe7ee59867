//! `mcp`: the command-line client of mcp-runtime. See `mcp --help`.

mod args;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mcp_runtime::client::auth::{
    Authenticator, CallbackConfig, OAuth, OAuthConfig, Opener, printable,
};
use mcp_runtime::client::config::{ClientConfig, ServerConfig};
use mcp_runtime::client::{
    CallOptions, Client, ClientError, ClientHandler, Content, ResourceContents, ToolInfo,
    ToolResult,
};
use mcp_runtime::model::Report;
use serde_json::{Map, Value, json};

use args::{Cli, Command, USAGE};

/// Exit codes.
const TOOL_ERROR: u8 = 1;
const USAGE_ERROR: u8 = 2;
const AUTH_ERROR: u8 = 3;
const OTHER_ERROR: u8 = 4;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let cli = match args::parse(&argv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mcp: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    match cli.command {
        Command::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("mcp {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mcp: cannot start: {e}");
            return ExitCode::from(OTHER_ERROR);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // What a server wrote may be in the error: shown, never obeyed by the terminal.
            eprintln!("mcp: {}", printable(&Report(&e).to_string()));
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &ClientError) -> u8 {
    match e {
        ClientError::Config(_) => USAGE_ERROR,
        ClientError::Unauthorized(_) | ClientError::Forbidden(_) | ClientError::Auth { .. } => {
            AUTH_ERROR
        }
        _ => OTHER_ERROR,
    }
}

/// A server named on the command line: its URL and configuration entry.
struct Target {
    url: String,
    entry: ServerConfig,
}

fn load_config(cli: &Cli, required: bool) -> Result<ClientConfig, ClientError> {
    let path = cli
        .config
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("mcp.json"));
    if !path.exists() {
        if required || cli.config.is_some() {
            return Err(ClientError::Config(format!(
                "{} does not exist (give --config FILE, or a URL instead of a name)",
                path.display()
            )));
        }
        return Ok(ClientConfig::default());
    }
    ClientConfig::from_file(&path)
}

fn target(cli: &Cli, name_or_url: &str) -> Result<Target, ClientError> {
    if name_or_url.starts_with("http://") || name_or_url.starts_with("https://") {
        let entry: ServerConfig = serde_json::from_value(json!({"url": name_or_url}))
            .map_err(|e| ClientError::Config(e.to_string()))?;
        return Ok(Target {
            url: name_or_url.to_owned(),
            entry,
        });
    }
    let config = load_config(cli, true)?;
    let entry = config.server(name_or_url)?.clone();
    Ok(Target {
        url: entry.url()?,
        entry,
    })
}

/// The OAuth defaults the command line sets: callback port, opener, step log.
fn oauth_base(cli: &Cli) -> OAuthConfig {
    let mut cfg = OAuthConfig::default();
    cfg.client_name = "mcp (mcp-runtime CLI)".into();
    if let Some(port) = cli.port {
        cfg.callback = CallbackConfig::port(port);
    }
    if cli.no_browser {
        cfg.opener = Opener::Print;
    }
    if cli.verbose {
        cfg.step_log = Some(Arc::new(|s: &str| eprintln!("· {}", printable(s))));
    }
    cfg
}

async fn connect(
    cli: &Cli,
    t: &Target,
    handler: impl ClientHandler,
) -> Result<(Client, Option<Arc<OAuth>>), ClientError> {
    let oauth = t.entry.oauth(oauth_base(cli))?.map(Arc::new);
    let auth: Arc<dyn Authenticator> = match &oauth {
        Some(o) => o.clone(),
        None => t.entry.authenticator(oauth_base(cli))?,
    };
    let mut b = Client::builder(&t.url)
        .client_info("mcp", env!("CARGO_PKG_VERSION"))
        .auth_shared(auth)
        .handler(handler)
        .listen(false);
    for (k, v) in &t.entry.headers {
        b = b.header(k.clone(), v.clone());
    }
    if cli.verbose {
        eprintln!("· connecting to {}", t.url);
    }
    Ok((b.connect().await?, oauth))
}

async fn run(cli: Cli) -> Result<u8, ClientError> {
    match &cli.command {
        Command::Servers => {
            let config = load_config(&cli, false)?;
            if config.servers.is_empty() {
                println!(
                    "no servers configured (write an mcpServers configuration to ./mcp.json or give --config)"
                );
            }
            for (name, s) in &config.servers {
                let auth = match &s.auth {
                    Some(mcp_runtime::client::config::AuthConfig::Bearer(_)) => "bearer token",
                    Some(_) => "OAuth (configured)",
                    None => "OAuth (automatic)",
                };
                println!("{name}\t{}\t{auth}", s.url.as_deref().unwrap_or("(no url)"));
            }
            Ok(0)
        }
        Command::Login(name) => {
            let t = target(&cli, name)?;
            let Some(oauth) = t.entry.oauth(oauth_base(&cli))? else {
                println!(
                    "{name} uses a bearer token from the configuration: nothing to sign in to"
                );
                return Ok(0);
            };
            oauth.sign_out().await?;
            let (client, oauth) = connect(&cli, &t, Quiet).await?;
            let info = client.server();
            let info = (info.name().to_owned(), info.version().to_owned());
            let tokens = match &oauth {
                Some(o) => o.tokens().await,
                None => None,
            };
            client.close().await;
            match tokens {
                Some(tk) => println!(
                    "Signed in to {} ({} {}); scopes: {}",
                    t.url,
                    info.0,
                    info.1,
                    tk.scope.as_deref().unwrap_or("none")
                ),
                None => println!(
                    "Connected to {} ({} {}); it asked for no sign-in",
                    t.url, info.0, info.1
                ),
            }
            Ok(0)
        }
        Command::Logout { target: name, all } => {
            let t = target(&cli, name)?;
            let Some(oauth) = t.entry.oauth(oauth_base(&cli))? else {
                println!("{name} uses a bearer token from the configuration: nothing stored");
                return Ok(0);
            };
            oauth.sign_out().await?;
            if *all {
                oauth.forget_registration().await?;
            }
            println!(
                "Signed out of {}{}",
                t.url,
                if *all {
                    " (registration forgotten too)"
                } else {
                    ""
                }
            );
            Ok(0)
        }
        Command::Tools {
            target: name,
            schemas,
        } => {
            let t = target(&cli, name)?;
            let (client, _) = connect(&cli, &t, Quiet).await?;
            let tools = client.list_tools().await?;
            for tool in &tools {
                print_tool(tool, *schemas);
            }
            client.close().await;
            Ok(0)
        }
        Command::Call {
            target: name,
            tool,
            args,
            json,
        } => {
            let t = target(&cli, name)?;
            let progress = Arc::new(AtomicBool::new(false));
            let (client, _) = connect(
                &cli,
                &t,
                Progress {
                    shown: progress.clone(),
                },
            )
            .await?;
            let mut arguments = match json {
                Some(j) => match serde_json::from_str::<Value>(j) {
                    Ok(Value::Object(m)) => m,
                    _ => {
                        return Err(ClientError::Config(format!(
                            "--json {j}: give a JSON object, e.g. '{{\"a\": 1}}'"
                        )));
                    }
                },
                None => Map::new(),
            };
            if !args.is_empty() {
                let tools = client.list_tools().await?;
                let schema = tools
                    .iter()
                    .find(|x| &x.name == tool)
                    .map(|x| x.input_schema.clone())
                    .unwrap_or(Value::Null);
                for (k, v) in args {
                    arguments.insert(k.clone(), coerce(&schema, k, v)?);
                }
            }
            let result = client
                .call_tool_with(
                    tool,
                    Value::Object(arguments),
                    &CallOptions::default().progress(true),
                )
                .await;
            if progress.load(Ordering::Relaxed) {
                eprintln!();
            }
            let result = result?;
            client.close().await;
            Ok(print_result(&result))
        }
        Command::Help | Command::Version => Ok(0),
    }
}

/// A `--arg` value: a string for string parameters, JSON for the others.
fn coerce(schema: &Value, key: &str, value: &str) -> Result<Value, ClientError> {
    let ty = schema
        .get("properties")
        .and_then(|p| p.get(key))
        .and_then(|p| p.get("type"));
    let is_string = match ty {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_string {
        return Ok(Value::String(value.to_owned()));
    }
    match serde_json::from_str(value) {
        Ok(v) => Ok(v),
        Err(_) if ty.is_none() => Ok(Value::String(value.to_owned())),
        Err(_) => Err(ClientError::Config(format!(
            "--arg {key}={value}: `{key}` takes {}, not that (write JSON, e.g. {key}=1 or {key}=true)",
            ty.map(Value::to_string).unwrap_or_default()
        ))),
    }
}

fn print_tool(tool: &ToolInfo, schemas: bool) {
    let summary = tool
        .description
        .as_deref()
        .and_then(|d| d.lines().next())
        .unwrap_or("");
    let name = printable(&tool.name);
    if summary.is_empty() {
        println!("{name}");
    } else {
        println!("{name}\t{}", printable(summary));
    }
    if schemas {
        let pretty = serde_json::to_string_pretty(&tool.input_schema).unwrap_or_default();
        for line in pretty.lines() {
            println!("    {}", printable(line));
        }
    }
}

/// Prints a result; the exit code (1 when the tool reported an error).
fn print_result(r: &ToolResult) -> u8 {
    let mut out = String::new();
    for c in &r.content {
        let line = match c {
            Content::Text { text } => text.clone(),
            Content::Image { mime_type, data } => {
                format!("[image {mime_type}, {} bytes base64]", data.len())
            }
            Content::Audio { mime_type, data } => {
                format!("[audio {mime_type}, {} bytes base64]", data.len())
            }
            Content::ResourceLink { uri, .. } => format!("[resource link {uri}]"),
            Content::Resource {
                resource: ResourceContents::Text { text, .. },
            } => text.clone(),
            Content::Resource {
                resource: ResourceContents::Blob { uri, .. },
            } => format!("[resource {uri}]"),
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    if out.is_empty()
        && let Some(s) = &r.structured_content
    {
        out = serde_json::to_string_pretty(s).unwrap_or_default();
        out.push('\n');
    }
    // A tool's text reaches the terminal with its control characters shown, not obeyed.
    let out = printable(&out);
    if r.is_error {
        eprint!("{out}");
        TOOL_ERROR
    } else {
        print!("{out}");
        0
    }
}

/// Supports nothing the server may ask.
struct Quiet;
impl ClientHandler for Quiet {}

/// Shows progress notifications on one line of stderr.
struct Progress {
    shown: Arc<AtomicBool>,
}

impl ClientHandler for Progress {
    fn progress(&self, params: &Value) {
        let p = params
            .get("progress")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let total = params
            .get("total")
            .and_then(Value::as_f64)
            .map(|t| format!("/{t}"))
            .unwrap_or_default();
        let msg = params
            .get("message")
            .and_then(Value::as_str)
            .map(|m| format!(" {}", printable(m)))
            .unwrap_or_default();
        eprint!("\r\x1b[2K… {p}{total}{msg}");
        self.shown.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_follow_the_schema() {
        let schema = json!({"properties": {"name": {"type": "string"}, "n": {"type": "integer"}}});
        assert_eq!(coerce(&schema, "name", "42").expect("ok"), json!("42"));
        assert_eq!(coerce(&schema, "n", "42").expect("ok"), json!(42));
        assert!(coerce(&schema, "n", "many").is_err());
        assert_eq!(coerce(&Value::Null, "x", "true").expect("ok"), json!(true));
        assert_eq!(
            coerce(&Value::Null, "x", "hello").expect("ok"),
            json!("hello")
        );
    }
}
