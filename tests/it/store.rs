//! The store contract, run against every implementation: expiry, atomic single-use takes,
//! separate spaces, and (for the file store) durability across a reopen.

use std::sync::Arc;
use std::time::Duration;

use mcp_runtime::model::Report;
use mcp_runtime::store::{MemoryStore, RedbStore, Space, Store, StoreError};

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
    // list: the live values under a prefix.
    for (k, ttl) in [
        ("ns1/a", Some(Duration::from_secs(60))),
        ("ns1/b", None),
        ("ns2/a", None),
        ("ns1/gone", Some(Duration::from_millis(30))),
    ] {
        s.put(Space::RevokedFamilies, k, k.as_bytes().to_vec(), ttl)
            .await
            .expect("put");
    }
    tokio::time::sleep(Duration::from_millis(80)).await;
    let mut listed = s.list(Space::RevokedFamilies, "ns1/").await.expect("list");
    listed.sort();
    assert_eq!(
        listed,
        vec![
            ("ns1/a".to_owned(), b"ns1/a".to_vec()),
            ("ns1/b".to_owned(), b"ns1/b".to_vec())
        ]
    );
    // evict: the soonest-expiring under the prefix go first, never-expiring ones last, and
    // nothing under another prefix.
    for (i, secs) in [30u64, 10, 20, 40].into_iter().enumerate() {
        s.put(
            Space::Transactions,
            &format!("ns1/t{i}"),
            b"t".to_vec(),
            Some(Duration::from_secs(secs)),
        )
        .await
        .expect("put");
    }
    s.put(Space::Transactions, "ns1/forever", b"t".to_vec(), None)
        .await
        .expect("put");
    s.put(Space::Transactions, "ns2/x", b"t".to_vec(), None)
        .await
        .expect("put");
    assert_eq!(
        s.evict(Space::Transactions, "ns1/", 10)
            .await
            .expect("evict"),
        0,
        "within the bound"
    );
    assert_eq!(
        s.evict(Space::Transactions, "ns1/", 2)
            .await
            .expect("evict"),
        3
    );
    let mut left: Vec<String> = s
        .list(Space::Transactions, "ns1/")
        .await
        .expect("list")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    left.sort();
    assert_eq!(left, vec!["ns1/forever".to_owned(), "ns1/t3".to_owned()]);
    assert!(
        s.get(Space::Transactions, "ns2/x")
            .await
            .expect("get")
            .is_some()
    );
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
        // A file an older version left readable by others is narrowed when opened.
        drop(again);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let _narrowed = RedbStore::open(&path).expect("reopens");
        let mode = std::fs::metadata(&path).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "narrowed");
    }
    #[cfg(not(unix))]
    drop(again);
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

/// The public URL of an endpoint on a free port nothing listens on (behind "a balancer").
pub fn free_public_url() -> String {
    let placeholder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("http://{}/mcp", placeholder.local_addr().expect("addr"))
}

/// A real `redis-server` (Debian's package; `scripts/test` installs it) on a free port of
/// 127.0.0.1, stopped when dropped.
pub struct Redis {
    child: std::process::Child,
    pub port: u16,
}

