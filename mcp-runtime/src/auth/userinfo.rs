//! User-info enrichment: when a token lacks the caller's email or name, the provider's userinfo
//! endpoint is asked once per subject (with the caller's own token) and the answer cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::UserInfo;

const TTL: Duration = Duration::from_secs(600);
const CAPACITY: usize = 10_000;

/// A subject's userinfo answer and when it was fetched.
type Entry = (Map<String, Value>, Instant);

/// A userinfo endpoint and its per-subject cache.
pub struct UserInfoEnricher {
    url: String,
    client: reqwest::Client,
    cache: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for UserInfoEnricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserInfoEnricher")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl UserInfoEnricher {
    /// Enrichment from `url` (an OpenID Connect userinfo endpoint).
    pub fn new(url: impl Into<String>, client: reqwest::Client) -> Self {
        UserInfoEnricher {
            url: url.into(),
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, sub: &str) -> Option<Map<String, Value>> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(sub)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(m, _)| m.clone())
    }

    /// Fills `user`'s missing email, name, username and picture; failures leave it as it is.
    pub(crate) async fn enrich(&self, user: &mut UserInfo, token: &str) {
        if user.user_id.is_empty() || (user.email.is_some() && user.name.is_some()) {
            return;
        }
        let info = match self.cached(&user.user_id) {
            Some(info) => info,
            None => match self.fetch(token).await {
                Ok(info) => {
                    // Only the same subject's answer counts (OIDC Core §5.3.2).
                    if info.get("sub").and_then(Value::as_str) != Some(user.user_id.as_str()) {
                        tracing::debug!(target: "mcp_runtime::auth", "userinfo answered for another subject; ignored");
                        return;
                    }
                    let mut cache = self
                        .cache
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if cache.len() >= CAPACITY {
                        cache.retain(|_, (_, at)| at.elapsed() < TTL);
                        if cache.len() >= CAPACITY {
                            cache.clear();
                        }
                    }
                    cache.insert(user.user_id.clone(), (info.clone(), Instant::now()));
                    info
                }
                Err(e) => {
                    tracing::debug!(target: "mcp_runtime::auth", url = %self.url, "userinfo lookup failed: {e}");
                    return;
                }
            },
        };
        let s = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_owned);
        user.email = user.email.take().or_else(|| s("email"));
        user.name = user.name.take().or_else(|| s("name"));
        user.username = user.username.take().or_else(|| s("preferred_username"));
        user.picture = user.picture.take().or_else(|| s("picture"));
    }

    async fn fetch(&self, token: &str) -> Result<Map<String, Value>, String> {
        let resp = super::outgoing::send(
            self.client
                .get(&self.url)
                .bearer_auth(token)
                .header("accept", "application/json"),
        )
        .await
        .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        match resp.json::<Value>().await.map_err(|e| e.to_string())? {
            Value::Object(m) => Ok(m),
            _ => Err("not a JSON object".into()),
        }
    }
}
