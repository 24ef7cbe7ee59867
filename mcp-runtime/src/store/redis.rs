//! A [`Store`] in Redis (feature `redis`): the state several replicas of a server share.
//!
//! Each value is one Redis string (`<prefix>v:<space>:<key>`, with Redis's own expiry), and
//! each space has an index (`<prefix>i:<space>`, a sorted set of keys by expiry) that makes
//! `count` a range removal and a cardinality instead of a scan. Every operation that touches
//! both is one `MULTI`/`EXEC` transaction, so `take` is atomic across replicas: of two
//! replicas redeeming the same code at once, exactly one gets it (`GETDEL`, Redis 6.2 and
//! later).
//!
//! The connection is one multiplexed connection per store (`redis::aio::ConnectionManager`:
//! requests pipeline over it, and it reconnects on its own), driven by a runtime of the store's
//! own (one thread): a store works the same from any executor and from the start-up code that
//! blocks on it. Every operation is bounded by a timeout (2 s by default), and a Redis that is
//! down or slow is a [`StoreError`] naming it, which the authorization server answers with a
//! 503; the next operation tries again.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Space, Store, StoreError, StoreFuture, expiry_ms};

/// How long an operation may take, connecting included, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// A Redis store: several replicas share one (see the [`store`](crate::store) module).
pub struct RedisStore {
    /// The store's own runtime (`None` once shut down), and where to spawn on it.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    conn: ConnectionManager,
    prefix: Arc<str>,
    /// The URL without its password, for logs.
    shown: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shown)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The URL as logs may show it: no password.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "a Redis URL that does not parse".to_owned(),
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` for TLS when the `redis` crate is built with it); keys start with
    /// `mcp-runtime:`.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, "mcp-runtime:", DEFAULT_TIMEOUT)
    }

    /// [`open`](Self::open) with a key prefix of your own (several servers in one Redis) and
    /// the timeout of each operation.
    pub fn open_with(url: &str, prefix: &str, timeout: Duration) -> Result<Self, StoreError> {
        let shown = without_password(url);
        let client = redis::Client::open(url).map_err(|e| {
            StoreError::with_source(format!("the Redis URL `{shown}` is not valid"), e)
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mcp-redis")
            .enable_all()
            .build()
            .map_err(|e| StoreError::with_source("cannot start the Redis store's runtime", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout)
            .set_number_of_retries(1);
        // Connecting blocks; from a thread of its own, as a runtime's own threads (the caller
        // may be on one) must not block on another runtime.
        let connect = async {
            tokio::time::timeout(
                timeout * 2,
                ConnectionManager::new_with_config(client, config),
            )
            .await
        };
        let conn = std::thread::scope(|s| {
            s.spawn(|| runtime.block_on(connect))
                .join()
                .map_err(|_| StoreError::new("connecting to Redis panicked"))
        })?
        .map_err(|_| {
            StoreError::new(format!(
                "Redis at {shown} did not answer within {timeout:?}"
            ))
        })?
        .map_err(|e| StoreError::with_source(format!("cannot connect to Redis at {shown}"), e))?;
        Ok(RedisStore {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            conn,
            prefix: prefix.into(),
            shown,
            timeout,
        })
    }

    fn value_key(&self, space: Space, key: &str) -> String {
        format!("{}v:{}:{key}", self.prefix, space.name())
    }

    fn index_key(&self, space: Space) -> String {
        format!("{}i:{}", self.prefix, space.name())
    }

    /// Runs `op` on the store's runtime, bounded by the timeout.
    fn run<'a, T, F, Fut>(&'a self, what: &'static str, op: F) -> StoreFuture<'a, T>
    where
        T: Send + 'static,
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        let fut = op(self.conn.clone());
        let timeout = self.timeout;
        let handle = self
            .handle
            .spawn(async move { tokio::time::timeout(timeout, fut).await });
        let shown = self.shown.clone();
        Box::pin(async move {
            match handle.await {
                Ok(Ok(Ok(v))) => Ok(v),
                Ok(Ok(Err(e))) => Err(StoreError::with_source(
                    format!("Redis at {shown}: {what} failed"),
                    e,
                )),
                Ok(Err(_)) => Err(StoreError::new(format!(
                    "Redis at {shown} did not answer {what} within {timeout:?}"
                ))),
                Err(e) => Err(StoreError::with_source(
                    format!("Redis at {shown}: {what} failed"),
                    e,
                )),
            }
        })
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which an async context forbids: let it wind down alone.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The index score of a value: when it expires (milliseconds), or never.
fn score(ttl: Option<Duration>) -> f64 {
    match ttl {
        // Exact for any date before the year 287 396.
        Some(_) => expiry_ms(ttl) as f64,
        None => f64::INFINITY,
    }
}

/// Drops the expired keys from a space's index (their values expired with Redis's own expiry)
/// and counts the rest, in one transaction.
async fn purge_and_count(
    conn: &mut ConnectionManager,
    index: &str,
    now: f64,
) -> redis::RedisResult<usize> {
    let (n,): (usize,) = redis::pipe()
        .atomic()
        .zrembyscore(index, f64::NEG_INFINITY, now)
        .ignore()
        .zcard(index)
        .query_async(conn)
        .await?;
    Ok(n)
}

/// `text` with Redis's glob characters escaped, for a `MATCH` pattern.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Store for RedisStore {
    fn put<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()> {
        let (k, index, member) = (
            self.value_key(space, key),
            self.index_key(space),
            key.to_owned(),
        );
        self.run("put", move |mut conn| async move {
            let mut pipe = redis::pipe();
            pipe.atomic();
            match ttl {
                Some(t) => pipe.cmd("SET").arg(&k).arg(value).arg("PX").arg(ttl_ms(t)),
                None => pipe.cmd("SET").arg(&k).arg(value),
            };
            pipe.ignore().zadd(&index, &member, score(ttl)).ignore();
            pipe.query_async::<()>(&mut conn).await
        })
    }

    fn put_new<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, bool> {
        let (k, index, member) = (
            self.value_key(space, key),
            self.index_key(space),
            key.to_owned(),
        );
        self.run("put_new", move |mut conn| async move {
            let mut set = redis::cmd("SET");
            set.arg(&k).arg(value).arg("NX");
            if let Some(t) = ttl {
                set.arg("PX").arg(ttl_ms(t));
            }
            let stored: Option<String> = set.query_async(&mut conn).await?;
            if stored.is_some() {
                let _: () = conn.zadd(&index, &member, score(ttl)).await?;
            }
            Ok(stored.is_some())
        })
    }

    fn get<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let k = self.value_key(space, key);
        self.run("get", move |mut conn| async move { conn.get(&k).await })
    }

    fn take<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let (k, index, member) = (
            self.value_key(space, key),
            self.index_key(space),
            key.to_owned(),
        );
        self.run("take", move |mut conn| async move {
            let (value,): (Option<Vec<u8>>,) = redis::pipe()
                .atomic()
                .cmd("GETDEL")
                .arg(&k)
                .zrem(&index, &member)
                .ignore()
                .query_async(&mut conn)
                .await?;
            Ok(value)
        })
    }

    fn delete<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, ()> {
        let (k, index, member) = (
            self.value_key(space, key),
            self.index_key(space),
            key.to_owned(),
        );
        self.run("delete", move |mut conn| async move {
            redis::pipe()
                .atomic()
                .del(&k)
                .ignore()
                .zrem(&index, &member)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
        })
    }

    fn count(&self, space: Space) -> StoreFuture<'_, usize> {
        let index = self.index_key(space);
        let now = expiry_ms(Some(Duration::ZERO)) as f64;
        self.run("count", move |mut conn| async move {
            purge_and_count(&mut conn, &index, now).await
        })
    }

    fn list<'a>(
        &'a self,
        space: Space,
        prefix: &'a str,
    ) -> StoreFuture<'a, Vec<(String, Vec<u8>)>> {
        let index = self.index_key(space);
        let (values_prefix, prefix) = (self.value_key(space, ""), prefix.to_owned());
        let now = expiry_ms(Some(Duration::ZERO)) as f64;
        self.run("list", move |mut conn| async move {
            // The index holds every key of the space, by expiry: the live ones are above now.
            let members: Vec<String> = redis::cmd("ZRANGE")
                .arg(&index)
                .arg(format!("({now}"))
                .arg("+inf")
                .arg("BYSCORE")
                .query_async(&mut conn)
                .await?;
            let keys: Vec<String> = members
                .into_iter()
                .filter(|m| m.starts_with(prefix.as_str()))
                .collect();
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let full: Vec<String> = keys.iter().map(|k| format!("{values_prefix}{k}")).collect();
            let values: Vec<Option<Vec<u8>>> = conn.mget(&full).await?;
            Ok(keys
                .into_iter()
                .zip(values)
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect())
        })
    }

    fn evict<'a>(&'a self, space: Space, prefix: &'a str, keep: usize) -> StoreFuture<'a, usize> {
        let index = self.index_key(space);
        let (values_prefix, prefix) = (self.value_key(space, ""), prefix.to_owned());
        let now = expiry_ms(Some(Duration::ZERO)) as f64;
        self.run("evict", move |mut conn| async move {
            let total = purge_and_count(&mut conn, &index, now).await?;
            // Nothing to look at while the whole space is within the bound.
            if total <= keep {
                return Ok(0);
            }
            // The prefix's members only (ZSCAN's MATCH runs in Redis; a per-client bound moves
            // that client's entries, not the whole index).
            let pattern = format!("{}*", glob_escape(&prefix));
            let mut live: Vec<(String, u64)> = Vec::new();
            let mut cursor: u64 = 0;
            loop {
                let (next, page): (u64, Vec<(String, f64)>) = redis::cmd("ZSCAN")
                    .arg(&index)
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn)
                    .await?;
                live.extend(page.into_iter().map(|(k, score)| {
                    let expires = if score.is_finite() { score as u64 } else { 0 };
                    (k, expires)
                }));
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            let gone = super::to_evict(live, keep);
            if gone.is_empty() {
                return Ok(0);
            }
            let mut pipe = redis::pipe();
            pipe.atomic();
            for k in &gone {
                pipe.del(format!("{values_prefix}{k}"))
                    .ignore()
                    .zrem(&index, k)
                    .ignore();
            }
            pipe.query_async::<()>(&mut conn).await?;
            Ok(gone.len())
        })
    }

    fn describe(&self) -> String {
        format!("redis {} (keys {}*)", self.shown, self.prefix)
    }

    fn is_shared(&self) -> bool {
        true
    }
}
