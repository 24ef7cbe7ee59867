//! Where the authorization server keeps its state: registered clients, sign-ins in progress,
//! authorization codes, refresh tokens, signing keys.
//!
//! A [`Store`] is a namespaced key-value store with expiry and an atomic take. The
//! authorization server stores typed records in it (JSON), keyed by values it chose (client
//! ids, random transaction ids) or by SHA-256 hashes of bearer credentials (codes, refresh
//! tokens), so a store never holds a code or a refresh token that could be replayed.
//!
//! | store | `MCP_STORE_URL` | for |
//! | --- | --- | --- |
//! | [`MemoryStore`] | `memory:` | tests, throwaway servers: everything is gone at exit |
//! | [`RedbStore`] | a file path, or `redb:<path>` | one server: clients, refresh tokens and the signing key survive a restart |
//! | `RedisStore` (feature `redis`) | `redis://…` or `rediss://…` | several replicas behind a load balancer: they share it all |
//!
//! The contract every implementation keeps (and `tests/it/store.rs` checks against each):
//! - `put` replaces any value; a value with a `ttl` is gone (`get`/`take` answer `None`) once
//!   it has expired.
//! - `take` removes and returns the value in one step: of two concurrent takes of one key,
//!   exactly one gets it (single-use codes and transactions rely on this).
//! - `count` counts live and expired-but-not-yet-purged values (an upper bound, for caps).
//! - `list` returns the live values under a key prefix; `evict` removes the values under a
//!   prefix that expire soonest (those that never expire last) until at most `keep` live ones
//!   remain, so that a bounded space makes room for a newcomer instead of refusing it.
//! - Errors are reported, never swallowed: the caller answers 503 with the reason.

mod memory;
#[cfg(feature = "store-redb")]
mod redb;
#[cfg(feature = "redis")]
mod redis;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use memory::MemoryStore;
#[cfg(feature = "store-redb")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-redb")))]
pub use redb::RedbStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::RedisStore;

/// What a store's operations return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The namespaces of the authorization server's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Space {
    /// Registered clients, by client id.
    Clients,
    /// Authorization requests waiting for the user (sign-in or consent), by transaction id.
    Transactions,
    /// Authorization codes, by hash.
    Codes,
    /// Codes already redeemed, by hash: a second redemption revokes what the first issued.
    RedeemedCodes,
    /// Live refresh tokens, by hash.
    RefreshTokens,
    /// Refresh tokens already rotated, by hash: presenting one again revokes its family.
    SpentRefreshTokens,
    /// Revoked grant families.
    RevokedFamilies,
    /// Signing keys.
    Keys,
    /// Upstream identity providers' tokens (the OAuth proxy), encrypted, by grant id.
    UpstreamTokens,
    /// MCP sessions shared by replicas (their revision, caller and client capabilities), by
    /// session id.
    Sessions,
    /// Each user's live grants (by a hash of the subject), for the bound per user.
    Grants,
}

impl Space {
    /// Every space, in a fixed order.
    pub const ALL: [Space; 11] = [
        Space::Clients,
        Space::Transactions,
        Space::Codes,
        Space::RedeemedCodes,
        Space::RefreshTokens,
        Space::SpentRefreshTokens,
        Space::RevokedFamilies,
        Space::Keys,
        Space::UpstreamTokens,
        Space::Sessions,
        Space::Grants,
    ];

    /// A stable name (table names, key prefixes).
    pub fn name(self) -> &'static str {
        match self {
            Space::Clients => "clients",
            Space::Transactions => "transactions",
            Space::Codes => "codes",
            Space::RedeemedCodes => "redeemed_codes",
            Space::RefreshTokens => "refresh_tokens",
            Space::SpentRefreshTokens => "spent_refresh_tokens",
            Space::RevokedFamilies => "revoked_families",
            Space::Keys => "keys",
            Space::UpstreamTokens => "upstream_tokens",
            Space::Sessions => "sessions",
            Space::Grants => "grants",
        }
    }
}

/// A store failed; the message says why (and where, for a file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the authorization server's store failed: {0}")]
pub struct StoreError(pub String);

