//! The examples as users run them: the binaries, configured by their environment.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::auth::{Issuer, now, sign};
use crate::common::*;

pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("examples");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the examples first (`cargo build --examples`)",
        path.display()
    );
    path
}

/// Runs an example to completion with exactly these variables; returns (exit code, stderr).
pub(crate) fn run_failing(name: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(example(name));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .current_dir(std::env::temp_dir())
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) struct Running(pub(crate) Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `.env` is read before anything reads the environment, on the builder path too
/// (`Quickstart::builder().state(..).build()?.run()`, which reads the `MCP_*` settings by
/// default): a malformed `MCP_STATELESS` written only in `.env` is named at start-up.
#[test]
fn dotenv_is_read_on_the_builder_path_and_mcp_settings_by_default() {
    let dir = std::env::temp_dir().join(format!("mcp-dotenv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("folder");
    std::fs::write(dir.join(".env"), "MCP_STATELESS=maybe\n").expect(".env");
    let mut child = Command::new(example("quickstart"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // A server that ignored `.env` would start and serve: give it ten seconds to refuse.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break Some(status);
        }
        if started.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let status = status.unwrap_or_else(|| panic!("the quickstart started despite its .env: {err}"));
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("MCP_STATELESS must be `true` or `false`, got `maybe`"),
        "{err}"
    );
}

/// Starts an example on an ephemeral port; returns it and its MCP URL from the log.
pub(crate) fn start_example(name: &str, env: &[(&str, &str)]) -> (Running, String) {
    let (running, url, _) = start_example_logging(name, env);
    (running, url)
}

/// [`start_example`], with the log lines written before it listened.
pub(crate) fn start_example_logging(
    name: &str,
    env: &[(&str, &str)],
) -> (Running, String, Vec<String>) {
    let mut cmd = Command::new(example(name));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut log = Vec::new();
    loop {
        let line = lines
            .next()
            .expect("the example exited before listening")
            .expect("log line");
        log.push(line.clone());
        if let Some(i) = line.find("listening on http://") {
            let url = line[i + "listening on ".len()..]
                .split_whitespace()
                .next()
                .expect("url")
                .to_owned();
            // Keep draining the log so the example never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (
                running,
                url.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                    .to_owned(),
                log,
            );
        }
    }
}

#[tokio::test]
pub(crate) async fn oauth_custom_serves_its_tools_to_signed_in_callers() {
    let issuer = Issuer::start(&["k1"]);
    // The JWKS URL is discovered from the issuer's openid-configuration.
    let (_example, url) = start_example(
        "oauth_custom",
        &[
            ("MCP_USE_OAUTH_CUSTOM_ISSUER", &issuer.url),
            ("MCP_USE_OAUTH_CUSTOM_SCOPES", "openid profile"),
        ],
    );
    let anonymous = http()
        .post(&url)
        .header("content-type", "application/json")
        .body(init_body(V_LATEST).to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .starts_with("Bearer resource_metadata=")
    );

    let claims = |scope: &str| json!({"iss": issuer.url, "sub": "ada", "aud": url, "exp": now() + 600, "scope": scope, "email": "ada@example.com"});
    let mut c = Client {
        url: url.clone(),
        ..Client::new_raw()
    };
    c.bearer = Some(sign("k1", "k1", &claims("openid")));
    let c = c.connect_raw(V_LATEST).await;
    let who = c.call("get-user-info", json!({})).await;
    assert_eq!(who["result"]["structuredContent"]["userId"], "ada");
    assert_eq!(
        who["result"]["structuredContent"]["email"],
        "ada@example.com"
    );
    let denied = c.post_raw(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin-action","arguments":{"action":"x"}}})).await;
    assert_eq!(denied.status, 403);

    let metadata: serde_json::Value = http()
        .get(url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .expect("prm")
        .json()
        .await
        .expect("json");
    assert_eq!(metadata["authorization_servers"], json!([issuer.url]));
    assert_eq!(
        metadata["scopes_supported"],
        json!(["openid", "profile", "admin"])
    );
}

/// One process per store file: a second server on the same file stops at start-up, naming
/// the file and what to set.
#[tokio::test]
pub(crate) async fn a_store_file_in_use_is_named_at_start_up() {
    let path = crate::store::temp_file("examples");
    let url = path.display().to_string();
    let (_running, _) = start_example("quickstart_oauth", &[("MCP_STORE_URL", url.as_str())]);
    let (code, err) = run_failing("quickstart_oauth", &[("MCP_STORE_URL", url.as_str())]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!(
            "MCP_STORE_URL is invalid: {url}: another process has this store open"
        )),
        "{err}"
    );
    drop(_running);
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

#[test]
pub(crate) fn a_public_bind_or_a_bad_mcp_url_is_refused_at_start_up() {
    let (code, err) = run_failing("quickstart_oauth", &[("HOST", "0.0.0.0")]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("0.0.0.0:0 is not a loopback address") && err.contains("set MCP_URL"),
        "{err}"
    );
    let (code, err) = run_failing(
        "quickstart_oauth",
        &[("MCP_URL", "http://localhost:80@evil.example/mcp")],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("MCP_URL is invalid: `http://localhost:80@evil.example/mcp` has user info"),
        "{err}"
    );
}

/// The development authorization server lets anyone sign in as anyone: on a public URL that
/// is not a loopback address it refuses to start unless forced by name, and warns at each
/// start when it is. Whatever the build profile: a debug build deployed is as exposed as a
/// release one.
#[test]
pub(crate) fn the_dev_server_refuses_a_public_url_unless_forced() {
    for url in [
        "https://mcp.example.com/mcp",
        "https://203.0.113.7/mcp",
        "https://[2001:db8::1]/mcp",
    ] {
        let (code, err) = run_failing("quickstart_oauth", &[("MCP_URL", url)]);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("the public URL `{url}` is not a loopback address"))
                && err.contains("MCP_USE_OAUTH_DEV_ALLOW_PUBLIC=true"),
            "{err}"
        );
    }
    let (code, err) = run_failing(
        "quickstart_oauth",
        &[
            ("MCP_URL", "https://mcp.example.com/mcp"),
            ("MCP_USE_OAUTH_DEV_ALLOW_PUBLIC", "yes"),
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("MCP_USE_OAUTH_DEV_ALLOW_PUBLIC is invalid: `yes` is not `true` or `false`"),
        "{err}"
    );
    // Loopback public URLs (a local reverse proxy, tests) need no switch.
    let (_running, _, log) = start_example_logging(
        "quickstart_oauth",
        &[("MCP_URL", "http://localhost:8080/mcp")],
    );
    assert!(
        !log.iter()
            .any(|l| l.contains("MCP_USE_OAUTH_DEV_ALLOW_PUBLIC")),
        "{log:?}"
    );
}

/// `MCP_URL` alone makes the example deployable (forced, for the dev server): the resource,
/// the dev server's issuer and the discovery documents follow it.
#[tokio::test]
pub(crate) async fn quickstart_oauth_follows_mcp_url() {
    let (_running, url, log) = start_example_logging(
        "quickstart_oauth",
        &[
            ("MCP_URL", "https://mcp.example.com/mcp"),
            ("MCP_USE_OAUTH_DEV_ALLOW_PUBLIC", "true"),
        ],
    );
    assert!(
        log.iter().any(|l| l.contains("WARN")
            && l.contains("serves the public URL https://mcp.example.com/mcp")
            && l.contains("anyone who reaches it can sign in as anyone")),
        "a warning at each start: {log:?}"
    );
    let base = url.trim_end_matches("/mcp");
    let r = http()
        .get(format!("{base}/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .expect("prm");
    assert_eq!(r.status(), 200);
    let prm: serde_json::Value = r.json().await.expect("json");
    assert_eq!(prm["resource"], "https://mcp.example.com/mcp");
    assert_eq!(
        prm["authorization_servers"],
        json!(["https://mcp.example.com"])
    );
    let (status, asm) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, 200);
    assert_eq!(asm["issuer"], "https://mcp.example.com");
    assert_eq!(
        asm["authorization_endpoint"],
        "https://mcp.example.com/oauth/authorize"
    );
}

#[tokio::test]
pub(crate) async fn oauth_keycloak_runs_from_its_environment_alone() {
    let fx = crate::presets::Fixture::start();
    let (_example, url) = start_example(
        "oauth_keycloak",
        &[
            ("MCP_USE_OAUTH_KEYCLOAK_SERVER_URL", &fx.base),
            ("MCP_USE_OAUTH_KEYCLOAK_REALM", "mcp"),
            ("MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID", "mcp-server"),
        ],
    );
    let claims = json!({"iss": format!("{}/realms/mcp", fx.base), "sub": "kc-1", "aud": url,
        "exp": now() + 600, "preferred_username": "ada",
        "resource_access": {"mcp-server": {"roles": ["admin"]}}});
    let mut c = Client {
        url: url.clone(),
        ..Client::new_raw()
    };
    c.bearer = Some(sign("k1", "k1", &claims));
    let c = c.connect_raw(V_LATEST).await;
    let who = c.call("get-user-info", json!({})).await;
    assert_eq!(who["result"]["structuredContent"]["username"], "ada");
    let r = c.call("admin-action", json!({"action": "rotate"})).await;
    assert_eq!(text(&r), "kc-1 performed `rotate`");
}

/// `oauth_workos` and `oauth_auth0` change mode by their client id alone, and say so at
/// start-up: without one, clients register at the provider (its metadata relayed); with one,
/// they register here (the OAuth proxy).
#[tokio::test]
pub(crate) async fn workos_and_auth0_change_mode_by_their_client_id() {
    let fx = crate::presets::Fixture::start();
    let workos = [("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", fx.base.as_str())];
    let auth0 = [
        ("MCP_USE_OAUTH_AUTH0_DOMAIN", fx.base.as_str()),
        ("MCP_USE_OAUTH_AUTH0_AUDIENCE", "https://api.example.com"),
    ];
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, bool);
    let cases: Vec<Case> = vec![
        (
            "oauth_workos",
            workos.to_vec(),
            "WorkOS in direct mode",
            false,
        ),
        (
            "oauth_workos",
            [
                &workos[..],
                &[("MCP_USE_OAUTH_WORKOS_CLIENT_ID", "client_01")],
            ]
            .concat(),
            "WorkOS in proxy mode: MCP_USE_OAUTH_WORKOS_CLIENT_ID is set",
            true,
        ),
        ("oauth_auth0", auth0.to_vec(), "Auth0 in direct mode", false),
        (
            "oauth_auth0",
            [
                &auth0[..],
                &[
                    ("MCP_USE_OAUTH_AUTH0_CLIENT_ID", "abc"),
                    ("MCP_USE_OAUTH_AUTH0_CLIENT_SECRET", "s3cr3t-value"),
                ],
            ]
            .concat(),
            "Auth0 in proxy mode: MCP_USE_OAUTH_AUTH0_CLIENT_ID is set",
            true,
        ),
    ];
    for (name, env, line, proxy) in cases {
        let (_example, url, log) = start_example_logging(name, &env);
        assert!(
            log.iter().any(|l| l.contains(line)),
            "{name}: no `{line}` in {log:#?}"
        );
        assert!(
            !log.iter().any(|l| l.contains("s3cr3t-value")),
            "{name}: the client secret is never logged"
        );
        let base = url.trim_end_matches("/mcp");
        let (status, m) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
        assert_eq!(status, 200, "{name}: {m}");
        if proxy {
            assert_eq!(m["issuer"], base, "{name}: this server is the issuer");
            assert_eq!(m["registration_endpoint"], format!("{base}/register"));
        } else {
            assert_ne!(m["issuer"], base, "{name}: the provider is the issuer");
        }
    }
}

/// `examples/rotate_signing_key`: a rotation started from outside the servers, on the store
/// they share; misuse is named.
#[test]
pub(crate) fn the_rotation_example_rotates_the_shared_ring() {
    let (code, err) = run_failing("rotate_signing_key", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("MCP_STORE_URL is not set"), "{err}");
    let redis = crate::store::Redis::start();
    let url = redis.url();
    let out = Command::new(example("rotate_signing_key"))
        .arg("0")
        .env("MCP_STORE_URL", &url)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("new signing key "), "{stdout}");
    assert!(
        stdout.contains("signing in 0s (redis redis://127.0.0.1:"),
        "{stdout}"
    );
    let out = Command::new(example("rotate_signing_key"))
        .arg("soon")
        .env("MCP_STORE_URL", &url)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("publication time in seconds"));
}

#[tokio::test]
pub(crate) async fn mcp_stateless_runs_the_quickstart_without_sessions() {
    let (_qs, url) = start_example(
        "quickstart",
        &[("MCP_STATELESS", "true"), ("MCP_WORKERS", "3")],
    );
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "it", "version": "1"}}});
    let r = http()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(init.to_string())
        .send()
        .await
        .expect("initialize");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("mcp-session-id").is_none(),
        "stateless: no session"
    );
    // A call with no session is served.
    let r = http()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "add", "arguments": {"a": 40, "b": 2}}})
            .to_string(),
        )
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("body").contains("\"42\""));

    let (code, err) = run_failing("quickstart", &[("MCP_WORKERS", "0")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("MCP_WORKERS must be a number of HTTP worker threads (at least 1), got `0`"),
        "{err}"
    );
    let (code, err) = run_failing("quickstart", &[("MCP_STATELESS", "maybe")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("MCP_STATELESS must be `true` or `false`, got `maybe`"),
        "{err}"
    );
}

#[tokio::test]
pub(crate) async fn mcp_metrics_addr_gives_the_quickstart_a_metrics_listener() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let (_qs, url) = start_example("quickstart", &[("MCP_METRICS_ADDR", addr.as_str())]);
    let r = http()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "it", "version": "1"}}})
            .to_string(),
        )
        .send()
        .await
        .expect("initialize");
    assert_eq!(r.status(), 200);
    let r = http()
        .get(format!("http://{addr}/metrics"))
        .header("host", format!("10.0.0.7:{port}"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("body");
    assert!(
        body.lines()
            .any(|l| l == r#"mcp_requests_total{method="initialize",status="200"} 1"#),
        "{body}"
    );

    let (code, err) = run_failing("quickstart", &[("MCP_METRICS_ADDR", "everywhere")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(
            "MCP_METRICS_ADDR must be an address and port for the metrics listener, e.g. \
             `0.0.0.0:9464`, got `everywhere`"
        ),
        "{err}"
    );
}

#[tokio::test]
pub(crate) async fn replicas_with_one_encryption_key_take_each_others_input_required_rounds() {
    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let env = [("MCP_STORE_ENCRYPTION_KEY", KEY)];
    let (_a, url_a) = start_example("conformance", &env);
    let (_b, url_b) = start_example("conformance", &env);
    let (_c, url_c) = start_example(
        "conformance",
        &[(
            "MCP_STORE_ENCRYPTION_KEY",
            "HwAeHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE",
        )],
    );
    let caps = json!({"io.modelcontextprotocol/clientCapabilities": {"sampling": {}}});
    let call = |extra: serde_json::Value| {
        let mut params = json!({"name": "test_sampling", "arguments": {"prompt": "hi"},
            "_meta": crate::modern::meta(caps.clone())});
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        params
    };
    // Round 1 on one replica: the tool asks for a sampling.
    let first = crate::modern::request(&url_a, 1, "tools/call", call(json!({})), &[], None)
        .await
        .message();
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    let (key, _) = first["result"]["inputRequests"]
        .as_object()
        .and_then(|m| m.iter().next())
        .expect("one input request");
    let answer = json!({
        "inputResponses": {key.clone(): {"role": "assistant", "model": "m",
            "content": {"type": "text", "text": "hello"}}},
        "requestState": first["result"]["requestState"].clone(),
    });
    // Round 2 on another replica with the same secret: it opens the state and completes.
    let done = crate::modern::request(&url_b, 2, "tools/call", call(answer.clone()), &[], None)
        .await
        .message();
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert_eq!(done["result"]["content"][0]["text"], "LLM response: hello");
    // A server with another secret refuses the state.
    let refused = crate::modern::request(&url_c, 3, "tools/call", call(answer), &[], None)
        .await
        .json();
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("it was altered, or another server issued it")),
        "{refused}"
    );

    // A stateless server with the secret needs no store: an unreachable Redis is never asked.
    let unreachable = [
        ("MCP_STATELESS", "true"),
        ("MCP_STORE_URL", "redis://127.0.0.1:9"),
    ];
    let (_d, url_d) = start_example(
        "quickstart",
        &[
            unreachable[0],
            unreachable[1],
            ("MCP_STORE_ENCRYPTION_KEY", KEY),
        ],
    );
    assert!(url_d.starts_with("http://127.0.0.1:"), "{url_d}");
    // Without it, the store must give the key, and one that cannot be reached is named.
    let (code, err) = run_failing("quickstart", &unreachable);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(
            "MCP_STORE_URL (shared by replicas): cannot connect to Redis at redis://127.0.0.1:9"
        ),
        "{err}"
    );

    let (code, err) = run_failing("quickstart", &[("MCP_STORE_ENCRYPTION_KEY", "short")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("MCP_STORE_ENCRYPTION_KEY must be 32 random bytes in base64url"),
        "{err}"
    );
}

/// The container recipe (`Dockerfile`): its build stage has the C toolchain aws-lc-rs needs and
/// its runtime stage is small; the binary it packages, run with exactly its `ENV` lines (the
/// volume moved to a temporary folder, the port to an ephemeral one), serves on every
/// interface under the public URL given at `docker run`, answers the probe whatever `Host` the
/// orchestrator sends, and keeps its store on the volume.
#[tokio::test]
pub(crate) async fn the_container_recipe_s_settings_serve_and_keep_the_store_on_the_volume() {
    let recipe = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile"))
        .expect("the Dockerfile");
    let stages: Vec<&str> = recipe.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        stages,
        [
            "FROM rust:1.95.0-bookworm AS build",
            "FROM debian:bookworm-slim"
        ],
        "a multi-stage build on the toolchain rust-toolchain.toml pins"
    );
    assert!(
        recipe.contains("build-essential cmake"),
        "aws-lc-rs compiles C"
    );
    assert!(recipe.contains("VOLUME /var/lib/mcp"));
    let example_arg = recipe
        .lines()
        .find_map(|l| l.strip_prefix("ARG EXAMPLE="))
        .expect("ARG EXAMPLE");
    assert_eq!(example_arg, "oauth_proxy");

    let volume = std::env::temp_dir().join(format!("mcp-container-{}", std::process::id()));
    std::fs::create_dir_all(&volume).expect("volume");
    let mut env: Vec<(String, String)> = recipe
        .lines()
        .filter_map(|l| l.strip_prefix("ENV "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.replace("/var/lib/mcp", &volume.display().to_string());
            (k.to_owned(), if k == "PORT" { "0".to_owned() } else { v })
        })
        .collect();
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["HOST", "PORT", "MCP_STORE_URL", "RUST_LOG"]);
    for (k, v) in [
        ("MCP_URL", "https://mcp.example.test/mcp"),
        (
            "MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT",
            "https://idp.example/authorize",
        ),
        (
            "MCP_USE_OAUTH_PROXY_TOKEN_ENDPOINT",
            "https://idp.example/token",
        ),
        ("MCP_USE_OAUTH_PROXY_ISSUER", "https://idp.example"),
        ("MCP_USE_OAUTH_PROXY_CLIENT_ID", "app"),
        ("MCP_USE_OAUTH_PROXY_JWKS_URL", "https://idp.example/jwks"),
    ] {
        env.push((k.into(), v.into()));
    }
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (running, url) = start_example(example_arg, &env_refs);
    assert!(url.starts_with("http://0.0.0.0:"), "every interface: {url}");
    let port = url
        .trim_start_matches("http://0.0.0.0:")
        .split('/')
        .next()
        .expect("port")
        .to_owned();
    // A kubelet probes the pod by its IP.
    let r = http()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .header("host", format!("10.42.0.17:{port}"))
        .send()
        .await
        .expect("probe");
    assert_eq!(r.status(), 200);
    // Clients come through the public URL, which is the resource and the issuer.
    let r = http()
        .get(format!(
            "http://127.0.0.1:{port}/.well-known/oauth-authorization-server"
        ))
        .header("host", "mcp.example.test")
        .send()
        .await
        .expect("metadata");
    assert_eq!(r.status(), 200);
    let metadata: serde_json::Value = r.json().await.expect("json");
    assert_eq!(metadata["issuer"], "https://mcp.example.test");
    assert_eq!(
        metadata["registration_endpoint"],
        "https://mcp.example.test/register"
    );
    assert!(
        volume.join("store.redb").is_file(),
        "the store is on the volume"
    );
    drop(running);
    let _ = std::fs::remove_dir_all(&volume);
}

