//! Settings read from the environment (and a `.env` file), validated once at start-up.

use std::net::{IpAddr, SocketAddr};

/// Why a server could not be built. Lists every problem at once.
#[derive(Debug, thiserror::Error)]
#[error("the MCP server cannot be built:\n  - {}", .problems.join("\n  - "))]
pub struct BuildError {
    /// One line per problem.
    pub problems: Vec<String>,
}

/// A provider's configuration is missing or malformed. Names the variable (or setting) and says
/// what to write. (Public as `providers::ProviderError`.)
#[cfg(feature = "authorization-server")]
pub(crate) use provider_error::ProviderError;

#[cfg(feature = "oauth")]
pub(crate) mod provider_error {
    /// A provider's configuration is missing or malformed. Names the variable (or setting) and
    /// says what to write.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum ProviderError {
        /// A required setting is absent.
        #[error("{var} is not set: {hint}")]
        Missing {
            /// The environment variable.
            var: &'static str,
            /// What it should contain.
            hint: &'static str,
        },
        /// A setting is malformed.
        #[error("{var} is invalid: {reason}")]
        Invalid {
            /// The environment variable.
            var: &'static str,
            /// What is wrong.
            reason: String,
        },
        /// The provider could not be set up (e.g. no signing key could be generated).
        #[error("{0}")]
        Setup(String),
        /// The authorization server's store could not be opened or read; the source is the
        /// `store::StoreError` (whose own source is the I/O, database or Redis error).
        #[error("{}", match var {
            Some(var) => format!("{var} is invalid"),
            None => "the authorization server's store cannot be used".to_owned(),
        })]
        Store {
            /// The variable that named the store, when one did.
            var: Option<&'static str>,
            /// What failed: a `store::StoreError`.
            #[source]
            source: crate::model::BoxError,
        },
    }
}

/// Why the server could not start. Its `Debug` is its message and its causes on one line, so
/// `main` returning `Result<(), ServeError>` prints a readable error.
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
    Build(#[from] BuildError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A non-loopback address is bound, but the public URL is unknown.
    #[error(
        "{addr} is not a loopback address, so clients reach this server through a URL it cannot \
         know: set MCP_URL (or `public_url`) to the URL of the MCP endpoint as clients use it, \
         e.g. MCP_URL=https://mcp.example.com/mcp"
    )]
    PublicUrlRequired {
        /// The address.
        addr: SocketAddr,
    },
    /// The server failed while running.
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

impl std::fmt::Debug for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&crate::model::Report(self), f)
    }
}

/// Loads `.env` from the current directory (or a parent) if there is one, once per process.
/// Variables already set in the environment win. [`McpServer::builder`](crate::McpServer::builder)
/// calls it, so every setting read from the environment (presets, `MCP_URL`, `MCP_*`) sees
/// `.env` whichever way the server is built.
pub fn load_dotenv() {
    static LOADED: std::sync::Once = std::sync::Once::new();
    LOADED.call_once(load_dotenv_now);
}

fn load_dotenv_now() {
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

/// An environment variable, trimmed; `None` when unset or empty.
pub(crate) fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
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
/// Logs go to standard output, or to standard error when the server runs over stdio
/// ([`Transport::from_env`]), whose output carries only protocol messages.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if matches!(Transport::from_env(), Ok(Transport::Stdio)) {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .try_init();
    } else {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
    }
}

/// How a server is reached: Streamable HTTP (the default) or stdio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// Streamable HTTP on `HOST`:`PORT`, with OAuth when the server has it.
    Http,
    /// Newline-delimited JSON-RPC on standard input and output, for a client that starts the
    /// server as a child process. No OAuth: whoever starts the process is the caller.
    Stdio,
}

impl Transport {
    /// `--stdio` among the process's arguments, else `MCP_TRANSPORT` (`stdio` or `http`,
    /// default `http`). An unknown value is an error naming the variable.
    pub fn from_env() -> Result<Transport, ServeError> {
        if std::env::args_os().skip(1).any(|a| a == "--stdio") {
            return Ok(Transport::Stdio);
        }
        match env_var("MCP_TRANSPORT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("http") | Some("streamable-http") => Ok(Transport::Http),
            Some("stdio") => Ok(Transport::Stdio),
            Some(other) => Err(ServeError::Env {
                name: "MCP_TRANSPORT",
                reason: format!("`{other}` is not a transport; use stdio or http"),
            }),
        }
    }
}

