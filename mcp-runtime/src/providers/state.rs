//! Where the built-in authorization servers keep their state: the store `MCP_STORE_URL` names
//! (or the default file) and the key `MCP_STORE_ENCRYPTION_KEY` seals it with.

use std::sync::Arc;

use super::{ProviderError, env};
use crate::store::{self, Store};

/// The store `MCP_STORE_URL` names. Unset: a file, `<state dir>/mcp-runtime/<kind>-<PORT>.redb`
/// (see [`store::default_path`]), so that clients and tokens survive a restart; memory for a
/// server on an ephemeral port (`PORT=0`: its URL changes at every start anyway) or without a
/// home directory.
pub(crate) fn store_from_env(kind: &str) -> Result<Arc<dyn Store>, ProviderError> {
    let memory = || Arc::new(store::MemoryStore::new()) as Arc<dyn Store>;
    if let Some(url) = env("MCP_STORE_URL") {
        return store::open(Some(&url), || Ok(memory())).map_err(|e| ProviderError::Store {
            var: Some("MCP_STORE_URL"),
            source: e.into(),
        });
    }
    let port = env("PORT").unwrap_or_else(|| "3000".into());
    if port == "0" || !cfg!(feature = "store-redb") {
        return Ok(memory());
    }
    let Some(path) = store::default_path(&format!("{kind}-{port}")) else {
        return Ok(memory());
    };
    // The default file: its errors say what to set (the store's own message names the file
    // and MCP_STORE_URL).
    store::open(Some(&path.display().to_string()), || Ok(memory())).map_err(|e| {
        ProviderError::Store {
            var: None,
            source: e.into(),
        }
    })
}

/// `MCP_STORE_ENCRYPTION_KEY`, if set: 32 bytes in base64url.
pub(crate) fn encryption_key_from_env() -> Result<Option<[u8; 32]>, ProviderError> {
    let Some(v) = env("MCP_STORE_ENCRYPTION_KEY") else {
        return Ok(None);
    };
    decode_key(&v).map(Some).ok_or_else(|| ProviderError::Invalid {
        var: "MCP_STORE_ENCRYPTION_KEY",
        reason: "it must be 32 random bytes in base64url, e.g. from `openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`".into(),
    })
}

fn decode_key(v: &str) -> Option<[u8; 32]> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v.trim_end_matches('='))
        .ok()?;
    bytes.try_into().ok()
}
