//! Opening the store a URL names (`MCP_STORE_URL`), and where the embedded one lives.

use std::sync::Arc;

#[cfg(feature = "store-redb")]
use super::RedbStore;
#[cfg(feature = "redis")]
use super::RedisStore;
use super::{MemoryStore, Store, StoreError};

/// Opens the store that `MCP_STORE_URL` names; `default` when it is unset.
///
/// - `memory:` — a [`MemoryStore`];
/// - `redb:<path>` or a plain path — a [`RedbStore`] in that file (its folder is created);
/// - `redis://…` or `rediss://…` — a `RedisStore` (feature `redis`).
pub fn open(
    url: Option<&str>,
    default: impl FnOnce() -> Result<Arc<dyn Store>, StoreError>,
) -> Result<Arc<dyn Store>, StoreError> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return default();
    };
    if url == "memory:" || url == "memory" {
        return Ok(Arc::new(MemoryStore::new()));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        if scheme == "redis" || scheme == "rediss" {
            #[cfg(feature = "redis")]
            return RedisStore::open(url).map(|s| Arc::new(s) as Arc<dyn Store>);
            #[cfg(not(feature = "redis"))]
            return Err(StoreError::new(format!(
                "a Redis store (`{scheme}://`) needs the `redis` feature of mcp-runtime"
            )));
        }
        return Err(StoreError::new(format!(
            "stores with scheme `{scheme}` are not supported; use `memory:`, a file path or \
             `redis://host:port`"
        )));
    }
    let path = url.strip_prefix("redb:").unwrap_or(url);
    #[cfg(feature = "store-redb")]
    {
        RedbStore::open(path).map(|s| Arc::new(s) as Arc<dyn Store>)
    }
    #[cfg(not(feature = "store-redb"))]
    {
        Err(StoreError::new(format!(
            "`{path}`: a file store needs the `store-redb` feature of mcp-runtime; use `memory:`"
        )))
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
