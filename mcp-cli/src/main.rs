//! `mcp`: the command-line client of mcp-runtime. See `mcp --help` and `mcp <command> --help`.

mod args;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{CommandFactory as _, Parser as _};
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

use args::{Cli, Command, Output};

/// Exit codes.
const TOOL_ERROR: u8 = 1;
const USAGE_ERROR: u8 = 2;
const AUTH_ERROR: u8 = 3;
const OTHER_ERROR: u8 = 4;

fn main() -> ExitCode {
    // clap prints help and errors itself, in colour only on a terminal and never under
    // NO_COLOR; a usage error exits 2.
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "mcp", &mut std::io::stdout());
        return ExitCode::SUCCESS;
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
    let output = cli.output;
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = exit_code(&e);
            // What a server wrote may be in the error: shown, never obeyed by the terminal.
            let message = printable(&Report(&e).to_string());
            match output {
                Output::Text => eprintln!("mcp: {message}"),
                Output::Json => {
                    eprintln!("{}", json!({"error": message, "exit_code": code}));
                }
            }
            ExitCode::from(code)
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

/// Prints a JSON document on stdout.
fn print_json(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// A server named on the command line: its URL and configuration entry.
struct Target {
    url: String,
    entry: ServerConfig,
}

/// The user's configuration folder's `mcp/mcp.json`: `$XDG_CONFIG_HOME`, else `~/.config`
/// (`%APPDATA%` on Windows).
fn user_config() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        var("APPDATA")
    } else {
        var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))
    }?;
    Some(base.join("mcp").join("mcp.json"))
}

/// Where the configuration is: `--config` or `$MCP_CONFIG` (which must exist), else the
/// first of `./mcp.json`, `./.mcp.json` and the user's `mcp/mcp.json` that exists.
fn config_path(cli: &Cli) -> Result<Option<PathBuf>, ClientError> {
    if let Some(path) = &cli.config {
        if !path.exists() {
            return Err(ClientError::Config(format!(
                "{} does not exist (--config or MCP_CONFIG names it)",
                path.display()
            )));
        }
        return Ok(Some(path.clone()));
    }
    let candidates = [
        Some(PathBuf::from("mcp.json")),
        Some(PathBuf::from(".mcp.json")),
        user_config(),
    ];
    Ok(candidates.into_iter().flatten().find(|p| p.is_file()))
}

