//! The proxy-mode presets (Google, GitHub, Entra, Okta, Auth0 and WorkOS with a client id)
//! against the local identity provider in each one's URL layout and token shape: the whole
//! sign-in, what the provider is asked, the claims and scopes that come back, and outages.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mcp_runtime::prelude::*;
use mcp_runtime::providers::ProxyProvider;
use serde_json::json;

use crate::common::*;
use crate::devserver::pkce;
use crate::idp::*;

/// The `google` preset against a fixture with Google's URL layout: `access_type=offline` and
/// `prompt=consent` upstream, identity from the ID token, `admin` by a scope grant.
#[tokio::test]
async fn the_google_preset_signs_in_with_the_id_token() {
    use mcp_runtime::providers::GoogleProvider;
    let idp = Idp::start();
    idp.identity_only.store(true, Ordering::SeqCst);
    let google = GoogleProvider {
        base_url: Some(idp.url.clone()),
        ..GoogleProvider::new("proxy-client", "proxy-secret")
    };
    let proxy = google
        .into_proxy()
        .expect("google settings")
        .store(memory())
        .auto_approve(true)
        .grant_scope("admin", "email", "alice@example.com");
    let (server, base) = start_proxy(proxy);
    let (upstream, tokens) = sign_in(&base, "openid admin").await;
    assert!(
        upstream.starts_with(&format!("{}/o/oauth2/v2/auth?", idp.url)),
        "{upstream}"
    );
    let q = query(&upstream);
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(
        q["scope"], "openid email profile",
        "Google is not asked for this server's scopes"
    );
    assert_eq!(tokens["scope"], "openid admin");
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(who["result"]["structuredContent"]["sub"], "alice");
    assert_eq!(
        who["result"]["structuredContent"]["picture"],
        "https://example.com/alice.png"
    );
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "x"})).await),
        "did x"
    );
    server.stop().await;
}

/// The `okta` preset against a fixture with Okta's URL layout and token shape: `scp` as an
/// array grants `admin`, `groups` reach the caller's claims.
#[tokio::test]
async fn the_okta_preset_reads_scp_and_groups() {
    use mcp_runtime::providers::OktaProvider;
    let idp = Idp::start();
    idp.okta_shape.store(true, Ordering::SeqCst);
    let okta = OktaProvider {
        client_secret: Some("proxy-secret".into()),
        audience: Some(API.into()),
        ..OktaProvider::new(idp.url.clone(), "proxy-client")
    };
    let proxy = okta
        .into_proxy()
        .expect("okta settings")
        .store(memory())
        .auto_approve(true);
    let (server, base) = start_proxy(proxy);
    let (upstream, tokens) = sign_in(&base, "openid admin").await;
    assert!(
        upstream.starts_with(&format!("{}/oauth2/default/v1/authorize?", idp.url)),
        "{upstream}"
    );
    assert_eq!(
        tokens["scope"], "openid admin",
        "granted through Okta's `scp` array"
    );
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(
        who["result"]["structuredContent"]["groups"],
        json!(["Everyone", "mcp-admins"])
    );
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "y"})).await),
        "did y"
    );
    server.stop().await;
}

/// The `github` preset against a fixture with GitHub's layout and habits: no PKCE upstream,
/// a form-encoded answer with an opaque token and no ID token, identity from `/user`.
#[tokio::test]
async fn the_github_preset_asks_the_user_api_who_signed_in() {
    use mcp_runtime::providers::GitHubProvider;
    let idp = Idp::start();
    idp.github_shape.store(true, Ordering::SeqCst);
    let github = GitHubProvider {
        base_url: Some(idp.url.clone()),
        ..GitHubProvider::new("proxy-client", "proxy-secret")
    };
    let proxy = github
        .into_proxy()
        .expect("github settings")
        .store(memory())
        .auto_approve(true)
        .grant_scope("admin", "login", "octocat");
    let (server, base) = start_proxy(proxy);
    let (upstream, tokens) = sign_in(&base, "openid admin").await;
    assert!(
        upstream.starts_with(&format!("{}/login/oauth/authorize?", idp.url)),
        "{upstream}"
    );
    let q = query(&upstream);
    assert!(
        !q.contains_key("code_challenge"),
        "no PKCE with GitHub OAuth apps"
    );
    assert_eq!(q["scope"], "read:user user:email");
    assert_eq!(tokens["scope"], "openid admin");
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    let who = &who["result"]["structuredContent"];
    assert_eq!(who["sub"], "583231");
    assert_eq!(who["picture"], "https://avatars.example.com/u/583231");
    assert_eq!(who["upstream"], "gho_0");
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "z"})).await),
        "did z"
    );
    server.stop().await;
}

