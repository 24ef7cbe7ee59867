//! Where a client keeps its tokens and registrations: `~/.mcp_use/tokens/<server>.json` and
//! `~/.mcp_use/tokens/registrations/<server>_registration.json`, as mcp-use names them, but
//! the folders 0700, the files 0600 and written atomically; or anywhere else through
//! [`TokenStore`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::client::ClientError;

/// A server's tokens, with the server and the issuer they belong to.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredTokens {
    /// The MCP server (its URL) the tokens are for: never sent to another.
    pub server: String,
    /// The authorization server that issued them.
    pub issuer: String,
    /// The access token.
    pub access_token: String,
    /// `Bearer`, usually.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// The refresh token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires (seconds since the epoch), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The scopes granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

fn bearer() -> String {
    "Bearer".into()
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("server", &self.server)
            .field("issuer", &self.issuer)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A client registered with an authorization server for one MCP server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Registration {
    /// The MCP server it was registered for.
    pub server: String,
    /// The authorization server it is registered with.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret, for a confidential registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// How it authenticates at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// The redirect URI it registered.
    pub redirect_uri: String,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("server", &self.server)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Storage for tokens and registrations, by MCP server URL. Implementations must return only
/// what was saved for that exact server.
pub trait TokenStore: Send + Sync + 'static {
    /// The tokens saved for `server`.
    fn load_tokens(&self, server: &str) -> Result<Option<StoredTokens>, ClientError>;
    /// Saves tokens (for `tokens.server`).
    fn save_tokens(&self, tokens: &StoredTokens) -> Result<(), ClientError>;
    /// Forgets `server`'s tokens.
    fn forget_tokens(&self, server: &str) -> Result<(), ClientError>;
    /// The registration saved for `server`.
    fn load_registration(&self, server: &str) -> Result<Option<Registration>, ClientError>;
    /// Saves a registration (for `registration.server`).
    fn save_registration(&self, registration: &Registration) -> Result<(), ClientError>;
    /// Forgets `server`'s registration.
    fn forget_registration(&self, server: &str) -> Result<(), ClientError>;
}

/// Tokens in memory, for one process.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, StoredTokens>>,
    registrations: Mutex<HashMap<String, Registration>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TokenStore for MemoryTokenStore {
    fn load_tokens(&self, server: &str) -> Result<Option<StoredTokens>, ClientError> {
        Ok(lock(&self.tokens).get(server).cloned())
    }
    fn save_tokens(&self, tokens: &StoredTokens) -> Result<(), ClientError> {
        lock(&self.tokens).insert(tokens.server.clone(), tokens.clone());
        Ok(())
    }
    fn forget_tokens(&self, server: &str) -> Result<(), ClientError> {
        lock(&self.tokens).remove(server);
        Ok(())
    }
    fn load_registration(&self, server: &str) -> Result<Option<Registration>, ClientError> {
        Ok(lock(&self.registrations).get(server).cloned())
    }
    fn save_registration(&self, r: &Registration) -> Result<(), ClientError> {
        lock(&self.registrations).insert(r.server.clone(), r.clone());
        Ok(())
    }
    fn forget_registration(&self, server: &str) -> Result<(), ClientError> {
        lock(&self.registrations).remove(server);
        Ok(())
    }
}

/// Files under a folder (default `~/.mcp_use/tokens`): `<server>.json` and
/// `registrations/<server>_registration.json`, where `<server>` is the URL's host, port and
/// path made safe for a file name. Folders 0700, files 0600, each write a temporary file
/// renamed into place. A file that does not parse, or that belongs to another server, is
/// reported (with its path) and ignored.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    dir: PathBuf,
}

impl FileTokenStore {
    /// Files under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileTokenStore { dir: dir.into() }
    }

    /// `~/.mcp_use/tokens` (mcp-use's folder), if there is a home directory (`HOME`, or the
    /// user's profile folder on Windows).
    pub fn default_dir() -> Option<PathBuf> {
        std::env::home_dir()
            .filter(|h| !h.as_os_str().is_empty())
            .map(|h| h.join(".mcp_use").join("tokens"))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tokens file of `server`.
    pub fn tokens_path(&self, server: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_key(server)))
    }

    /// The registration file of `server`.
    pub fn registration_path(&self, server: &str) -> PathBuf {
        self.dir
            .join("registrations")
            .join(format!("{}_registration.json", file_key(server)))
    }

    fn load<T: serde::de::DeserializeOwned>(
        &self,
        path: &Path,
        server: &str,
        server_of: impl Fn(&T) -> &str,
    ) -> Result<Option<T>, ClientError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ClientError::store(path.display().to_string(), e));
            }
        };
        match serde_json::from_slice::<T>(&bytes) {
            Ok(v) if server_of(&v) == server => Ok(Some(v)),
            Ok(v) => {
                tracing::warn!(target: "mcp_runtime::client", "ignoring {}: it belongs to {}, not {server}", path.display(), server_of(&v));
                Ok(None)
            }
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::client", "ignoring {}: it is not a valid file ({e}); sign in again to replace it", path.display());
                Ok(None)
            }
        }
    }

    fn save<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), ClientError> {
        let err = |e: std::io::Error| ClientError::store(path.display().to_string(), e);
        let parent = path.parent().unwrap_or(&self.dir);
        for dir in [self.dir.as_path(), parent] {
            std::fs::create_dir_all(dir).map_err(err)?;
            restrict(dir, 0o700).map_err(err)?;
        }
        let json = serde_json::to_vec_pretty(value)
            .map_err(|e| ClientError::store("the credentials do not serialize", e))?;
        let mut suffix = [0u8; 6];
        let _ = getrandom::fill(&mut suffix);
        let tmp = parent.join(format!(
            ".{}.{}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("tokens"),
            suffix
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ));
        write_private(&tmp, &json).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(e)
        })
    }

    fn remove(&self, path: &Path) -> Result<(), ClientError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::store(path.display().to_string(), e)),
        }
    }
}