/// `examples/mounted`: the application's own routes and state beside the MCP endpoint, whose
/// OAuth (the dev server's discovery, registration, sign-in and tokens) works when mounted.
#[tokio::test]
pub(crate) async fn the_mounted_example_keeps_the_app_s_routes_and_serves_mcp_with_oauth() {
    let (_shop, url) = start_example("mounted", &[("MCP_USE_OAUTH_DEV_AUTO_APPROVE", "true")]);
    let base = url.trim_end_matches("/mcp").to_owned();
    let r = http().get(format!("{base}/")).send().await.expect("home");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.expect("body"),
        "The Shop. MCP clients: /mcp\n"
    );
    let orders: serde_json::Value = http()
        .get(format!("{base}/api/orders"))
        .send()
        .await
        .expect("orders")
        .json()
        .await
        .expect("json");
    assert_eq!(orders, json!({"placed": 0}));

    // The endpoint asks for a token and points at its metadata, at the root of the app.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "it", "version": "1"}}});
    let r = http()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(init.to_string())
        .send()
        .await
        .expect("initialize");
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains(&format!(
                "resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
            ))
    );
    // Sign in with the dev server mounted in the app, then use the app's state through a tool.
    let client_id = crate::devserver::public_client(&base).await;
    let (verifier, challenge) = crate::devserver::pkce();
    let code = crate::devserver::code_for(&base, &client_id, &challenge, "orders:write").await;
    let tokens = crate::devserver::exchange(&base, &client_id, &code, &verifier).await;
    let token = tokens["access_token"].as_str().expect("a token").to_owned();
    let mut c = crate::common::Client::new_raw();
    c.url = url.clone();
    c.bearer = Some(token);
    let c = c.connect_raw("2025-11-25").await;
    assert_eq!(
        crate::common::text(&c.call("place-order", json!({"item": "tea"})).await),
        "order 1: tea"
    );
    let orders: serde_json::Value = http()
        .get(format!("{base}/api/orders"))
        .send()
        .await
        .expect("orders")
        .json()
        .await
        .expect("json");
    assert_eq!(
        orders,
        json!({"placed": 1}),
        "the app and the tool share the state"
    );
}

/// `examples/client`: connects, lists the tools, and calls one while its progress streams in.
#[tokio::test]
pub(crate) async fn the_client_example_lists_tools_and_streams_progress() {
    let (_qs, url) = start_example("quickstart", &[]);
    let home = std::env::temp_dir().join(format!("mcp-client-example-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("home");
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        let home = home.clone();
        move || {
            Command::new(example("client"))
                .args([url.as_str(), "count_slowly", r#"{"steps": 3}"#])
                .env("HOME", &home)
                .output()
                .expect("runs")
        }
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("connected to quickstart 1.0.0\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  add: "), "{stdout}");
    assert!(
        stdout.contains("calling count_slowly with {\"steps\":3}"),
        "{stdout}"
    );
    assert!(stderr.contains("progress 3/3 step 3 of 3"), "{stderr}");
    let _ = std::fs::remove_dir_all(&home);
}