/// The authorization server's state; see the [module documentation](self) for the contract.
pub trait Store: Send + Sync + 'static {
    /// Stores `value` under `key`, replacing any value; it expires after `ttl` (never without).
    fn put<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()>;
    /// Stores `value` under `key` only if no live value is there, atomically: of two replicas
    /// creating the same record at once, exactly one succeeds. True when stored.
    fn put_new<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, bool>;
    /// The live value under `key`.
    fn get<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>>;
    /// Removes and returns the live value under `key`, atomically.
    fn take<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>>;
    /// Removes the value under `key`, if any.
    fn delete<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, ()>;
    /// How many values `space` holds (an upper bound: expired ones may not be purged yet).
    fn count(&self, space: Space) -> StoreFuture<'_, usize>;
    /// The live values of `space` whose key starts with `prefix`, in no particular order.
    ///
    /// The default answers an error: a store of your own that cannot list still works, but
    /// revocations then reach other replicas only when a refresh token of the grant is used.
    fn list<'a>(
        &'a self,
        space: Space,
        prefix: &'a str,
    ) -> StoreFuture<'a, Vec<(String, Vec<u8>)>> {
        let _ = (space, prefix);
        let what = self.describe();
        Box::pin(async move { Err(StoreError(format!("{what} cannot list its values"))) })
    }
    /// Removes the values of `space` under `prefix` that expire soonest (never-expiring ones
    /// last) until at most `keep` live values remain there; how many it removed.
    ///
    /// The default removes nothing: a store of your own that cannot evict keeps every value
    /// until it expires, and a bounded space then refuses newcomers when full.
    fn evict<'a>(&'a self, space: Space, prefix: &'a str, keep: usize) -> StoreFuture<'a, usize> {
        let _ = (space, prefix, keep);
        Box::pin(async { Ok(0) })
    }
    /// What the store is, for the start-up log (`memory`, `redb file /var/lib/…`).
    fn describe(&self) -> String;
    /// Whether other processes use the store too (Redis): what is kept in it must then be
    /// readable by all of them (the proxy's upstream tokens need a shared encryption key).
    fn is_shared(&self) -> bool {
        false
    }
}

/// Milliseconds since the epoch, `ttl` from now; 0 for "never expires".
pub(crate) fn expiry_ms(ttl: Option<Duration>) -> u64 {
    ttl.map_or(0, |t| {
        now_ms().saturating_add(u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
    })
}

/// Of `(key, expiry)` pairs under one prefix, the keys to evict so that `keep` remain: the
/// soonest-expiring first, never-expiring ones (expiry 0) last.
pub(crate) fn to_evict(mut live: Vec<(String, u64)>, keep: usize) -> Vec<String> {
    if live.len() <= keep {
        return Vec::new();
    }
    live.sort_by_key(|(_, e)| if *e == 0 { u64::MAX } else { *e });
    let n = live.len() - keep;
    live.into_iter().take(n).map(|(k, _)| k).collect()
}

/// Whether an expiry (from [`expiry_ms`]) has passed.
pub(crate) fn expired(expires_ms: u64) -> bool {
    expires_ms != 0 && expires_ms <= now_ms()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs a store operation to completion on this thread: for start-up work (loading the
/// signing key) that happens before, or outside, any async context.
#[cfg_attr(not(feature = "authorization-server"), allow(dead_code))]
pub(crate) fn block_on<T>(fut: StoreFuture<'_, T>) -> Result<T, StoreError> {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = fut;
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(r) => return r,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// The value under `key`, or `make`'s, saved first: replicas starting together on one store
/// agree on one value (the first to save it wins, the others read it). For start-up work.
pub(crate) fn get_or_put_new(
    store: &dyn Store,
    space: Space,
    key: &str,
    make: impl FnOnce() -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    if let Some(raw) = block_on(store.get(space, key)).map_err(|e| e.to_string())? {
        return Ok(raw);
    }
    let value = make()?;
    if block_on(store.put_new(space, key, value.clone(), None)).map_err(|e| e.to_string())? {
        return Ok(value);
    }
    // Another replica saved its value first: use that one.
    block_on(store.get(space, key))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("`{key}` vanished from the store while starting"))
}

/// Opens the store that `MCP_STORE_URL` names; `default` when it is unset.
///
/// - `memory:` — a [`MemoryStore`];
/// - `redb:<path>` or a plain path — a [`RedbStore`] in that file (its folder is created);
/// - `redis://…` or `rediss://…` — a `RedisStore` (feature `redis`).
pub fn open(
    url: Option<&str>,
    default: impl FnOnce() -> Result<Arc<dyn Store>, String>,
) -> Result<Arc<dyn Store>, String> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return default();
    };
    if url == "memory:" || url == "memory" {
        return Ok(Arc::new(MemoryStore::new()));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        if scheme == "redis" || scheme == "rediss" {
            #[cfg(feature = "redis")]
            return RedisStore::open(url)
                .map(|s| Arc::new(s) as Arc<dyn Store>)
                .map_err(|e| e.0);
            #[cfg(not(feature = "redis"))]
            return Err(format!(
                "a Redis store (`{scheme}://`) needs the `redis` feature of mcp-runtime"
            ));
        }
        return Err(format!(
            "stores with scheme `{scheme}` are not supported; use `memory:`, a file path or \
             `redis://host:port`"
        ));
    }
    let path = url.strip_prefix("redb:").unwrap_or(url);
    #[cfg(feature = "store-redb")]
    {
        RedbStore::open(path)
            .map(|s| Arc::new(s) as Arc<dyn Store>)
            .map_err(|e| e.0)
    }
    #[cfg(not(feature = "store-redb"))]
    {
        Err(format!(
            "`{path}`: a file store needs the `store-redb` feature of mcp-runtime; use `memory:`"
        ))
    }
}

/// Where a server's embedded store lives by default: `$XDG_STATE_HOME/mcp-runtime/<name>.redb`,
/// else `~/.local/state/mcp-runtime/<name>.redb`; `None` without a home directory.
pub fn default_path(name: &str) -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| std::path::PathBuf::from(h).join(".local").join("state"))
        })?;
    let file: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(base.join("mcp-runtime").join(format!("{file}.redb")))
}