impl TokenStore for FileTokenStore {
    fn load_tokens(&self, server: &str) -> Result<Option<StoredTokens>, ClientError> {
        self.load(&self.tokens_path(server), server, |t: &StoredTokens| {
            &t.server
        })
    }
    fn save_tokens(&self, tokens: &StoredTokens) -> Result<(), ClientError> {
        self.save(&self.tokens_path(&tokens.server), tokens)
    }
    fn forget_tokens(&self, server: &str) -> Result<(), ClientError> {
        self.remove(&self.tokens_path(server))
    }
    fn load_registration(&self, server: &str) -> Result<Option<Registration>, ClientError> {
        self.load(
            &self.registration_path(server),
            server,
            |r: &Registration| &r.server,
        )
    }
    fn save_registration(&self, r: &Registration) -> Result<(), ClientError> {
        self.save(&self.registration_path(&r.server), r)
    }
    fn forget_registration(&self, server: &str) -> Result<(), ClientError> {
        self.remove(&self.registration_path(server))
    }
}

/// A file-name-safe key for a server URL: host, port and path, other characters as `_`.
pub(crate) fn file_key(server: &str) -> String {
    let (host, port, path) = match url::Url::parse(server) {
        Ok(u) => (
            u.host_str().unwrap_or("server").to_owned(),
            u.port().map(|p| p.to_string()),
            u.path().trim_matches('/').to_owned(),
        ),
        Err(_) => (server.to_owned(), None, String::new()),
    };
    let mut key = host;
    if let Some(p) = port {
        key.push('_');
        key.push_str(&p);
    }
    if !path.is_empty() {
        key.push('_');
        key.push_str(&path);
    }
    let mut key: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.starts_with('.') {
        key.insert(0, '_');
    }
    if key.len() > 100 {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, server.as_bytes());
        key.truncate(80);
        key.push('_');
        key.extend(digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")));
    }
    key
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(server: &str) -> StoredTokens {
        StoredTokens {
            server: server.into(),
            issuer: "https://as.example".into(),
            access_token: "at".into(),
            token_type: "Bearer".into(),
            refresh_token: None,
            expires_at: None,
            scope: None,
        }
    }

    #[test]
    fn a_file_serves_only_the_server_it_names() {
        let dir = std::env::temp_dir().join(format!(
            "mcp-token-store-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let store = FileTokenStore::new(&dir);
        let (a, b) = ("https://a.example/mcp", "https://b.example/mcp");
        store.save_tokens(&tokens(a)).expect("save");
        assert_eq!(store.load_tokens(a).expect("load"), Some(tokens(a)));
        // A's file copied to B's place is refused for B.
        std::fs::copy(store.tokens_path(a), store.tokens_path(b)).expect("copy");
        assert_eq!(store.load_tokens(b).expect("load"), None);
        store.forget_tokens(a).expect("forget");
        assert_eq!(store.load_tokens(a).expect("load"), None);
        store.forget_tokens(a).expect("forgetting twice is fine");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_memory_store_keeps_servers_apart() {
        let store = MemoryTokenStore::new();
        store
            .save_tokens(&tokens("https://a.example/mcp"))
            .expect("save");
        assert!(
            store
                .load_tokens("https://b.example/mcp")
                .expect("load")
                .is_none()
        );
    }

    #[test]
    fn keys_keep_servers_apart_and_are_safe() {
        assert_eq!(file_key("https://mcp.linear.app/mcp"), "mcp.linear.app_mcp");
        assert_eq!(file_key("http://127.0.0.1:3000/mcp"), "127.0.0.1_3000_mcp");
        assert_ne!(
            file_key("https://h.example/a/mcp"),
            file_key("https://h.example/b/mcp")
        );
        assert_eq!(file_key("https://h.example/../x"), "h.example_x");
        let long = format!("https://h.example/{}", "a".repeat(300));
        assert!(file_key(&long).len() <= 100);
    }
}
