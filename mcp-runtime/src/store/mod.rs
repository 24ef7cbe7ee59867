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

mod contract;
mod memory;
mod open;
#[cfg(feature = "store-redb")]
mod redb;
#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "authorization-server")]
pub(crate) use contract::block_on;
pub use contract::{Space, Store, StoreError, StoreFuture};
pub(crate) use contract::{expired, expiry_ms, get_or_put_new, to_evict};
pub use memory::MemoryStore;
pub use open::{default_path, open};
#[cfg(feature = "store-redb")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-redb")))]
pub use redb::RedbStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::RedisStore;