/// The `entra` preset against a fixture with Entra's v2.0 layout: the API scope asked for (and
/// never `resource`), `scp` granting `admin`, the tenant's issuer checked for a tenant id and,
/// per token, for `organizations`; and a multi-tenant app takes grants only from the tenants
/// it allows (another tenant's administrator controls its users' `scp` and `roles`).
#[tokio::test]
async fn the_entra_preset_checks_the_tenant_and_reads_scp() {
    use mcp_runtime::providers::EntraProvider;
    let idp = Idp::start();
    let guid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let ours = "b1e2c3d4-0000-4000-8000-000000000001";
    let theirs = "e7e7e7e7-0000-4000-8000-00000000bad0";
    for (tenant, tid, ok, granted) in [
        (guid, guid, true, "openid admin"),
        ("organizations", ours, true, "openid admin"),
        ("organizations", theirs, true, "openid"),
        ("organizations", "forged-tid", false, ""),
    ] {
        *idp.entra_tid.lock().expect("lock") = Some(tid.to_owned());
        let entra = EntraProvider {
            api_scopes: vec!["api://mcp/admin".into()],
            base_url: Some(idp.url.clone()),
            allowed_tenants: vec![ours.to_owned()],
            ..EntraProvider::new(tenant, "proxy-client", "proxy-secret")
        };
        let proxy = entra
            .into_proxy()
            .expect("entra settings")
            .store(memory())
            .auto_approve(true);
        let (server, base) = start_proxy(proxy);
        let client_id = register(&base, CLIENT_REDIRECT).await;
        let (verifier, challenge) = pkce();
        let (_, h, _) = get(
            &authorize_url(&base, &client_id, &challenge, "openid admin", "e"),
            None,
        )
        .await;
        let upstream = location(&h);
        assert!(
            upstream.starts_with(&format!("{}/{tenant}/oauth2/v2.0/authorize?", idp.url)),
            "{upstream}"
        );
        let q = query(&upstream);
        assert!(!q.contains_key("resource"), "Entra never gets `resource`");
        assert_eq!(
            q["scope"],
            "openid profile email offline_access api://mcp/admin"
        );
        let back = through_upstream(&h).await;
        let q = query(&back);
        if !ok {
            assert_eq!(q["error"], "access_denied", "{back}");
            assert!(
                q["error_description"].contains("is not its tenant's"),
                "{back}"
            );
            server.stop().await;
            continue;
        }
        let (status, tokens) = redeem(&base, &client_id, &q["code"], &verifier).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(
            tokens["scope"], granted,
            "granted through Entra's `scp` for tenant {tid}"
        );
        let c = Client::connect_as(
            &server,
            V_LATEST,
            Some(tokens["access_token"].as_str().expect("token").to_owned()),
        )
        .await;
        assert_admin(&c, granted.contains("admin")).await;
        server.stop().await;
    }
}

/// The `auth0` preset with `MCP_USE_OAUTH_AUTH0_CLIENT_ID` (here in code) runs behind the
/// proxy: consent here, `audience` sent to the tenant, RBAC `permissions` grant `admin`.
#[tokio::test]
async fn the_auth0_preset_with_a_client_id_runs_behind_the_proxy() {
    use mcp_runtime::auth::verifier::Secret;
    use mcp_runtime::providers::Auth0Provider;
    let idp = Idp::start();
    idp.auth0_shape.store(true, Ordering::SeqCst);
    let auth0 = Auth0Provider {
        client_id: Some("proxy-client".into()),
        client_secret: Some(Secret::new("proxy-secret")),
        ..Auth0Provider::new(idp.url.clone(), API)
    };
    let oauth = auth0.into_oauth(http()).expect("proxy mode");
    let server = start(
        McpServer::builder()
            .tools(tools![whoami, admin_action])
            .oauth(oauth),
    );
    let base = format!("http://{}", server.addr());
    let (status, m) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, 200);
    assert_eq!(
        m["registration_endpoint"],
        format!("{base}/register"),
        "clients register here"
    );
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let (status, h, page) = get(
        &authorize_url(&base, &client_id, &challenge, "openid admin", "a0"),
        None,
    )
    .await;
    assert_eq!(status, 200, "the consent page");
    let (status, h, body) = approve_consent(&base, &h, &page).await;
    assert_eq!(status, 302, "{body}");
    let upstream = location(&h);
    assert!(
        upstream.starts_with(&format!("{}/authorize?", idp.url)),
        "{upstream}"
    );
    assert_eq!(
        query(&upstream)["audience"],
        API,
        "so that Auth0 issues a JWT for the API"
    );
    let back = through_upstream(&h).await;
    let (status, tokens) = redeem(&base, &client_id, &query(&back)["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        tokens["scope"], "openid admin",
        "granted through Auth0's permissions"
    );
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    assert_eq!(
        who["result"]["structuredContent"]["roles"],
        json!(["support"]),
        "the namespaced roles claim an Auth0 Action adds"
    );
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "a"})).await),
        "did a"
    );
    server.stop().await;
}

