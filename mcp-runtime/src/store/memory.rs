//! [`MemoryStore`]: the state in this process's memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::{Space, Store, StoreFuture, expired, expiry_ms, to_evict};

/// One space's values by key, in key order (so that the values under a prefix are one range),
/// with their expiry (ms since the epoch, 0 for never).
type Values = BTreeMap<String, (Vec<u8>, u64)>;

#[derive(Debug, Default)]
struct Spaces {
    by_space: HashMap<Space, Values>,
    /// When expired values were last swept (ms since the epoch).
    swept_ms: u64,
}

/// A store in memory: fast, and gone when the process ends. For tests and throwaway servers.
///
/// Each space is its own ordered map, so a count is its length and the values under a prefix
/// are one range; expired values are swept at most once a second, on a write, instead of on
/// every write.
#[derive(Debug, Default)]
pub struct MemoryStore {
    spaces: Mutex<Spaces>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Spaces) -> T) -> T {
        f(&mut self.spaces.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Spaces {
    fn space(&mut self, space: Space) -> &mut Values {
        self.by_space.entry(space).or_default()
    }

    /// Drops expired values, at most once a second.
    fn sweep(&mut self) {
        let now = expiry_ms(Some(Duration::ZERO));
        if now.saturating_sub(self.swept_ms) < 1000 {
            return;
        }
        self.swept_ms = now;
        for values in self.by_space.values_mut() {
            values.retain(|_, (_, e)| !expired(*e));
        }
    }
}

/// The entries of `values` whose key starts with `prefix`.
fn under<'a>(
    values: &'a Values,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a String, &'a (Vec<u8>, u64))> {
    values
        .range::<str, _>((
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        ))
        .take_while(move |(k, _)| k.starts_with(prefix))
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
            m.sweep();
            m.space(space).insert(key.to_owned(), (value, expires));
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
            m.sweep();
            let values = m.space(space);
            match values.get(key) {
                Some((_, e)) if !expired(*e) => false,
                _ => {
                    values.insert(key.to_owned(), (value, expires));
                    true
                }
            }
        });
        Box::pin(async move { Ok(stored) })
    }

    fn get<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let v = self.with(|m| {
            m.space(space)
                .get(key)
                .filter(|(_, e)| !expired(*e))
                .map(|(v, _)| v.clone())
        });
        Box::pin(async { Ok(v) })
    }

    fn take<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let v = self.with(|m| {
            m.space(space)
                .remove(key)
                .filter(|(_, e)| !expired(*e))
                .map(|(v, _)| v)
        });
        Box::pin(async { Ok(v) })
    }

    fn delete<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, ()> {
        self.with(|m| m.space(space).remove(key));
        Box::pin(async { Ok(()) })
    }

    fn count(&self, space: Space) -> StoreFuture<'_, usize> {
        let n = self.with(|m| m.space(space).len());
        Box::pin(async move { Ok(n) })
    }

    fn list<'a>(
        &'a self,
        space: Space,
        prefix: &'a str,
    ) -> StoreFuture<'a, Vec<(String, Vec<u8>)>> {
        let found = self.with(|m| {
            under(m.space(space), prefix)
                .filter(|(_, (_, e))| !expired(*e))
                .map(|(k, (v, _))| (k.clone(), v.clone()))
                .collect()
        });
        Box::pin(async move { Ok(found) })
    }

    fn evict<'a>(&'a self, space: Space, prefix: &'a str, keep: usize) -> StoreFuture<'a, usize> {
        let removed = self.with(|m| {
            let values = m.space(space);
            // Nothing to look at while the whole space is within the bound.
            if values.len() <= keep {
                return 0;
            }
            // Only the prefix's range is looked at: a per-client bound costs that client's
            // entries, not the whole space.
            let mut live: Vec<(String, u64)> = Vec::new();
            let mut dead: Vec<String> = Vec::new();
            for (k, (_, e)) in under(values, prefix) {
                if expired(*e) {
                    dead.push(k.clone());
                } else {
                    live.push((k.clone(), *e));
                }
            }
            let gone = to_evict(live, keep);
            for k in dead.iter().chain(&gone) {
                values.remove(k);
            }
            gone.len()
        });
        Box::pin(async move { Ok(removed) })
    }

    fn describe(&self) -> String {
        "memory (forgotten at exit)".into()
    }
}
