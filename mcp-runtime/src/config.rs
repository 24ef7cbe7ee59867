//! Settings read from the environment (and a `.env` file), validated once at start-up.

use std::net::{IpAddr, SocketAddr};

/// Why the server could not start. Its `Debug` is its message, so `main` returning
/// `Result<(), ServeError>` prints a readable error.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// An environment variable is malformed.
    #[error("environment variable {name} is invalid: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// The server could not be built.
    #[error(transparent)]
    Build(#[from] crate::BuildError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

impl std::fmt::Debug for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Loads `.env` from the current directory (or a parent) if there is one. Variables already
/// set in the environment win.
pub fn load_dotenv() {
    match dotenvy::dotenv() {
        Ok(path) => {
            tracing::debug!(target: "mcp_runtime::config", path = %path.display(), "loaded .env")
        }
        Err(e) if e.not_found() => {}
        Err(e) => {
            tracing::warn!(target: "mcp_runtime::config", "ignoring unreadable .env file: {e}")
        }
    }
}

/// `HOST` (default `127.0.0.1`) and `PORT` (default 3000).
pub fn bind_addr_from_env() -> Result<SocketAddr, ServeError> {
    let host = match std::env::var("HOST") {
        Ok(h) if !h.trim().is_empty() => {
            let h = h.trim();
            let h = if h == "localhost" { "127.0.0.1" } else { h };
            h.trim_matches(|c| c == '[' || c == ']')
                .parse::<IpAddr>()
                .map_err(|_| ServeError::Env {
                    name: "HOST",
                    reason: format!("`{h}` is not an IP address; use e.g. 127.0.0.1 or 0.0.0.0"),
                })?
        }
        _ => IpAddr::from([127, 0, 0, 1]),
    };
    let port = match std::env::var("PORT") {
        Ok(p) if !p.trim().is_empty() => p.trim().parse::<u16>().map_err(|_| ServeError::Env {
            name: "PORT",
            reason: format!("`{p}` is not a port number from 0 to 65535"),
        })?,
        _ => 3000,
    };
    Ok(SocketAddr::new(host, port))
}

/// A comma-separated list from the environment; `None` when unset or empty.
pub(crate) fn env_list(name: &str) -> Option<Vec<String>> {
    let v = std::env::var(name).ok()?;
    let items: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!items.is_empty()).then_some(items)
}

/// Installs a `tracing` subscriber filtered by `RUST_LOG` (default `info`), unless one is set.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
