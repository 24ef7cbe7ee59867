//! [`MemoryStore`]: the state in this process's memory.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::{Space, Store, StoreFuture, expired, expiry_ms};

/// Values by space and key, with their expiry (ms since the epoch, 0 for never).
type Values = HashMap<(Space, String), (Vec<u8>, u64)>;

/// A store in memory: fast, and gone when the process ends. For tests and throwaway servers.
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<Values>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Values) -> T) -> T {
        f(&mut self.values.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Store for MemoryStore {
    fn put<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()> {
        let expires = expiry_ms(ttl);
        self.with(|m| {
            // Expired values go when anything is written, so memory stays bounded by what is live.
            m.retain(|_, (_, e)| !expired(*e));
            m.insert((space, key.to_owned()), (value, expires));
        });
        Box::pin(async { Ok(()) })
    }

    fn put_new<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, bool> {
        let expires = expiry_ms(ttl);
        let stored = self.with(|m| {
            m.retain(|_, (_, e)| !expired(*e));
            let slot = m.entry((space, key.to_owned()));
            match slot {
                std::collections::hash_map::Entry::Occupied(_) => false,
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((value, expires));
                    true
                }
            }
        });
        Box::pin(async move { Ok(stored) })
    }

    fn get<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let v = self.with(|m| {
            m.get(&(space, key.to_owned()))
                .filter(|(_, e)| !expired(*e))
                .map(|(v, _)| v.clone())
        });
        Box::pin(async { Ok(v) })
    }

    fn take<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let v = self.with(|m| {
            m.remove(&(space, key.to_owned()))
                .filter(|(_, e)| !expired(*e))
                .map(|(v, _)| v)
        });
        Box::pin(async { Ok(v) })
    }

    fn delete<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, ()> {
        self.with(|m| m.remove(&(space, key.to_owned())));
        Box::pin(async { Ok(()) })
    }

    fn count(&self, space: Space) -> StoreFuture<'_, usize> {
        let n = self.with(|m| m.keys().filter(|(s, _)| *s == space).count());
        Box::pin(async move { Ok(n) })
    }

    fn describe(&self) -> String {
        "memory (forgotten at exit)".into()
    }
}