/// Whether a parsed URL's host is a loopback address: `localhost`, `127.0.0.0/8` or `[::1]`.
///
/// Decided on the host the `url` crate parsed, so `http://localhost:80@evil.example` (user
/// info `localhost:80`, host `evil.example`) is not loopback.
pub(crate) fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks a configured URL: absolute, `https` (or `http` on a loopback host, for local
/// development and tests), with a host, and without user info or a fragment. Returns the
/// parsed URL; callers keep the configured string for exact comparisons (an `iss`).
///
/// The error says what is wrong with `value` and what to write instead; the caller names the
/// variable or setting it came from.
pub(crate) fn check_https_url(value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value).map_err(|e| {
        format!("`{value}` is not an absolute URL ({e}); write e.g. https://auth.example.com")
    })?;
    if !url.has_host() || url.host_str().is_some_and(str::is_empty) {
        return Err(format!("`{value}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{value}` has user info before `@`; the host would be `{}`. Remove the user info",
            url.host_str().unwrap_or_default()
        ));
    }
    if url.fragment().is_some() {
        return Err(format!("`{value}` has a fragment (`#…`); remove it"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(&url) => Ok(url),
        "http" => Err(format!(
            "`{value}` uses plain HTTP on a non-loopback host; use https (plain http is allowed \
             for localhost, 127.0.0.1 and [::1] only)"
        )),
        other => Err(format!("`{value}` has scheme `{other}`; use https")),
    }
}

/// The public URL of the MCP endpoint: what clients connect to, and the canonical resource
/// that tokens are issued for. Set by `McpServerBuilder::public_url` or `MCP_URL`.
#[derive(Debug, Clone)]
pub(crate) struct PublicUrl {
    /// As configured (kept exactly: it is compared with tokens' `aud`).
    pub(crate) text: String,
    /// Host name as it appears in a `Host` header (`[v6]` bracketed), lower-cased.
    pub(crate) host: String,
    /// The URL's path (`/mcp`), `/` when it has none.
    pub(crate) path: String,
}

impl PublicUrl {
    /// Parses and checks a public URL; also refuses a query string, which a resource
    /// identifier must not carry (RFC 8707 §2).
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        let text = value.trim();
        let url = check_https_url(text)?;
        if url.query().is_some() {
            return Err(format!("`{text}` has a query string (`?…`); remove it"));
        }
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(h) => h.to_string().to_ascii_lowercase(),
            None => String::new(),
        };
        Ok(PublicUrl {
            text: text.to_owned(),
            host,
            path: url.path().to_owned(),
        })
    }
}

/// How the embedded authorization server's pages (sign-in, consent, errors) present your
/// product: its name, a logo and a stylesheet of your own
/// ([`McpServerBuilder::branding`](crate::McpServerBuilder::branding), or `MCP_BRANDING_NAME`,
/// `MCP_BRANDING_LOGO_URL` and `MCP_BRANDING_STYLESHEET_URL`). Without it the pages name the
/// server by its `title`, else its `name`.
///
/// The logo and the stylesheet are loaded by the user's browser from their URLs (`https`, or
/// `http` on a loopback address), whose origins the pages' Content-Security-Policy then allows
/// for images and styles only; the pages run no script.
///
/// ```
/// use mcp_runtime::config::Branding;
///
/// let branding = Branding::new()
///     .product_name("Acme Docs")
///     .logo_url("https://acme.example/logo.svg")
///     .stylesheet_url("https://acme.example/mcp-pages.css");
/// assert_eq!(branding.product().as_deref(), Some("Acme Docs"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Branding {
    product_name: Option<String>,
    logo_url: Option<String>,
    stylesheet_url: Option<String>,
}

impl Branding {
    /// No branding: the pages name the server.
    pub fn new() -> Self {
        Self::default()
    }

    /// The product name the pages show (instead of the server's title or name).
    pub fn product_name(mut self, name: impl Into<String>) -> Self {
        self.product_name = Some(name.into());
        self
    }

    /// A logo shown at the top of every page.
    pub fn logo_url(mut self, url: impl Into<String>) -> Self {
        self.logo_url = Some(url.into());
        self
    }

    /// A stylesheet loaded after the pages' own, to restyle them.
    pub fn stylesheet_url(mut self, url: impl Into<String>) -> Self {
        self.stylesheet_url = Some(url.into());
        self
    }

    /// The product name, if set.
    pub fn product(&self) -> Option<&str> {
        self.product_name.as_deref()
    }

    /// The logo's URL, if set.
    pub fn logo(&self) -> Option<&str> {
        self.logo_url.as_deref()
    }

    /// The stylesheet's URL, if set.
    pub fn stylesheet(&self) -> Option<&str> {
        self.stylesheet_url.as_deref()
    }

    /// From `MCP_BRANDING_*`; `None` when none is set.
    pub(crate) fn from_env() -> Option<Self> {
        let b = Branding {
            product_name: env_var("MCP_BRANDING_NAME"),
            logo_url: env_var("MCP_BRANDING_LOGO_URL"),
            stylesheet_url: env_var("MCP_BRANDING_STYLESHEET_URL"),
        };
        (b != Branding::default()).then_some(b)
    }

    /// What is wrong with it, one line per problem (for `BuildError`).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(name) = &self.product_name
            && (name.trim().is_empty()
                || name.chars().count() > 80
                || name.chars().any(char::is_control))
        {
            problems.push(
                "the branding's product name must be 1 to 80 characters, without control \
                 characters"
                    .to_owned(),
            );
        }
        for (what, url) in [
            ("logo URL", &self.logo_url),
            ("stylesheet URL", &self.stylesheet_url),
        ] {
            if let Some(url) = url
                && let Err(why) = asset_origin(url)
            {
                problems.push(format!("the branding's {what} `{url}` {why}"));
            }
        }
        problems
    }
}

/// The origin a page asset is loaded from, for the Content-Security-Policy: `https`, or `http`
/// on a loopback address; no user info.
#[cfg_attr(not(feature = "oauth"), allow(dead_code))]
pub(crate) fn asset_origin(url: &str) -> Result<String, &'static str> {
    let parsed = url::Url::parse(url).map_err(|_| "is not an absolute URL")?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err("has no host"),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("must be https (http only on a loopback address)"),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry user info");
    }
    Ok(parsed.origin().ascii_serialization())
}
