//! The examples refuse a bad configuration at start-up: each missing or malformed variable of
//! each preset is named, with what to write instead.

use crate::examples::*;

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
