//! A cache of verified tokens, so a token used again skips signature verification.
//!
//! Bounded in size; an entry never outlives the token's `exp` nor the cache's TTL. Entries are
//! found by a randomly keyed SipHash of the token (nobody outside can aim tokens at one bucket)
//! and confirmed by comparing the whole token in constant time, so a hash collision can only
//! cost a verification, never lend another caller's identity. The tokens compared are the ones
//! the cached [`AuthData`] already holds: the cache keeps no copy of its own.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
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

/// The verified-token cache.
pub(crate) struct TokenCache {
    map: Mutex<HashMap<Key, Vec<Entry>>>,
    hasher: RandomState,
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
        TokenCache {
            map: Mutex::new(HashMap::new()),
            hasher: RandomState::new(),
            capacity,
            ttl,
        }
    }

    /// The bucket of `token`.
    pub(crate) fn key(&self, token: &str) -> Key {
        self.hasher.hash_one(token)
    }

    pub(crate) fn get(&self, key: Key, token: &str) -> Option<Arc<AuthData>> {
        if self.capacity == 0 {
            return None;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
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
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
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
        assert!(cache.map.lock().expect("lock").len() <= 4);
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
