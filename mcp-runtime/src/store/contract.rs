//! The store's contract: the [`Store`] trait, its namespaces and errors, and the helpers every
//! implementation shares (expiries, eviction order, start-up reads).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::BoxError;

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
    /// Client assertions already used (by a hash of the client and `jti`), until they expire:
    /// a replayed `private_key_jwt` assertion is refused (RFC 7523 §3).
    Assertions,
}

impl Space {
    /// Every space, in a fixed order.
    pub const ALL: [Space; 12] = [
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
        Space::Assertions,
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
            Space::Assertions => "assertions",
        }
    }
}

/// A store failed: the message says what failed (and where: the file, the Redis), and the
/// underlying error (I/O, the database's, Redis's) is its
/// [`source`](std::error::Error::source); [`Report`](crate::model::Report) prints both.
///
/// A store of your own makes one with [`StoreError::new`] or [`StoreError::with_source`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl StoreError {
    /// A failure with no underlying error.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            source: None,
        }
    }

    /// A failure caused by `source` (kept as the error's source, not copied into the message).
    pub fn with_source(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        StoreError {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What failed, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The authorization server's state; see the [module documentation](crate::store) for the contract.
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
        Box::pin(async move { Err(StoreError::new(format!("{what} cannot list its values"))) })
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
) -> Result<Vec<u8>, StoreError> {
    if let Some(raw) = block_on(store.get(space, key))? {
        return Ok(raw);
    }
    let value = make().map_err(StoreError::new)?;
    if block_on(store.put_new(space, key, value.clone(), None))? {
        return Ok(value);
    }
    // Another replica saved its value first: use that one.
    block_on(store.get(space, key))?
        .ok_or_else(|| StoreError::new(format!("`{key}` vanished from the store while starting")))
}
