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
fn run_failing(name: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
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

/// Starts an example on an ephemeral port; returns it and its MCP URL from the log.
pub(crate) fn start_example(name: &str, env: &[(&str, &str)]) -> (Running, String) {
    let (running, url, _) = start_example_logging(name, env);
    (running, url)
}

/// [`start_example`], with the log lines written before it listened.
fn start_example_logging(name: &str, env: &[(&str, &str)]) -> (Running, String, Vec<String>) {
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

#[test]
fn oauth_custom_names_each_bad_variable_at_start_up() {
    let (code, err) = run_failing("oauth_custom", &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("MCP_USE_OAUTH_CUSTOM_ISSUER is not set: set it to your authorization server's issuer URL"), "{err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.trim_start().starts_with("- "))
            .count(),
        1,
        "one mistake, one error: {err}"
    );

    let (code, err) = run_failing(
        "oauth_custom",
        &[("MCP_USE_OAUTH_CUSTOM_ISSUER", "http://auth.example.com")],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains(
            "MCP_USE_OAUTH_CUSTOM_ISSUER is invalid: `http://auth.example.com` uses plain HTTP"
        ),
        "{err}"
    );

    let (_, err) = run_failing(
        "oauth_custom",
        &[
            ("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com"),
            ("MCP_USE_OAUTH_CUSTOM_JWKS_URL", "jwks.json"),
        ],
    );
    assert!(
        err.contains(
            "MCP_USE_OAUTH_CUSTOM_JWKS_URL is invalid: `jwks.json` is not an absolute URL"
        ),
        "{err}"
    );

    let (code, err) = run_failing(
        "oauth_custom",
        &[
            ("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com"),
            ("PORT", "http"),
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("environment variable PORT is invalid: `http` is not a port number"),
        "{err}"
    );
}

#[tokio::test]
async fn oauth_custom_serves_its_tools_to_signed_in_callers() {
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

#[test]
fn quickstart_oauth_names_a_bad_dev_variable_at_start_up() {
    let (code, err) = run_failing(
        "quickstart_oauth",
        &[("MCP_USE_OAUTH_DEV_AUTO_APPROVE", "maybe")],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("OAuth preset `dev`: MCP_USE_OAUTH_DEV_AUTO_APPROVE is invalid: `maybe` is not a boolean; write true or false"),
        "{err}"
    );
    let (code, err) = run_failing("quickstart_oauth", &[("MCP_USE_OAUTH_DEV_TOKEN_TTL", "0")]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("MCP_USE_OAUTH_DEV_TOKEN_TTL is invalid"),
        "{err}"
    );
}

#[test]
fn oauth_proxy_names_each_missing_or_malformed_variable() {
    let full = [
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
    ];
    // Each required variable, left out in turn, is named.
    for (i, (missing, _)) in full.iter().enumerate() {
        let env: Vec<(&str, &str)> = full
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, kv)| *kv)
            .collect();
        let (code, err) = run_failing("oauth_proxy", &env);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("OAuth preset `proxy`: {missing} is not set")),
            "{missing}: {err}"
        );
    }
    // And each malformed one.
    for (var, value, why) in [
        (
            "MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT",
            "http://idp.example/authorize",
            "uses plain HTTP",
        ),
        (
            "MCP_USE_OAUTH_PROXY_TOKEN_AUTH",
            "private_key_jwt",
            "is not a method",
        ),
        (
            "MCP_USE_OAUTH_PROXY_SCOPES",
            "openid \"bad\"",
            "is not a scope",
        ),
        (
            "MCP_USE_OAUTH_PROXY_EXTRA_AUTHORIZE_PARAMS",
            "=x",
            "is not form-encoded",
        ),
        (
            "MCP_USE_OAUTH_PROXY_FORWARD_RESOURCE",
            "maybe",
            "is not a boolean",
        ),
        ("MCP_STORE_ENCRYPTION_KEY", "short", "32 random bytes"),
        (
            "MCP_STORE_URL",
            "mongodb://127.0.0.1",
            "scheme `mongodb` are not supported",
        ),
        // A Redis that does not answer is named once, by the store's user that met it first.
        (
            "MCP_STORE_URL",
            "redis://127.0.0.1:1",
            "cannot connect to Redis at redis://127.0.0.1:1",
        ),
        (
            "MCP_USE_OAUTH_SCOPE_GRANTS",
            "admin=ada",
            "is not `claim:value`",
        ),
    ] {
        let mut env = full.to_vec();
        env.push((var, value));
        let (code, err) = run_failing("oauth_proxy", &env);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains(&format!("{var} is invalid")), "{var}: {err}");
        assert!(err.contains(why), "{var}: {err}");
        assert_eq!(err.matches(var).count(), 1, "one mistake, one error: {err}");
    }
}

