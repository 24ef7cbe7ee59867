//! The `mcp` command line against this project's dev authorization server: sign-in driven by a
//! `BROWSER` program that follows redirects (curl), tools, calls with typed `--arg`s, step-up,
//! silent refresh, logout, token files 0600 in a 0700 folder, `--verbose` without secrets,
//! and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::client::dev_server;

fn mcp_binary() -> PathBuf {
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

    let (code, out, _) = tokio::task::block_in_place(|| sb.run(&["logout", &url]));
    assert_eq!(code, 0);
    assert!(out.starts_with("Signed out of"), "{out}");
    assert!(!file.exists(), "the token file is gone");
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
    assert!(err.contains("missing <url|name>"), "{err}");
    let (code, _, err) = sb.run(&["tools", "prod"]);
    assert_eq!(code, 2);
    assert!(err.contains("mcp.json does not exist"), "{err}");
    std::fs::write(
        sb.home.join("mcp.json"),
        r#"{"mcpServers": {"a": {"url": "http://127.0.0.1:9/mcp", "auth": "t"}}}"#,
    )
    .expect("config");
    let (code, out, _) = sb.run(&["servers"]);
    assert_eq!(code, 0);
    assert_eq!(out, "a\thttp://127.0.0.1:9/mcp\tbearer token\n");
    let (code, _, err) = sb.run(&["tools", "b"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no server `b` in the configuration (it has: a)"),
        "{err}"
    );
    let (code, _, err) = sb.run(&["tools", "a"]);
    assert_eq!(code, 4, "unreachable: {err}");
    assert!(err.contains("cannot reach the MCP server"), "{err}");
    let (code, out, _) = sb.run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("exit codes"));
}
