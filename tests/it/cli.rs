//! The `mcp` command line against this project's dev authorization server: sign-in driven by a
//! `BROWSER` program that follows redirects (curl), tools, calls with typed `--arg`s, step-up,
//! silent refresh, logout, token files 0600 in a 0700 folder, `--verbose` without secrets,
//! and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::client::dev_server;

pub(crate) fn mcp_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let path = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("mcp");
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (`cargo build --workspace`)",
        path.display()
    );
    path
}

/// A home folder and a browser script that logs each URL and follows its redirects.
struct Sandbox {
    home: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let home =
            std::env::temp_dir().join(format!("mcp-cli-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(
            home.join("browser.sh"),
            "#!/bin/sh\necho \"$1\" >> \"$(dirname \"$0\")/opened.log\"\nexec curl -s -L -o /dev/null \"$1\"\n",
        )
        .expect("browser script");
        Sandbox { home }
    }

    fn opened(&self) -> usize {
        std::fs::read_to_string(self.home.join("opened.log"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(mcp_binary())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env(
                "BROWSER",
                format!("sh {}", self.home.join("browser.sh").display()),
            )
            .current_dir(&self.home)
            .output()
            .expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn tokens_dir(&self) -> PathBuf {
        self.home.join(".mcp_use").join("tokens")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

fn token_file(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("tokens dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a token file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_tools_call_step_up_and_logout() {
    let server = dev_server(Duration::from_secs(3600));
    let url = server.url();
    let sb = Sandbox::new("flow");
    let (code, out, err) =
        tokio::task::block_in_place(|| sb.run(&["--port", "0", "--verbose", "login", &url]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with(&format!("Signed in to {url} (")), "{out}");
    assert!(err.contains("· registering a client at"), "{err}");
    assert_eq!(sb.opened(), 1);
    let file = token_file(&sb.tokens_dir());
    #[cfg(unix)]
    {
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&sb.tokens_dir()), 0o700);
    }
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let token = stored["access_token"].as_str().expect("token");
    assert!(!err.contains(token), "--verbose never shows a token");

    let (code, out, err) = tokio::task::block_in_place(|| sb.run(&["tools", &url, "--schemas"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("whoami\tWho is calling."), "{out}");
    assert!(out.contains("admin-action\tAdmins only."), "{out}");
    assert!(out.contains("\"required\""), "{out}");

    let (code, out, err) = tokio::task::block_in_place(|| sb.run(&["call", &url, "whoami"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dev-user"), "{out}");
    assert_eq!(sb.opened(), 1, "the stored token served");

    let (code, out, err) = tokio::task::block_in_place(|| {
        sb.run(&[
            "--port",
            "0",
            "call",
            &url,
            "admin-action",
            "--arg",
            "action=deploy",
        ])
    });
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "did deploy\n");
    assert_eq!(sb.opened(), 2, "one step-up sign-in");

    let (code, _, err) = tokio::task::block_in_place(|| sb.run(&["call", &url, "broken"]));
    assert_eq!(code, 1, "a tool error exits 1");
    assert_eq!(err, "it broke\n");

    // A tool's escape sequences reach the terminal shown, not obeyed.
    let (code, out, _) = tokio::task::block_in_place(|| sb.run(&["call", &url, "ansi"]));
    assert_eq!(code, 0);
    assert_eq!(out, "\\u{1b}[2Jcleared\\u{1b}]0;title\\u{7}\n");

    let (code, _, err) =
        tokio::task::block_in_place(|| sb.run(&["call", &url, "admin-action", "--json", "[1]"]));
    assert_eq!(code, 2);
    assert!(err.contains("give a JSON object"), "{err}");

    // Logout revokes the grant at the authorization server (RFC 7009), then forgets it: the
    // access token a thief might have copied is refused from now on.
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let copied = stored["access_token"].as_str().expect("token").to_owned();
    let status = |token: String| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(&url)
                .bearer_auth(token)
                .header("accept", "application/json, text/event-stream")
                .json(&crate::common::init_body("2025-11-25"))
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(copied.clone()).await, 200);
    let (code, out, err) = tokio::task::block_in_place(|| sb.run(&["--verbose", "logout", &url]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Signed out of"), "{out}");
    assert!(err.contains("· revoking the refresh_token at "), "{err}");
    assert!(!err.contains("were not revoked"), "{err}");
    assert!(!file.exists(), "the token file is gone");
    assert_eq!(
        status(copied).await,
        401,
        "the grant is revoked at the server"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_refresh_without_a_browser() {
    let server = dev_server(Duration::from_secs(1));
    let url = server.url();
    let sb = Sandbox::new("refresh");
    let (code, out, err) = tokio::task::block_in_place(|| sb.run(&["--port", "0", "login", &url]));
    assert_eq!(code, 0, "{out}{err}");
    let before = std::fs::read_to_string(token_file(&sb.tokens_dir())).expect("read");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (code, out, err) = tokio::task::block_in_place(|| sb.run(&["call", &url, "whoami"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dev-user"), "{out}");
    let after = std::fs::read_to_string(token_file(&sb.tokens_dir())).expect("read");
    assert_ne!(before, after, "new tokens were stored");
    assert_eq!(sb.opened(), 1, "no second sign-in");
    server.stop().await;
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let sb = Sandbox::new("usage");
    let (code, _, err) = sb.run(&["call"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("the following required arguments were not provided")
            && err.contains("<URL|NAME>")
            && err.contains("Usage: mcp call"),
        "{err}"
    );
    let (code, _, err) = sb.run(&["tools", "prod"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no configuration: mcp.json does not exist here"),
        "{err}"
    );
    std::fs::write(
        sb.home.join("mcp.json"),
        r#"{"mcpServers": {"a": {"url": "http://127.0.0.1:9/mcp", "auth": "t"}}}"#,
    )
    .expect("config");
    let (code, out, _) = sb.run(&["servers"]);
    assert_eq!(code, 0);
    assert_eq!(out, "a\thttp://127.0.0.1:9/mcp\tbearer token\n");
    let (code, out, _) = sb.run(&["servers", "-o", "json"]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        listed,
        serde_json::json!([{"name": "a", "url": "http://127.0.0.1:9/mcp", "auth": "bearer token"}])
    );
    let (code, _, err) = sb.run(&["tools", "b"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no server `b` in the configuration (it has: a)"),
        "{err}"
    );
    let (code, _, err) = sb.run(&["tools", "a"]);
    assert_eq!(code, 4, "unreachable: {err}");
    assert!(err.contains("cannot reach the MCP server"), "{err}");
    // The same failure for a program: one JSON object on stderr.
    let (code, out, err) = sb.run(&["--output=json", "tools", "a"]);
    assert_eq!(code, 4);
    assert_eq!(out, "");
    let failure: serde_json::Value = serde_json::from_str(&err).expect("JSON error");
    assert_eq!(failure["exit_code"], 4);
    assert!(
        failure["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("cannot reach the MCP server")),
        "{failure}"
    );
    let (code, out, _) = sb.run(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("exit codes") && out.contains("completions"),
        "{out}"
    );
    // Not a terminal: no escape codes anywhere, whatever the command.
    assert!(!out.contains('\u{1b}'), "{out:?}");
    let (code, _, err) = sb.run(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    // Help per command.
    let (code, out, _) = sb.run(&["call", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Usage: mcp call [OPTIONS] <URL|NAME> <TOOL>")
            && out.contains("--arg <KEY=VALUE>")
            && out.contains("--json <OBJECT>"),
        "{out}"
    );
    // Shell completions.
    let (code, out, _) = sb.run(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("_mcp()") && out.contains("complete -F _mcp"),
        "{out}"
    );
    let (code, out, _) = sb.run(&["completions", "zsh"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("#compdef mcp"), "{out}");
}

/// The configuration is found where other MCP clients keep it: `--config`, `$MCP_CONFIG`,
/// `./mcp.json`, `./.mcp.json`, then the user's configuration folder; a named file that does
/// not exist is an error.
#[test]
fn the_configuration_is_found_where_mcp_clients_keep_it() {
    let sb = Sandbox::new("config");
    let config = |name: &str| {
        format!(
            r#"{{"mcpServers": {{"{name}": {{"url": "http://127.0.0.1:9/mcp", "auth": "t"}}}}}}"#
        )
    };
    let xdg = sb.home.join("xdg");
    std::fs::create_dir_all(xdg.join("mcp")).expect("dir");
    std::fs::write(xdg.join("mcp").join("mcp.json"), config("from-user-folder")).expect("write");
    let servers = |extra: &[(&str, &std::path::Path)], args: &[&str]| {
        let mut cmd = Command::new(mcp_binary());
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &sb.home)
            .current_dir(&sb.home);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let name_of = |out: &str| out.split('\t').next().unwrap_or_default().to_owned();
    let (code, out, err) = servers(&[("XDG_CONFIG_HOME", &xdg)], &["servers"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(name_of(&out), "from-user-folder");
    std::fs::write(sb.home.join(".mcp.json"), config("from-dot-mcp-json")).expect("write");
    let (_, out, _) = servers(&[("XDG_CONFIG_HOME", &xdg)], &["servers"]);
    assert_eq!(name_of(&out), "from-dot-mcp-json");
    std::fs::write(sb.home.join("mcp.json"), config("from-mcp-json")).expect("write");
    let (_, out, _) = servers(&[("XDG_CONFIG_HOME", &xdg)], &["servers"]);
    assert_eq!(name_of(&out), "from-mcp-json");
    let elsewhere = sb.home.join("elsewhere.json");
    std::fs::write(&elsewhere, config("from-mcp-config")).expect("write");
    let (_, out, _) = servers(&[("MCP_CONFIG", &elsewhere)], &["servers"]);
    assert_eq!(name_of(&out), "from-mcp-config");
    let flag = sb.home.join("flag.json");
    std::fs::write(&flag, config("from-flag")).expect("write");
    let flag_arg = format!("--config={}", flag.display());
    let (_, out, _) = servers(&[("MCP_CONFIG", &elsewhere)], &[&flag_arg, "servers"]);
    assert_eq!(name_of(&out), "from-flag");
    let (code, _, err) = servers(&[], &["--config", "missing.json", "servers"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("missing.json does not exist (--config or MCP_CONFIG names it)"),
        "{err}"
    );
}

/// `login` signs in anew but keeps the working tokens until the new sign-in succeeds: a
/// sign-in that cannot even start (its callback port is taken) leaves them in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_login_keeps_the_working_tokens() {
    let server = dev_server(Duration::from_secs(3600));
    let url = server.url();
    let sb = Sandbox::new("relogin");
    let (code, out, err) = tokio::task::block_in_place(|| sb.run(&["--port", "0", "login", &url]));
    assert_eq!(code, 0, "{out}{err}");
    let file = token_file(&sb.tokens_dir());
    let before = std::fs::read_to_string(&file).expect("tokens");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("addr").port().to_string();
    let (code, _, err) = tokio::task::block_in_place(|| sb.run(&["--port", &port, "login", &url]));
    assert_ne!(code, 0, "the sign-in cannot start: {err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("the tokens are still there"),
        before
    );
    let (code, out, err) = tokio::task::block_in_place(|| sb.run(&["call", &url, "whoami"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dev-user"), "{out}");
    assert_eq!(sb.opened(), 1, "no second sign-in was needed");

    // A login that succeeds replaces them.
    let (code, _, err) = tokio::task::block_in_place(|| sb.run(&["--port", "0", "login", &url]));
    assert_eq!(code, 0, "{err}");
    assert_ne!(std::fs::read_to_string(&file).expect("tokens"), before);
    assert_eq!(sb.opened(), 2);
    drop(taken);
    server.stop().await;
}

/// Tools, resources and prompts as JSON for programs, and as lines for people.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_resources_and_prompts_in_text_and_json() {
    let (_qs, url) = crate::examples::start_example("quickstart", &[]);
    let sb = Sandbox::new("items");
    let run = |args: &[&str]| tokio::task::block_in_place(|| sb.run(args));

    let (code, out, err) = run(&["tools", &url, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let tools: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(
        tools.as_array().is_some_and(|t| t
            .iter()
            .any(|x| x["name"] == "add" && x["inputSchema"].is_object())),
        "{tools:#}"
    );
    let (code, out, _) = run(&[
        "call",
        &url,
        "add",
        "--arg",
        "a=2",
        "--arg=b=40",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0);
    let result: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(result["content"][0]["text"], "42");
    assert!(result.get("isError").is_none_or(|e| e == false), "{result}");

    let (code, out, err) = run(&["resources", &url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("docs://library\t"), "{out}");
    assert!(out.contains("docs://library/{number}\t"), "{out}");
    let (code, out, _) = run(&["resources", &url, "-o", "json"]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(listed["resources"][0]["uri"], "docs://library");
    assert_eq!(
        listed["resourceTemplates"][0]["uriTemplate"],
        "docs://library/{number}"
    );
    let (code, out, _) = run(&["read", &url, "docs://library/1"]);
    assert_eq!(code, 0);
    assert!(out.ends_with("(the full text would be here)\n"), "{out}");
    let (code, out, _) = run(&["read", &url, "docs://library/1", "-o", "json"]);
    assert_eq!(code, 0);
    let read: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(read["contents"][0]["uri"], "docs://library/1");
    let (code, _, err) = run(&["read", &url, "docs://library/99"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("no document 99"), "{err}");

    let (code, out, _) = run(&["prompts", &url]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("summarize title=… [audience=…]\tAsk the model to summarize"),
        "{out}"
    );
    let (code, out, err) = run(&[
        "prompt",
        &url,
        "summarize",
        "--arg",
        "title=Rust",
        "--arg",
        "audience=cats",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "user: Summarize \"Rust\" in five bullet points for cats.\n"
    );
    let (code, out, _) = run(&[
        "prompt",
        &url,
        "summarize",
        "--arg",
        "title=Rust",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0);
    let got: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(got["messages"][0]["role"], "user");
}

/// On a terminal the help is coloured; `NO_COLOR` turns that off (a pseudo-terminal from
/// util-linux's `script`, which every Debian has).
#[test]
fn colour_only_on_a_terminal_and_never_under_no_color() {
    let script = |no_color: bool| {
        let mut cmd = Command::new("script");
        cmd.args([
            "-qec",
            &format!("{} --help", mcp_binary().display()),
            "/dev/null",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm-256color");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().expect("script (util-linux) runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = script(false);
    assert!(
        coloured.contains("\u{1b}[") && coloured.contains("exit codes"),
        "a terminal gets colour: {coloured:?}"
    );
    let plain = script(true);
    assert!(plain.contains("exit codes"), "{plain:?}");
    assert!(!plain.contains('\u{1b}'), "NO_COLOR: {plain:?}");
}
