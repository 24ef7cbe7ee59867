//! A cache of verified tokens, so a token used again skips signature verification.
//!
//! Keyed by the token's SHA-256 (the token itself is not kept as a key), bounded in size, and an
//! entry never outlives the token's `exp` nor the cache's TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::AuthData;
use super::verifier::now_secs;

type Key = [u8; 32];

struct Entry {
    auth: Arc<AuthData>,
    until: Instant,
}

/// The verified-token cache.
pub(crate) struct TokenCache {
    map: Mutex<HashMap<Key, Entry>>,
    capacity: usize,
    ttl: Duration,
}

pub(crate) fn key(token: &str) -> Key {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

impl TokenCache {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        TokenCache {
            map: Mutex::new(HashMap::new()),
            capacity,
            ttl,
        }
    }

    pub(crate) fn get(&self, key: &Key) -> Option<Arc<AuthData>> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(key) {
            Some(e) if e.until > Instant::now() => Some(e.auth.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
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
            map.retain(|_, e| e.until > now);
            if map.len() >= self.capacity {
                // Still full of live entries: drop an arbitrary half rather than grow.
                let drop: Vec<Key> = map.keys().take(self.capacity / 2 + 1).copied().collect();
                for k in drop {
                    map.remove(&k);
                }
            }
        }
        map.insert(key, Entry { auth, until });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AccessToken, UserInfo};

    fn auth(exp: Option<u64>) -> Arc<AuthData> {
        Arc::new(AuthData {
            user: UserInfo::default(),
            access_token: AccessToken::new("t"),
            scopes: vec![],
            permissions: vec![],
            claims: Default::default(),
            expires_at: exp,
        })
    }

    #[test]
    fn entries_expire_with_the_token_and_the_cache_is_bounded() {
        let cache = TokenCache::new(4, Duration::from_secs(60));
        cache.insert(key("expired"), auth(Some(now_secs() - 1)));
        assert!(cache.get(&key("expired")).is_none());
        cache.insert(key("live"), auth(Some(now_secs() + 600)));
        assert!(cache.get(&key("live")).is_some());
        for i in 0..20 {
            cache.insert(key(&format!("t{i}")), auth(None));
        }
        assert!(cache.map.lock().expect("lock").len() <= 4);
        assert_ne!(key("a"), key("b"));
    }
}
