//! The store contract, run against every implementation: expiry, atomic single-use takes,
//! separate spaces, and (for the file store) durability across a reopen.

use std::sync::Arc;
use std::time::Duration;

use mcp_runtime::store::{MemoryStore, RedbStore, Space, Store};

pub fn temp_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mcp-store-test-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    ));
    dir.join("state.redb")
}

/// Opens the store file, waiting (up to 5 s) for a server stopped in this process to let go of
/// it: its worker threads drop their state shortly after `stop` returns.
pub fn open_released(path: &std::path::Path) -> RedbStore {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match RedbStore::open(path) {
            Ok(store) => return store,
            Err(e)
                if e.to_string().contains("another process")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("store opens: {e}"),
        }
    }
}

async fn contract(store: Arc<dyn Store>) {
    let s = &*store;
    // put, get, replace.
    s.put(Space::Clients, "c1", b"one".to_vec(), None)
        .await
        .expect("put");
    assert_eq!(
        s.get(Space::Clients, "c1").await.expect("get"),
        Some(b"one".to_vec())
    );
    s.put(Space::Clients, "c1", b"two".to_vec(), None)
        .await
        .expect("put");
    assert_eq!(
        s.get(Space::Clients, "c1").await.expect("get"),
        Some(b"two".to_vec())
    );
    // Spaces are separate.
    assert_eq!(s.get(Space::Codes, "c1").await.expect("get"), None);
    // Expiry.
    s.put(
        Space::Codes,
        "short",
        b"x".to_vec(),
        Some(Duration::from_millis(50)),
    )
    .await
    .expect("put");
    assert!(s.get(Space::Codes, "short").await.expect("get").is_some());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(s.get(Space::Codes, "short").await.expect("get"), None);
    assert_eq!(s.take(Space::Codes, "short").await.expect("take"), None);
    // take is single-use.
    s.put(
        Space::Codes,
        "k",
        b"v".to_vec(),
        Some(Duration::from_secs(60)),
    )
    .await
    .expect("put");
    assert_eq!(
        s.take(Space::Codes, "k").await.expect("take"),
        Some(b"v".to_vec())
    );
    assert_eq!(s.take(Space::Codes, "k").await.expect("take"), None);
    // Of many concurrent takes of one key, exactly one gets it.
    s.put(
        Space::Transactions,
        "race",
        b"prize".to_vec(),
        Some(Duration::from_secs(60)),
    )
    .await
    .expect("put");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.take(Space::Transactions, "race").await.expect("take")
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.expect("task").is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one take wins");
    // delete and count.
    s.put(Space::RefreshTokens, "a", b"1".to_vec(), None)
        .await
        .expect("put");
    s.put(Space::RefreshTokens, "b", b"2".to_vec(), None)
        .await
        .expect("put");
    assert_eq!(s.count(Space::RefreshTokens).await.expect("count"), 2);
    s.delete(Space::RefreshTokens, "a").await.expect("delete");
    assert_eq!(s.count(Space::RefreshTokens).await.expect("count"), 1);
    assert_eq!(s.get(Space::RefreshTokens, "a").await.expect("get"), None);
    s.delete(Space::RefreshTokens, "never-there")
        .await
        .expect("delete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_keeps_the_contract() {
    contract(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redb_store_keeps_the_contract_and_survives_a_reopen() {
    let path = temp_file("contract");
    let store = RedbStore::open(&path).expect("opens");
    contract(Arc::new(store.clone())).await;
    // One process at a time: a second open says so, naming the file and the fix.
    let e = RedbStore::open(&path).expect_err("already open");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(e.to_string().contains("MCP_STORE_URL"), "{e}");
    drop(store);
    let again = RedbStore::open(&path).expect("reopens");
    assert_eq!(
        again.get(Space::Clients, "c1").await.expect("get"),
        Some(b"two".to_vec())
    );
    assert_eq!(again.get(Space::Codes, "k").await.expect("get"), None);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the store file is private");
        let dir = std::fs::metadata(path.parent().expect("dir")).expect("dir");
        assert_eq!(dir.permissions().mode() & 0o777, 0o700);
    }
    drop(again);
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

#[test]
fn store_urls_are_checked() {
    use mcp_runtime::store::open;
    let none = || Err("no default".to_owned());
    assert!(
        open(Some("memory:"), none)
            .expect("memory")
            .describe()
            .starts_with("memory")
    );
    let e = open(Some("redis://127.0.0.1:6379"), none)
        .err()
        .expect("unsupported");
    assert!(e.contains("scheme `redis`"), "{e}");
    assert_eq!(open(None, none).err().as_deref(), Some("no default"));
    let path = temp_file("url");
    let s = open(Some(&format!("redb:{}", path.display())), none).expect("file");
    assert!(s.describe().contains("state.redb"), "{}", s.describe());
    drop(s);
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

/// Who is calling.
#[mcp_runtime::mcp_tool(name = "whoami", read_only)]
async fn whoami(auth: mcp_runtime::auth::Auth) -> String {
    auth.user.user_id.clone()
}

fn dev_server(
    path: &std::path::Path,
    public: &str,
) -> (mcp_runtime::McpServer, mcp_runtime::RunningServer) {
    use mcp_runtime::providers::DevProvider;
    let store = open_released(path);
    let oauth = DevProvider::new()
        .auto_approve(true)
        .store(Arc::new(store))
        .into_oauth()
        .expect("dev provider");
    let server = mcp_runtime::McpServer::builder()
        .public_url(public)
        .oauth(oauth)
        .tools(mcp_runtime::tools![whoami])
        .workers(1)
        .build()
        .expect("builds");
    let running = server.start("127.0.0.1:0").expect("starts");
    (server, running)
}

/// A client registered and signed in before a restart refreshes its token after it, and its
/// access token still opens the endpoint (the signing key was kept too).
#[tokio::test]
async fn the_dev_server_keeps_clients_tokens_and_keys_across_a_restart() {
    use crate::common::*;
    use crate::devserver::{code_for_resource, exchange, pkce, public_client};
    let path = temp_file("restart");
    let placeholder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let public = format!("http://{}/mcp", placeholder.local_addr().expect("addr"));
    drop(placeholder);

    let (server, running) = dev_server(&path, &public);
    let base = format!("http://{}", running.addr());
    let client_id = public_client(&base).await;
    let (verifier, challenge) = pkce();
    let code = code_for_resource(&base, &public, &client_id, &challenge, "openid").await;
    let tokens = exchange(&base, &client_id, &code, &verifier).await;
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    running.stop().await;
    drop(server);

    let (_server, running) = dev_server(&path, &public);
    let base = format!("http://{}", running.addr());
    // The old access token verifies against the kept key.
    let mut c = Client::new(&running);
    c.bearer = Some(access);
    let c = c.connect_raw(V_LATEST).await;
    assert_eq!(
        text(&c.call("whoami", serde_json::json!({})).await),
        "dev-user"
    );
    // The client is still registered and its refresh token still works, once.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", client_id.as_str()),
    ];
    let r = http()
        .post(format!("{base}/oauth/token"))
        .form(&form)
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(
        body["refresh_token"].as_str().is_some_and(|t| t != refresh),
        "{body}"
    );
    let r = http()
        .post(format!("{base}/oauth/token"))
        .form(&form)
        .send()
        .await
        .expect("replay");
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
    running.stop().await;
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}