fn load_config(cli: &Cli, required: bool) -> Result<ClientConfig, ClientError> {
    match config_path(cli)? {
        Some(path) => {
            if cli.verbose {
                eprintln!("· configuration: {}", path.display());
            }
            ClientConfig::from_file(&path)
        }
        None if required => Err(ClientError::Config(
            "no configuration: mcp.json does not exist here, nor .mcp.json, nor one in your \
             configuration folder (give --config FILE, or a URL instead of a name)"
                .into(),
        )),
        None => Ok(ClientConfig::default()),
    }
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
        url: entry.endpoint()?,
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
    oauth: Option<Arc<OAuth>>,
    handler: impl ClientHandler,
) -> Result<Client, ClientError> {
    if let Some(cmd) = t.entry.stdio_command()? {
        if cli.verbose {
            eprintln!("· starting {} (stdio)", t.url);
        }
        return Client::stdio(cmd)
            .client_info("mcp", env!("CARGO_PKG_VERSION"))
            .handler(handler)
            .connect()
            .await;
    }
    let auth: Arc<dyn Authenticator> = match oauth {
        Some(o) => o,
        None => match t.entry.oauth(oauth_base(cli))? {
            Some(o) => Arc::new(o),
            None => t.entry.authenticator(oauth_base(cli))?,
        },
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
    b.connect().await
}

/// The arguments of `--json` and `--arg`s (typed by `schema` where it says).
fn arguments(
    json: Option<&str>,
    args: &[(String, String)],
    schema: &Value,
) -> Result<Map<String, Value>, ClientError> {
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
    for (k, v) in args {
        arguments.insert(k.clone(), coerce(schema, k, v)?);
    }
    Ok(arguments)
}

async fn run(cli: Cli) -> Result<u8, ClientError> {
    let json_out = cli.output == Output::Json;
    match &cli.command {
        Command::Servers => {
            let config = load_config(&cli, false)?;
            let servers: Vec<Value> = config
                .servers
                .iter()
                .map(|(name, s)| {
                    let auth = match &s.auth {
                        _ if s.command.is_some() => "none (stdio)",
                        Some(mcp_runtime::client::config::AuthConfig::Bearer(_)) => "bearer token",
                        Some(_) => "OAuth (configured)",
                        None => "OAuth (automatic)",
                    };
                    let url = s.url.clone().or_else(|| s.endpoint().ok());
                    json!({"name": name, "url": url, "auth": auth})
                })
                .collect();
            if json_out {
                print_json(&Value::Array(servers));
                return Ok(0);
            }
            if servers.is_empty() {
                println!(
                    "no servers configured (write an mcpServers configuration to ./mcp.json or .mcp.json, or give --config)"
                );
            }
            for s in &servers {
                println!(
                    "{}\t{}\t{}",
                    s["name"].as_str().unwrap_or_default(),
                    s["url"].as_str().unwrap_or("(no url)"),
                    s["auth"].as_str().unwrap_or_default()
                );
            }
            Ok(0)
        }
        Command::Login(name) => {
            let name = &name.target;
            let t = target(&cli, name)?;
            let Some(oauth) = t.entry.oauth(oauth_base(&cli))? else {
                let reason = if t.entry.command.is_some() {
                    "a stdio server, which takes its credentials from its environment"
                } else {
                    "a bearer token from the configuration"
                };
                if json_out {
                    print_json(&json!({"server": t.url, "signed_in": false, "reason": reason}));
                } else {
                    println!("{name} uses {reason}: nothing to sign in to");
                }
                return Ok(0);
            };
            // A new sign-in; the stored tokens stay until it succeeds.
            let oauth = Arc::new(oauth);
            oauth.require_sign_in().await;
            let client = connect(&cli, &t, Some(oauth.clone()), Quiet).await?;
            let info = client.server();
            let (server_name, version) = (info.name().to_owned(), info.version().to_owned());
            let tokens = oauth.tokens().await;
            client.close().await;
            if json_out {
                print_json(&json!({
                    "server": t.url,
                    "signed_in": tokens.is_some(),
                    "server_info": {"name": server_name, "version": version},
                    "scopes": tokens.as_ref().and_then(|t| t.scope.clone()),
                }));
                return Ok(0);
            }
            match tokens {
                Some(tk) => println!(
                    "Signed in to {} ({server_name} {version}); scopes: {}",
                    t.url,
                    tk.scope.as_deref().unwrap_or("none")
                ),
                None => println!(
                    "Connected to {} ({server_name} {version}); it asked for no sign-in",
                    t.url
                ),
            }
            Ok(0)
        }
        Command::Logout { target: name, all } => {
            let name = &name.target;
            let t = target(&cli, name)?;
            let Some(oauth) = t.entry.oauth(oauth_base(&cli))? else {
                let reason = if t.entry.command.is_some() {
                    "a stdio server, which takes its credentials from its environment"
                } else {
                    "a bearer token from the configuration"
                };
                if json_out {
                    print_json(&json!({"server": t.url, "signed_out": false, "reason": reason}));
                } else {
                    println!("{name} uses {reason}: nothing stored");
                }
                return Ok(0);
            };
            oauth.sign_out().await?;
            if *all {
                oauth.forget_registration().await?;
            }
            if json_out {
                print_json(&json!({"server": t.url, "signed_out": true,
                    "registration_forgotten": all}));
                return Ok(0);
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
            let t = target(&cli, &name.target)?;
            let client = connect(&cli, &t, None, Quiet).await?;
            let tools = client.list_tools().await?;
            client.close().await;
            if json_out {
                print_json(&serde_json::to_value(&tools).unwrap_or_default());
                return Ok(0);
            }
            for tool in &tools {
                print_tool(tool, *schemas);
            }
            Ok(0)
        }
        Command::Call {
            target: name,
            tool,
            args,
            json,
        } => {
            let t = target(&cli, &name.target)?;
            let progress = Arc::new(AtomicBool::new(false));
            let client = connect(
                &cli,
                &t,
                None,
                Progress {
                    shown: progress.clone(),
                    redraw: std::io::stderr().is_terminal(),
                },
            )
            .await?;
            let schema = if args.is_empty() {
                Value::Null
            } else {
                let tools = client.list_tools().await?;
                tools
                    .iter()
                    .find(|x| &x.name == tool)
                    .map(|x| x.input_schema.clone())
                    .unwrap_or(Value::Null)
            };
            let arguments = arguments(json.as_deref(), args, &schema)?;
            let result = client
                .call_tool_with(
                    tool,
                    Value::Object(arguments),
                    &CallOptions::default().progress(true),
                )
                .await;
            if progress.load(Ordering::Relaxed) && std::io::stderr().is_terminal() {
                eprintln!();
            }
            let result = result?;
            client.close().await;
            if json_out {
                print_json(&serde_json::to_value(&result).unwrap_or_default());
                return Ok(if result.is_error { TOOL_ERROR } else { 0 });
            }
            Ok(print_result(&result))
        }
        Command::Resources(name) => {
            let t = target(&cli, &name.target)?;
            let client = connect(&cli, &t, None, Quiet).await?;
            let resources = client.list_resources().await?;
            let templates = client.list_resource_templates().await.unwrap_or_default();
            client.close().await;
            if json_out {
                print_json(&json!({"resources": resources, "resourceTemplates": templates}));
                return Ok(0);
            }
            for r in resources.iter().chain(&templates) {
                let uri = r["uri"]
                    .as_str()
                    .or(r["uriTemplate"].as_str())
                    .unwrap_or("");
                let about = r["description"]
                    .as_str()
                    .or(r["name"].as_str())
                    .and_then(|d| d.lines().next())
                    .unwrap_or("");
                if about.is_empty() {
                    println!("{}", printable(uri));
                } else {
                    println!("{}\t{}", printable(uri), printable(about));
                }
            }
            Ok(0)
        }
        Command::Read { target: name, uri } => {
            let t = target(&cli, &name.target)?;
            let client = connect(&cli, &t, None, Quiet).await?;
            let read = client.read_resource(uri).await?;
            client.close().await;
            if json_out {
                print_json(&read);
                return Ok(0);
            }
            for c in read["contents"].as_array().into_iter().flatten() {
                match (c["text"].as_str(), c["blob"].as_str()) {
                    (Some(text), _) => print!("{}", printable(&with_newline(text))),
                    (None, Some(blob)) => println!(
                        "[{} {}, {} bytes base64]",
                        printable(c["uri"].as_str().unwrap_or("")),
                        printable(c["mimeType"].as_str().unwrap_or("binary")),
                        blob.len()
                    ),
                    (None, None) => {}
                }
            }
            Ok(0)
        }
        Command::Prompts(name) => {
            let t = target(&cli, &name.target)?;
            let client = connect(&cli, &t, None, Quiet).await?;
            let prompts = client.list_prompts().await?;
            client.close().await;
            if json_out {
                print_json(&Value::Array(prompts));
                return Ok(0);
            }
            for p in &prompts {
                let name = printable(p["name"].as_str().unwrap_or(""));
                let args: Vec<String> = p["arguments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| {
                        let n = a["name"].as_str()?;
                        Some(if a["required"].as_bool() == Some(true) {
                            format!("{n}=…")
                        } else {
                            format!("[{n}=…]")
                        })
                    })
                    .collect();
                let about = p["description"]
                    .as_str()
                    .and_then(|d| d.lines().next())
                    .unwrap_or("");
                println!(
                    "{name}{}{}",
                    if args.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", printable(&args.join(" ")))
                    },
                    if about.is_empty() {
                        String::new()
                    } else {
                        format!("\t{}", printable(about))
                    }
                );
            }
            Ok(0)
        }
        Command::Prompt {
            target: name,
            name: prompt,
            args,
        } => {
            let t = target(&cli, &name.target)?;
            let client = connect(&cli, &t, None, Quiet).await?;
            let arguments: Map<String, Value> = args
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let got = client.get_prompt(prompt, Value::Object(arguments)).await?;
            client.close().await;
            if json_out {
                print_json(&got);
                return Ok(0);
            }
            for m in got["messages"].as_array().into_iter().flatten() {
                let role = m["role"].as_str().unwrap_or("?");
                let content = &m["content"];
                let text = match content["text"].as_str() {
                    Some(t) => t.to_owned(),
                    None => serde_json::to_string(content).unwrap_or_default(),
                };
                print!("{}", printable(&format!("{role}: {}", with_newline(&text))));
            }
            Ok(0)
        }
        Command::Completions { .. } => Ok(0),
    }
}

/// `text` ending with a newline.
fn with_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_owned()
    } else {
        format!("{text}\n")
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

/// Shows progress notifications on stderr: redrawn on one line on a terminal, else one line
/// each (no escape codes where none can be obeyed).
struct Progress {
    shown: Arc<AtomicBool>,
    redraw: bool,
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
        if self.redraw {
            eprint!("\r\x1b[2K… {p}{total}{msg}");
        } else {
            eprintln!("… {p}{total}{msg}");
        }
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