impl Redis {
    pub fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(port)
    }

    /// On `port` (a restart keeps the port, so clients reconnect to the same URL).
    pub fn start_on(port: u16) -> Redis {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--protected-mode", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server cannot start ({e}): install Debian's redis-server (scripts/test does)")
            });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server never listened on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A store on this Redis (one replica's connection).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::new(mcp_runtime::store::RedisStore::open(&self.url()).expect("connects to Redis"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_keeps_the_contract_and_is_shared() {
    let redis = Redis::start();
    let a = redis.store();
    contract(a.clone()).await;
    assert!(
        a.describe().starts_with("redis redis://127.0.0.1:"),
        "{}",
        a.describe()
    );
    // A second store on the same Redis (another replica) sees the same values, and of two
    // replicas taking one code at once exactly one gets it.
    let b = redis.store();
    a.put(Space::Clients, "shared", b"x".to_vec(), None)
        .await
        .expect("put");
    assert_eq!(
        b.get(Space::Clients, "shared").await.expect("get"),
        Some(b"x".to_vec())
    );
    for round in 0..20 {
        let key = format!("code-{round}");
        a.put(
            Space::Codes,
            &key,
            b"c".to_vec(),
            Some(Duration::from_secs(60)),
        )
        .await
        .expect("put");
        let (x, y) = tokio::join!(a.take(Space::Codes, &key), b.take(Space::Codes, &key));
        let wins =
            usize::from(x.expect("take").is_some()) + usize::from(y.expect("take").is_some());
        assert_eq!(wins, 1, "round {round}");
    }
    // put_new: the first writer wins, on any replica.
    assert!(
        a.put_new(Space::Keys, "signing", b"first".to_vec(), None)
            .await
            .expect("put_new")
    );
    assert!(
        !b.put_new(Space::Keys, "signing", b"second".to_vec(), None)
            .await
            .expect("put_new")
    );
    assert_eq!(
        b.get(Space::Keys, "signing").await.expect("get"),
        Some(b"first".to_vec())
    );
    // Expired values leave the count.
    a.put(
        Space::Transactions,
        "brief",
        b"t".to_vec(),
        Some(Duration::from_millis(30)),
    )
    .await
    .expect("put");
    let before = a.count(Space::Transactions).await.expect("count");
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(
        a.count(Space::Transactions).await.expect("count"),
        before - 1
    );

    // Redis down: a clear error, within the timeout; back up: it works again.
    let port = redis.port;
    drop(redis);
    let started = std::time::Instant::now();
    let e = a.get(Space::Clients, "shared").await.expect_err("down");
    assert!(
        e.to_string()
            .contains(&format!("Redis at redis://127.0.0.1:{port}")),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let _again = Redis::start_on(port);
    let mut back = false;
    for _ in 0..50 {
        if a.put(Space::Clients, "after", b"y".to_vec(), None)
            .await
            .is_ok()
        {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the store reconnects once Redis is back");
    assert_eq!(
        a.get(Space::Clients, "after").await.expect("get"),
        Some(b"y".to_vec())
    );
}

#[test]
fn store_urls_are_checked() {
    use mcp_runtime::store::open;
    let none = || Err(StoreError::new("no default"));
    assert!(
        open(Some("memory:"), none)
            .expect("memory")
            .describe()
            .starts_with("memory")
    );
    let e = open(Some("mongodb://127.0.0.1:27017"), none)
        .err()
        .expect("unsupported")
        .to_string();
    assert!(
        e.contains(
            "scheme `mongodb` are not supported; use `memory:`, a file path or `redis://host:port`"
        ),
        "{e}"
    );
    // Nothing listens there: the error names the server, without the password, and keeps
    // Redis's own error as its source (not as text).
    let e = open(Some("redis://user:hunter2@127.0.0.1:1"), none)
        .err()
        .expect("unreachable");
    assert_eq!(
        e.message(),
        "cannot connect to Redis at redis://user:***@127.0.0.1:1"
    );
    let cause = std::error::Error::source(&e).expect("the Redis error is the source");
    assert!(
        cause.downcast_ref::<redis::RedisError>().is_some(),
        "{cause:?}"
    );
    let report = Report(&e).to_string();
    assert!(
        report.starts_with("cannot connect to Redis at redis://user:***@127.0.0.1:1: ")
            && report.len() > e.message().len() + 2
            && !report.contains("hunter2"),
        "{report}"
    );
    assert_eq!(
        open(None, none).err().map(|e| e.to_string()).as_deref(),
        Some("no default")
    );
    let path = temp_file("url");
    let s = open(Some(&format!("redb:{}", path.display())), none).expect("file");
    assert!(s.describe().contains("state.redb"), "{}", s.describe());
    drop(s);
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    let redis = Redis::start();
    let s = open(Some(&redis.url()), none).expect("redis");
    assert!(s.describe().starts_with("redis "), "{}", s.describe());
}