/// Replicas sharing a Redis must share the key that encrypts upstream tokens: a proxy on a
/// shared store without it stops at start-up, naming it; with it, it starts.
#[test]
fn an_oauth_proxy_on_a_shared_store_needs_the_encryption_key() {
    let redis = crate::store::Redis::start();
    let url = redis.url();
    let env = [
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
        ("MCP_STORE_URL", url.as_str()),
    ];
    let (code, err) = run_failing("oauth_proxy", &env);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("OAuth preset `proxy`: MCP_STORE_ENCRYPTION_KEY is not set: a store that several replicas share"),
        "{err}"
    );
    let mut with_key = env.to_vec();
    with_key.push((
        "MCP_STORE_ENCRYPTION_KEY",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    ));
    let (_running, _) = start_example("oauth_proxy", &with_key);
}

#[test]
fn oauth_google_names_each_missing_or_malformed_variable() {
    let (code, err) = run_failing(
        "oauth_google",
        &[("MCP_USE_OAUTH_GOOGLE_CLIENT_SECRET", "s")],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("OAuth preset `google`: MCP_USE_OAUTH_GOOGLE_CLIENT_ID is not set"),
        "{err}"
    );
    let (_, err) = run_failing("oauth_google", &[("MCP_USE_OAUTH_GOOGLE_CLIENT_ID", "c")]);
    assert!(
        err.contains("OAuth preset `google`: MCP_USE_OAUTH_GOOGLE_CLIENT_SECRET is not set"),
        "{err}"
    );
    let full = [
        ("MCP_USE_OAUTH_GOOGLE_CLIENT_ID", "c"),
        ("MCP_USE_OAUTH_GOOGLE_CLIENT_SECRET", "s"),
    ];
    for (var, value, why) in [
        (
            "MCP_USE_OAUTH_GOOGLE_BASE_URL",
            "http://google.example",
            "uses plain HTTP",
        ),
        (
            "MCP_USE_OAUTH_SCOPE_GRANTS",
            "admin",
            "is not `scope=claim:value`",
        ),
        (
            "MCP_USE_OAUTH_PROXY_AUTO_APPROVE",
            "perhaps",
            "is not a boolean",
        ),
    ] {
        let mut env = full.to_vec();
        env.push((var, value));
        let (code, err) = run_failing("oauth_google", &env);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("{var} is invalid")) && err.contains(why),
            "{var}: {err}"
        );
    }
}

#[test]
fn oauth_okta_names_each_missing_or_malformed_variable() {
    let (code, err) = run_failing("oauth_okta", &[("MCP_USE_OAUTH_OKTA_CLIENT_ID", "c")]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("OAuth preset `okta`: MCP_USE_OAUTH_OKTA_DOMAIN is not set"),
        "{err}"
    );
    let (_, err) = run_failing(
        "oauth_okta",
        &[("MCP_USE_OAUTH_OKTA_DOMAIN", "dev-1.okta.com")],
    );
    assert!(
        err.contains("OAuth preset `okta`: MCP_USE_OAUTH_OKTA_CLIENT_ID is not set"),
        "{err}"
    );
    let full = [
        ("MCP_USE_OAUTH_OKTA_DOMAIN", "dev-1.okta.com"),
        ("MCP_USE_OAUTH_OKTA_CLIENT_ID", "c"),
    ];
    for (var, value, why) in [
        (
            "MCP_USE_OAUTH_OKTA_DOMAIN",
            "dev-1.okta.com/path",
            "is not a host name",
        ),
        (
            "MCP_USE_OAUTH_OKTA_AUTH_SERVER_ID",
            "a/b",
            "is not an authorization server id",
        ),
    ] {
        let mut env: Vec<(&str, &str)> = full.iter().filter(|(k, _)| *k != var).copied().collect();
        env.push((var, value));
        let (code, err) = run_failing("oauth_okta", &env);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("{var} is invalid")) && err.contains(why),
            "{var}: {err}"
        );
    }
}

