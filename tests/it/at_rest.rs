//! Secrets at rest: what the OAuth proxy writes to its store (Redis for replicas) holds no
//! bearer credential in the clear: codes and refresh tokens by hash, upstream tokens
//! encrypted, access tokens not at all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_runtime::store::{MemoryStore, Space, Store, StoreFuture};
use serde_json::json;

use crate::common::*;
use crate::devserver::pkce;
use crate::idp::*;

/// A store that keeps a copy of every key and value written to it.
#[derive(Default)]
struct Recorder {
    inner: MemoryStore,
    written: Mutex<Vec<(Space, String, Vec<u8>)>>,
}

impl Recorder {
    fn note(&self, space: Space, key: &str, value: &[u8]) {
        self.written
            .lock()
            .expect("lock")
            .push((space, key.to_owned(), value.to_vec()));
    }
}

impl Store for Recorder {
    fn put<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()> {
        self.note(space, key, &value);
        self.inner.put(space, key, value, ttl)
    }
    fn put_new<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, bool> {
        self.note(space, key, &value);
        self.inner.put_new(space, key, value, ttl)
    }
    fn get<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        self.inner.get(space, key)
    }
    fn take<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        self.inner.take(space, key)
    }
    fn delete<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, ()> {
        self.inner.delete(space, key)
    }
    fn list<'a>(
        &'a self,
        space: Space,
        prefix: &'a str,
    ) -> StoreFuture<'a, Vec<(String, Vec<u8>)>> {
        self.inner.list(space, prefix)
    }
    fn evict<'a>(&'a self, space: Space, prefix: &'a str, keep: usize) -> StoreFuture<'a, usize> {
        self.inner.evict(space, prefix, keep)
    }
    fn count(&self, space: Space) -> StoreFuture<'_, usize> {
        self.inner.count(space)
    }
    fn describe(&self) -> String {
        "recorder".into()
    }
}

#[tokio::test]
async fn the_proxy_stores_no_bearer_credential_in_the_clear() {
    let idp = Idp::start();
    let store = Arc::new(Recorder::default());
    let (server, base) = start_proxy(
        idp.provider()
            .auto_approve(true)
            .store(store.clone())
            .encryption_key([5; 32]),
    );
    let client_id = register(&base, CLIENT_REDIRECT).await;
    let (verifier, challenge) = pkce();
    let (status, h, body) = get(
        &authorize_url(&base, &client_id, &challenge, "openid admin", "s"),
        None,
    )
    .await;
    assert_eq!(status, 302, "{body}");
    let back = through_upstream(&h).await;
    let code = query(&back)["code"].clone();
    let (status, tokens) = redeem(&base, &client_id, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let r = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 200);
    let rotated: serde_json::Value = r.json().await.expect("json");
    // A tool reads the upstream token back: it was stored, encrypted.
    let c = connect_with(&server, &tokens).await;
    let who = c.call("whoami", json!({})).await;
    let upstream_access = idp.issued.lock().expect("lock")[0].clone();
    assert_eq!(
        who["result"]["structuredContent"]["upstream"],
        upstream_access.as_str()
    );

    let secrets = [
        ("the authorization code", code),
        (
            "the access token",
            tokens["access_token"].as_str().expect("access").to_owned(),
        ),
        ("the refresh token", refresh),
        (
            "the rotated refresh token",
            rotated["refresh_token"]
                .as_str()
                .expect("rotated")
                .to_owned(),
        ),
        (
            "the rotated access token",
            rotated["access_token"].as_str().expect("a").to_owned(),
        ),
        ("the upstream access token", upstream_access),
        ("the upstream refresh token", "upstream-refresh".to_owned()),
        ("the PKCE verifier", verifier),
    ];
    let written = store.written.lock().expect("lock").clone();
    let spaces: Vec<Space> = written.iter().map(|(s, _, _)| *s).collect();
    for expected in [
        Space::Codes,
        Space::RefreshTokens,
        Space::UpstreamTokens,
        Space::Keys,
    ] {
        assert!(
            spaces.contains(&expected),
            "{expected:?} written: {spaces:?}"
        );
    }
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    for (space, key, value) in written.iter() {
        let text = String::from_utf8_lossy(value);
        // With the encryption key, the signing keys are sealed too: no private key in sight.
        assert!(
            !text.contains("pkcs8"),
            "a private key in the clear in {space:?}/{key}"
        );
        for (what, secret) in &secrets {
            // The secret as it is, and merely re-encoded.
            let forms = [
                secret.clone(),
                URL_SAFE_NO_PAD.encode(secret),
                STANDARD.encode(secret),
            ];
            for form in &forms {
                assert!(
                    !key.contains(form.as_str()) && !text.contains(form.as_str()),
                    "{what} is in the clear in {space:?}/{key}"
                );
            }
        }
    }
    server.stop().await;
}
