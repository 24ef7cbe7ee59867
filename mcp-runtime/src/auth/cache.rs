//! A cache of verified tokens, so a token used again skips signature verification.
//!
//! Bounded in size; an entry never outlives the token's `exp` nor the cache's TTL. Entries are
//! found by a randomly keyed SipHash of the token (nobody outside can aim tokens at one bucket)
//! and confirmed by comparing the whole token in constant time, so a hash collision can only
//! cost a verification, never lend another caller's identity. The tokens compared are the ones
//! the cached [`AuthData`] already holds: the cache keeps no copy of its own.
//!
//! The map is split into up to 16 shards, each behind its own lock on its own cache line, chosen
//! by the hash's top bits: workers on many cores looking up different tokens do not wait for one
//! another. The keys are already keyed hashes, so the maps use them as they are.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::AuthData;
use super::verifier::now_secs;

/// A token's bucket: its keyed hash.
pub(crate) type Key = u64;

struct Entry {
    auth: Arc<AuthData>,
    until: Instant,
}

/// A map key that is already a keyed hash needs no hashing again.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; fold anything else in rather than lose it.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map = HashMap<Key, Vec<Entry>, BuildHasherDefault<PreHashed>>;

/// One shard, alone on its cache line so that two cores locking neighbours do not contend.
#[repr(align(64))]
struct Shard(Mutex<Map>);

/// The verified-token cache.
pub(crate) struct TokenCache {
    shards: Box<[Shard]>,
    hasher: RandomState,
    /// Entries per shard.
    capacity: usize,
    ttl: Duration,
}

fn same_token(entry: &Entry, token: &str) -> bool {
    let held = entry.auth.access_token.secret().as_bytes();
    held.len() == token.len()
        && aws_lc_rs::constant_time::verify_slices_are_equal(held, token.as_bytes()).is_ok()
}

impl TokenCache {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        // One shard per 256 entries, at most 16 (a power of two, for the shard index).
        let shards = (capacity / 256).clamp(1, 16).next_power_of_two().min(16);
        TokenCache {
            shards: (0..shards).map(|_| Shard(Mutex::default())).collect(),
            hasher: RandomState::new(),
            capacity: capacity.div_ceil(shards),
            ttl,
        }
    }

    /// The shard of `key`, locked.
    fn shard(&self, key: Key) -> std::sync::MutexGuard<'_, Map> {
        // The top bits: the maps' own buckets come from the low ones.
        let index = (key >> 56) as usize & (self.shards.len() - 1);
        self.shards[index]
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The bucket of `token`.
    pub(crate) fn key(&self, token: &str) -> Key {
        if self.capacity == 0 {
            return 0; // no cache: nothing to find, no hash to compute
        }
        self.hasher.hash_one(token)
    }

    pub(crate) fn get(&self, key: Key, token: &str) -> Option<Arc<AuthData>> {
        if self.capacity == 0 {
            return None;
        }
        let mut map = self.shard(key);
        let bucket = map.get_mut(&key)?;
        let i = bucket.iter().position(|e| same_token(e, token))?;
        if bucket[i].until > Instant::now() {
            return Some(bucket[i].auth.clone());
        }
        bucket.swap_remove(i);
        if bucket.is_empty() {
            map.remove(&key);
        }
        None
    }

    pub(crate) fn insert(&self, key: Key, auth: Arc<AuthData>) {
        if self.capacity == 0 {
            return;
        }
        let now = Instant::now();
        let mut until = now + self.ttl;
        if let Some(exp) = auth.expires_at {
            let left = exp.saturating_sub(now_secs());
            until = until.min(now + Duration::from_secs(left));
        }
        if until <= now {
            return;
        }
        let mut map = self.shard(key);
        if map.len() >= self.capacity {
            map.retain(|_, b| {
                b.retain(|e| e.until > now);
                !b.is_empty()
            });
            if map.len() >= self.capacity {
                // Still full of live entries: drop an arbitrary half rather than grow.
                let drop: Vec<Key> = map.keys().take(self.capacity / 2 + 1).copied().collect();
                for k in drop {
                    map.remove(&k);
                }
            }
        }
        let bucket = map.entry(key).or_default();
        let token = auth.access_token.secret().to_owned();
        bucket.retain(|e| !same_token(e, &token));
        bucket.push(Entry { auth, until });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AccessToken, UserInfo};

    fn auth(token: &str, exp: Option<u64>) -> Arc<AuthData> {
        Arc::new(AuthData {
            user: UserInfo::default(),
            access_token: AccessToken::new(token),
            scopes: vec![],
            permissions: vec![],
            implied_scopes: vec![],
            claims: Default::default(),
            expires_at: exp,
            resource_metadata: None,
            #[cfg(feature = "authorization-server")]
            upstream: None,
        })
    }

    #[test]
    fn entries_expire_with_the_token_and_the_cache_is_bounded() {
        let cache = TokenCache::new(4, Duration::from_secs(60));
        let put = |t: &str, exp| cache.insert(cache.key(t), auth(t, exp));
        put("expired", Some(now_secs() - 1));
        assert!(cache.get(cache.key("expired"), "expired").is_none());
        put("live", Some(now_secs() + 600));
        assert!(cache.get(cache.key("live"), "live").is_some());
        for i in 0..20 {
            put(&format!("t{i}"), None);
        }
        assert_eq!(cache.shards.len(), 1);
        assert!(cache.shard(0).len() <= 4);
    }

    #[test]
    fn a_large_cache_is_sharded_and_each_shard_is_bounded() {
        let cache = TokenCache::new(10_000, Duration::from_secs(60));
        assert_eq!((cache.shards.len(), cache.capacity), (16, 625));
        for i in 0..30_000 {
            let t = format!("token-{i}");
            cache.insert(cache.key(&t), auth(&t, None));
        }
        let sizes: Vec<usize> = (0..16u64).map(|i| cache.shard(i << 56).len()).collect();
        assert!(sizes.iter().all(|n| (1..=625).contains(n)), "{sizes:?}");
        // The newest token is found wherever its shard is.
        assert!(cache.get(cache.key("token-29999"), "token-29999").is_some());
        assert_eq!(TokenCache::new(300, Duration::from_secs(1)).shards.len(), 1);
        assert_eq!(
            TokenCache::new(1024, Duration::from_secs(1)).shards.len(),
            4
        );
    }

    #[test]
    fn a_colliding_key_never_returns_another_token() {
        let cache = TokenCache::new(10, Duration::from_secs(60));
        // Force both tokens into one bucket.
        cache.insert(7, auth("alice-token", None));
        cache.insert(7, auth("mallory-tok", None));
        let hit = cache.get(7, "alice-token").expect("alice");
        assert_eq!(hit.access_token.secret(), "alice-token");
        assert!(cache.get(7, "alice-tokeX").is_none());
        assert!(cache.get(8, "alice-token").is_none());
    }
}