#[test]
fn oauth_github_names_each_missing_or_malformed_variable() {
    let (code, err) = run_failing(
        "oauth_github",
        &[("MCP_USE_OAUTH_GITHUB_CLIENT_SECRET", "s")],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("OAuth preset `github`: MCP_USE_OAUTH_GITHUB_CLIENT_ID is not set"),
        "{err}"
    );
    let (_, err) = run_failing("oauth_github", &[("MCP_USE_OAUTH_GITHUB_CLIENT_ID", "c")]);
    assert!(
        err.contains("OAuth preset `github`: MCP_USE_OAUTH_GITHUB_CLIENT_SECRET is not set"),
        "{err}"
    );
    let (code, err) = run_failing(
        "oauth_github",
        &[
            ("MCP_USE_OAUTH_GITHUB_CLIENT_ID", "c"),
            ("MCP_USE_OAUTH_GITHUB_CLIENT_SECRET", "s"),
            ("MCP_USE_OAUTH_GITHUB_BASE_URL", "ftp://github.example"),
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains(
            "MCP_USE_OAUTH_GITHUB_BASE_URL is invalid: `ftp://github.example` has scheme `ftp`"
        ),
        "{err}"
    );
}

#[test]
fn oauth_entra_names_each_missing_or_malformed_variable() {
    let all = [
        ("MCP_USE_OAUTH_ENTRA_TENANT_ID", "organizations"),
        ("MCP_USE_OAUTH_ENTRA_CLIENT_ID", "c"),
        ("MCP_USE_OAUTH_ENTRA_CLIENT_SECRET", "s"),
    ];
    for (missing, _) in all {
        let env: Vec<(&str, &str)> = all.iter().filter(|(k, _)| *k != missing).copied().collect();
        let (code, err) = run_failing("oauth_entra", &env);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("OAuth preset `entra`: {missing} is not set")),
            "{missing}: {err}"
        );
    }
    for (var, value, why) in [
        ("MCP_USE_OAUTH_ENTRA_TENANT_ID", "a/b", "is not a tenant"),
        (
            "MCP_USE_OAUTH_ENTRA_API_SCOPE",
            "admin",
            "is not an API scope",
        ),
        (
            "MCP_USE_OAUTH_ENTRA_BASE_URL",
            "http://login.example",
            "uses plain HTTP",
        ),
    ] {
        let mut env: Vec<(&str, &str)> = all.iter().filter(|(k, _)| *k != var).copied().collect();
        env.push((var, value));
        let (code, err) = run_failing("oauth_entra", &env);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("{var} is invalid")) && err.contains(why),
            "{var}: {err}"
        );
    }
}