/// The `workos` preset with `MCP_USE_OAUTH_WORKOS_CLIENT_ID` (here in code) runs behind the
/// proxy: AuthKit's URL layout, `resource` forwarded at authorize and at token (RFC 8707), the
/// organization and role in the caller's identity, `permissions` granting `admin`.
#[tokio::test]
async fn the_workos_preset_with_a_client_id_runs_behind_the_proxy() {
    use mcp_runtime::providers::WorkOsProvider;
    let idp = Idp::start();
    idp.workos_shape.store(true, Ordering::SeqCst);
    let oauth = WorkOsProvider::new(idp.url.clone())
        .client_id("proxy-client")
        .client_secret("proxy-secret")
        .into_oauth(http())
        .expect("proxy mode");
    let server = start(
        McpServer::builder()
            .tools(tools![whoami, admin_action])
            .oauth(oauth),
    );
    let base = format!("http://{}", server.addr());
    let (status, m) = get_json(format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, 200);
    assert_eq!(m["issuer"], base, "this server is the authorization server");
    assert_eq!(m["registration_endpoint"], format!("{base}/register"));
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (_, challenge) = pkce();
    let (status, _, _) = get(
        &authorize_url(&base, &client_id, &challenge, "openid admin", "w"),
        None,
    )
    .await;
    assert_eq!(status, 200, "the consent page: no auto-approval by default");
    let proxy = WorkOsProvider::new(idp.url.clone())
        .client_id("proxy-client")
        .client_secret("proxy-secret")
        .into_proxy()
        .expect("proxy settings")
        .store(memory())
        .auto_approve(true);
    server.stop().await;
    let (server, base) = start_proxy(proxy);
    let (upstream, tokens) = sign_in(&base, "openid admin").await;
    assert!(
        upstream.starts_with(&format!("{}/oauth2/authorize?", idp.url)),
        "{upstream}"
    );
    let q = query(&upstream);
    assert_eq!(q["resource"], format!("{base}/mcp"), "bound to this server");
    assert_eq!(q["scope"], "email offline_access openid profile admin");
    assert_eq!(
        tokens["scope"], "openid admin",
        "granted through AuthKit's permissions"
    );
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    let who = &who["result"]["structuredContent"];
    assert_eq!(who["organizationId"], "org_7");
    assert_eq!(who["roles"], json!(["member"]));
    assert_eq!(
        text(&c.call("admin-action", json!({"action": "w"})).await),
        "did w"
    );
    server.stop().await;
}

/// Without a client id the WorkOS and Auth0 presets stay in direct mode (no registration
/// endpoint here); with one but no secret for Auth0, or a malformed host, the error names the
/// variable.
#[test]
fn the_mode_follows_the_client_id() {
    use mcp_runtime::providers::{Auth0Provider, WorkOsProvider};
    let err = WorkOsProvider::new("https://acme.authkit.app")
        .into_proxy()
        .expect_err("no client id");
    assert!(
        err.to_string()
            .starts_with("MCP_USE_OAUTH_WORKOS_CLIENT_ID is not set"),
        "{err}"
    );
    let err = Auth0Provider::new("acme.us.auth0.com", API)
        .into_proxy()
        .expect_err("no client id");
    assert!(
        err.to_string()
            .starts_with("MCP_USE_OAUTH_AUTH0_CLIENT_ID is not set"),
        "{err}"
    );
}