/// One process per store file: a second server on the same file stops at start-up, naming
/// the file and what to set.
#[tokio::test]
async fn a_store_file_in_use_is_named_at_start_up() {
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
fn a_public_bind_or_a_bad_mcp_url_is_refused_at_start_up() {
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
fn the_dev_server_refuses_a_public_url_unless_forced() {
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
async fn quickstart_oauth_follows_mcp_url() {
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

#[test]
fn presets_name_each_missing_or_malformed_variable() {
    const DOMAIN: (&str, &str) = ("MCP_USE_OAUTH_AUTH0_DOMAIN", "tenant.us.auth0.com");
    const AUDIENCE: (&str, &str) = ("MCP_USE_OAUTH_AUTH0_AUDIENCE", "https://api.example.com");
    const KC: (&str, &str) = (
        "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
        "https://kc.example.com",
    );
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "oauth_auth0",
            vec![],
            "MCP_USE_OAUTH_AUTH0_DOMAIN is not set: set it to your Auth0 tenant's domain",
        ),
        (
            "oauth_auth0",
            vec![DOMAIN],
            "MCP_USE_OAUTH_AUTH0_AUDIENCE is not set: set it to your Auth0 API's identifier",
        ),
        (
            "oauth_auth0",
            vec![
                ("MCP_USE_OAUTH_AUTH0_DOMAIN", "http://tenant.auth0.com"),
                AUDIENCE,
            ],
            "MCP_USE_OAUTH_AUTH0_DOMAIN is invalid: `http://tenant.auth0.com` uses plain HTTP",
        ),
        (
            "oauth_auth0",
            vec![
                DOMAIN,
                AUDIENCE,
                ("MCP_USE_OAUTH_AUTH0_VERIFY_JWT", "maybe"),
            ],
            "MCP_USE_OAUTH_AUTH0_VERIFY_JWT is invalid: `maybe` is not a boolean",
        ),
        (
            "oauth_workos",
            vec![],
            "MCP_USE_OAUTH_WORKOS_SUBDOMAIN is not set: set it to your AuthKit domain",
        ),
        (
            "oauth_workos",
            vec![("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", "my company")],
            "MCP_USE_OAUTH_WORKOS_SUBDOMAIN is invalid: `my company.authkit.app` is not a host name",
        ),
        (
            "oauth_supabase",
            vec![],
            "MCP_USE_OAUTH_SUPABASE_PROJECT_ID is not set: set it to your project's id",
        ),
        (
            "oauth_supabase",
            vec![("MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "bad id!")],
            "MCP_USE_OAUTH_SUPABASE_PROJECT_ID is invalid: `bad id!` is not a project id",
        ),
        (
            "oauth_supabase",
            vec![("MCP_USE_OAUTH_SUPABASE_URL", "http://abc.supabase.co")],
            "MCP_USE_OAUTH_SUPABASE_URL is invalid",
        ),
        (
            "oauth_keycloak",
            vec![],
            "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL is not set",
        ),
        (
            "oauth_keycloak",
            vec![KC],
            "MCP_USE_OAUTH_KEYCLOAK_REALM is not set: set it to the realm's name",
        ),
        (
            "oauth_keycloak",
            vec![KC, ("MCP_USE_OAUTH_KEYCLOAK_REALM", "a/b")],
            "MCP_USE_OAUTH_KEYCLOAK_REALM is invalid: `a/b` is not a realm name",
        ),
        (
            "oauth_clerk",
            vec![],
            "MCP_USE_OAUTH_CLERK_FRONTEND_API_URL is not set",
        ),
        (
            "oauth_clerk",
            vec![(
                "MCP_USE_OAUTH_CLERK_FRONTEND_API_URL",
                "ftp://clerk.example.com",
            )],
            "MCP_USE_OAUTH_CLERK_FRONTEND_API_URL is invalid: `ftp://clerk.example.com` has scheme `ftp`",
        ),
        (
            "oauth_better_auth",
            vec![],
            "MCP_USE_OAUTH_BETTER_AUTH_URL is not set",
        ),
        (
            "oauth_better_auth",
            vec![("MCP_USE_OAUTH_BETTER_AUTH_URL", "http://app.example.com")],
            "MCP_USE_OAUTH_BETTER_AUTH_URL is invalid: `http://app.example.com` uses plain HTTP",
        ),
    ];
    for (name, env, expected) in cases {
        let (code, err) = run_failing(name, &env);
        assert_eq!(code, Some(1), "{name} {env:?}: {err}");
        assert!(
            err.contains(expected),
            "{name} {env:?}: expected `{expected}` in:\n{err}"
        );
    }
}

#[tokio::test]
async fn oauth_keycloak_runs_from_its_environment_alone() {
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
async fn workos_and_auth0_change_mode_by_their_client_id() {
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
fn the_rotation_example_rotates_the_shared_ring() {
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
async fn mcp_stateless_runs_the_quickstart_without_sessions() {
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
async fn replicas_with_one_encryption_key_take_each_others_input_required_rounds() {
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