/// One preset's proxy settings against the fixture, shaped like that provider, answering in
/// at most a second and a half.
fn preset(name: &str, idp: &Idp) -> ProxyProvider {
    use mcp_runtime::providers::*;
    let p = match name {
        "google" => {
            idp.identity_only.store(true, Ordering::SeqCst);
            GoogleProvider {
                base_url: Some(idp.url.clone()),
                ..GoogleProvider::new("proxy-client", "proxy-secret")
            }
            .into_proxy()
        }
        "github" => {
            idp.github_shape.store(true, Ordering::SeqCst);
            GitHubProvider {
                base_url: Some(idp.url.clone()),
                ..GitHubProvider::new("proxy-client", "proxy-secret")
            }
            .into_proxy()
        }
        "entra" => {
            let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
            *idp.entra_tid.lock().expect("lock") = Some(tid.into());
            EntraProvider {
                base_url: Some(idp.url.clone()),
                ..EntraProvider::new(tid, "proxy-client", "proxy-secret")
            }
            .into_proxy()
        }
        "okta" => {
            idp.okta_shape.store(true, Ordering::SeqCst);
            OktaProvider {
                client_secret: Some("proxy-secret".into()),
                audience: Some(API.into()),
                ..OktaProvider::new(idp.url.clone(), "proxy-client")
            }
            .into_proxy()
        }
        "auth0" => {
            idp.auth0_shape.store(true, Ordering::SeqCst);
            Auth0Provider {
                client_id: Some("proxy-client".into()),
                client_secret: Some(mcp_runtime::auth::verifier::Secret::new("proxy-secret")),
                ..Auth0Provider::new(idp.url.clone(), API)
            }
            .into_proxy()
        }
        "workos" => {
            idp.workos_shape.store(true, Ordering::SeqCst);
            WorkOsProvider::new(idp.url.clone())
                .client_id("proxy-client")
                .client_secret("proxy-secret")
                .into_proxy()
        }
        other => panic!("no preset {other}"),
    };
    p.unwrap_or_else(|e| panic!("{name} settings: {e}"))
        .store(memory())
        .auto_approve(true)
        .upstream_timeout(Duration::from_millis(1500))
}

/// A sign-in that reaches the provider, then `switch` is on while the provider answers.
async fn sign_in_during(base: &str, switch: &AtomicBool) -> (HashMap<String, String>, Duration) {
    let client_id = register(base, CLIENT_REDIRECT).await;
    let (_, challenge) = pkce();
    let (status, h, body) = get(
        &authorize_url(base, &client_id, &challenge, "openid", "out"),
        None,
    )
    .await;
    assert_eq!(status, 302, "{body}");
    assert!(location(&h).starts_with("http"));
    switch.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let back = through_upstream(&h).await;
    let took = started.elapsed();
    switch.store(false, Ordering::SeqCst);
    assert!(back.starts_with(CLIENT_REDIRECT), "{back}");
    (query(&back), took)
}

/// For every proxy-mode preset, a provider outage in the middle of a sign-in (its keys or user
/// API failing, its token endpoint failing or hanging) sends the client back at once with
/// `temporarily_unavailable`, its `state` and what failed; the next sign-in works.
#[tokio::test]
async fn every_preset_reports_an_upstream_outage_precisely() {
    let presets = ["google", "github", "entra", "okta", "auth0", "workos"];
    futures_util::future::join_all(presets.map(outage_of)).await;
}

/// One preset's outages, then its recovery.
async fn outage_of(name: &'static str) {
    let idp = Idp::start();
    let (server, base) = start_proxy(preset(name, &idp));
    // First, while nothing is cached: the provider's keys (or GitHub's user API) fail.
    let (q, _) = sign_in_during(&base, &idp.identity_down).await;
    assert_eq!(q["error"], "temporarily_unavailable", "{name}: {q:?}");
    assert_eq!(q["state"], "out", "{name}");
    let expected = if name == "github" {
        "the identity provider's user endpoint answered 503"
    } else {
        "cannot be checked now: cannot verify tokens: the issuer's keys"
    };
    assert!(q["error_description"].contains(expected), "{name}: {q:?}");
    let (q, _) = sign_in_during(&base, &idp.down).await;
    assert_eq!(q["error"], "temporarily_unavailable", "{name}: {q:?}");
    assert_eq!(
        q["error_description"],
        "the identity provider's token endpoint answered 503 Service Unavailable",
        "{name}"
    );
    let (q, took) = sign_in_during(&base, &idp.hang).await;
    assert_eq!(q["error"], "temporarily_unavailable", "{name}: {q:?}");
    assert_eq!(
        q["error_description"], "the identity provider's token endpoint is unreachable (timed out)",
        "{name}"
    );
    assert!(
        took < Duration::from_secs(20),
        "{name}: the upstream timeout ends the wait, not the provider ({took:?})"
    );
    // Recovered: a whole sign-in and a call.
    let (_, tokens) = sign_in(&base, "openid").await;
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    assert!(
        who["result"]["structuredContent"]["sub"].is_string(),
        "{name}: {who}"
    );
    server.stop().await;
}
