//! The MCP server: a builder, the Streamable HTTP endpoint, and ways to run it.

pub(crate) mod call;
pub(crate) mod dispatch;
pub(crate) mod http;
pub(crate) mod jsonrpc;
pub(crate) mod session;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use bytes::Bytes;

pub use dispatch::{
    DEFAULT_PROTOCOL_VERSION, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS,
};
pub use jsonrpc::RpcError;
pub use session::Session;

use crate::config::{self, ServeError};
use crate::extract::StateMap;
use crate::tool::{CallFn, Tool, ToolMeta};

/// A map keyed by strings the server chose: tool names, session ids.
///
/// Flooding a hash map with colliding keys needs a say in which keys it holds; clients only
/// look keys up in these, so the keyed SipHash of a plain `HashMap` would buy nothing here,
/// and it costs more than the rest of the lookup.
pub(crate) type ServerKeyed<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// FxHash, over 8-byte words.
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Host names a loopback-bound server accepts in `Host` and `Origin` headers.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

type ConfigureFn = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// Why a server could not be built. Lists every problem at once.
#[derive(Debug, thiserror::Error)]
#[error("the MCP server cannot be built:\n  - {}", .problems.join("\n  - "))]
pub struct BuildError {
    /// One line per problem.
    pub problems: Vec<String>,
}

pub(crate) struct ServerInfo {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) title: Option<String>,
    pub(crate) instructions: Option<String>,
}

pub(crate) struct ToolEntry {
    pub(crate) meta: ToolMeta,
    pub(crate) call: CallFn,
}

pub(crate) struct HttpConfig {
    pub(crate) max_body_bytes: usize,
    pub(crate) allowed_origins: Vec<String>,
    /// Host names accepted in `Host` (and `Origin`): the loopback names, the public URL's
    /// host and the configured ones. Never empty, so the check is always on.
    pub(crate) allowed_hosts: Vec<String>,
    pub(crate) stateless: bool,
    pub(crate) streaming: bool,
    pub(crate) keepalive: Duration,
}

pub(crate) struct Inner {
    pub(crate) info: ServerInfo,
    pub(crate) tools: ServerKeyed<&'static str, ToolEntry>,
    pub(crate) tool_pages: Vec<Bytes>,
    /// Each tool's listing and scopes, in order: for `tools/list` filtered per caller.
    pub(crate) listings: Vec<(
        serde_json::Value,
        &'static [&'static str],
        &'static [&'static str],
    )>,
    pub(crate) page_size: usize,
    pub(crate) state: Arc<StateMap>,
    pub(crate) http: HttpConfig,
    pub(crate) sessions: session::Sessions,
    pub(crate) auth: Option<crate::auth::config::AuthState>,
    /// The public URL of the endpoint (`public_url` or `MCP_URL`), when configured.
    pub(crate) public_url: Option<config::PublicUrl>,
    /// Whether mounting without a public URL was reported already.
    pub(crate) mount_warned: std::sync::atomic::AtomicBool,
}

/// Configures and builds an [`McpServer`]; see [`McpServer::builder`].
pub struct McpServerBuilder {
    name: String,
    version: String,
    title: Option<String>,
    instructions: Option<String>,
    tools: Vec<Tool>,
    state: StateMap,
    configure: Vec<ConfigureFn>,
    path: Option<String>,
    public_url: Option<String>,
    page_size: usize,
    max_body_bytes: usize,
    allowed_origins: Vec<String>,
    allowed_hosts: Vec<String>,
    stateless: bool,
    streaming: bool,
    session_idle_timeout: Duration,
    max_sessions: usize,
    workers: Option<usize>,
    oauth: Option<crate::auth::OAuth>,
    declared_scopes: Option<Vec<String>>,
    /// OAuth was asked for (even if its configuration failed, which is reported already).
    oauth_requested: bool,
    problems: Vec<String>,
}

impl std::fmt::Debug for McpServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServerBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl McpServerBuilder {
    /// The server's name (`serverInfo.name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// The server's version (`serverInfo.version`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }
    /// A human-readable title (`serverInfo.title`).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
    /// Instructions for the model, returned by `initialize`.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }
    /// Registers one tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }
    /// Registers tools, e.g. `tools![add, search]`.
    pub fn tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
        self.tools.extend(tools);
        self
    }
    /// Shares `value` with tools (as [`State<T>`](crate::State)) and with custom routes (as
    /// `actix_web::web::Data<T>`).
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        let value = Arc::new(value);
        self.state.insert(value.clone());
        self.configure
            .push(Arc::new(move |cfg: &mut web::ServiceConfig| {
                cfg.app_data(web::Data::from(value.clone()));
            }));
        self
    }
    /// Mounts extra actix-web routes (and app data) beside the MCP endpoint.
    pub fn routes(mut self, f: impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static) -> Self {
        self.configure.push(Arc::new(f));
        self
    }
    /// The MCP endpoint's path where it is mounted (default: the public URL's path, else
    /// `/mcp`). Inside a `web::scope`, the path within the scope.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
    /// The public URL of the MCP endpoint, as clients reach it (e.g.
    /// `https://mcp.example.com/mcp` behind a TLS-terminating proxy). Default: the `MCP_URL`
    /// environment variable, read when the server is built.
    ///
    /// It is the canonical resource that tokens must be issued for (RFC 8707), the base of
    /// the discovery documents and challenges, the issuer of the embedded authorization
    /// server, and its host is accepted in `Host` headers. Nothing is ever derived from a
    /// request's `Host`. It is required to bind a non-loopback address. It must be `https`
    /// (plain `http` only on a loopback host) without user info, query or fragment.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }
    /// Tools per `tools/list` page (default 100).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n;
        self
    }
    /// The largest request body accepted, in bytes (default 4 MiB); larger ones get 413.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }
    /// Browser origins allowed besides this server's own (exact match, e.g.
    /// `https://app.example.com`). Also `MCP_ALLOWED_ORIGINS` (comma-separated) for `serve`.
    pub fn allowed_origins<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        origins: I,
    ) -> Self {
        self.allowed_origins
            .extend(origins.into_iter().map(Into::into));
        self
    }
    /// More host names accepted in the `Host` header (DNS-rebinding protection), e.g. another
    /// name of the same deployment. Always accepted: `localhost`, `127.0.0.1`, `[::1]` and the
    /// public URL's host. Also `MCP_ALLOWED_HOSTS` (comma-separated).
    pub fn allowed_hosts<I: IntoIterator<Item = S>, S: Into<String>>(mut self, hosts: I) -> Self {
        self.allowed_hosts
            .extend(hosts.into_iter().map(|h| h.into().to_ascii_lowercase()));
        self
    }
    /// Stateless mode: no sessions, no `Mcp-Session-Id`; every request stands alone, so any
    /// replica behind a load balancer can answer it.
    pub fn stateless(mut self, stateless: bool) -> Self {
        self.stateless = stateless;
        self
    }
    /// Whether `tools/call` may answer as an SSE stream when the tool sends progress or log
    /// notifications (default true). When false, every answer is `application/json`.
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = streaming;
        self
    }
    /// How long an idle session lives (default 1 hour).
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.session_idle_timeout = timeout;
        self
    }
    /// The most sessions kept at once (default 10 000); `initialize` beyond that gets 503.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }
    /// Protects the server with OAuth: every request needs a valid bearer token, tools may
    /// require scopes and take the caller as `Auth`, and the protected resource metadata is
    /// served (RFC 9728).
    pub fn oauth(mut self, oauth: crate::auth::OAuth) -> Self {
        self.oauth = Some(oauth);
        self
    }

    /// Protects the server with an OAuth configuration that may have failed to load (a
    /// `Result<OAuth, E>`); the error is reported by [`build`](Self::build). This is what
    /// `#[mcp_server(oauth = make_oauth)]` calls with `make_oauth()`.
    pub fn oauth_from(mut self, oauth: impl crate::auth::IntoOAuth) -> Self {
        self.oauth_requested = true;
        match oauth.try_into_oauth() {
            Ok(o) => self.oauth = Some(o),
            Err(e) => self.problems.push(format!("OAuth: {e}")),
        }
        self
    }

    /// Protects the server with a preset configured from the environment (`"custom"`:
    /// `MCP_USE_OAUTH_CUSTOM_*`; `"dev"`: the embedded development authorization server,
    /// `MCP_USE_OAUTH_DEV_*`). Configuration errors are reported by [`build`](Self::build),
    /// naming the variable.
    pub fn oauth_preset(mut self, preset: &str) -> Self {
        self.oauth_requested = true;
        let client = crate::auth::http_client();
        match preset {
            "custom" => match crate::providers::CustomProvider::from_env() {
                Ok(p) => self.oauth = Some(p.into_oauth(client)),
                Err(e) => self.problems.push(format!("OAuth preset `custom`: {e}")),
            },
            "dev" => match crate::providers::DevProvider::from_env().and_then(|p| p.into_oauth()) {
                Ok(o) => self.oauth = Some(o),
                Err(e) => self.problems.push(format!("OAuth preset `dev`: {e}")),
            },
            "auth0" | "workos" | "supabase" | "keycloak" | "clerk" | "better_auth" => {
                use crate::providers::*;
                let built = match preset {
                    "auth0" => Auth0Provider::default().into_oauth(client),
                    "workos" => WorkOsProvider::default().into_oauth(client),
                    "supabase" => SupabaseProvider::default().into_oauth(client),
                    "keycloak" => KeycloakProvider::default().into_oauth(client),
                    "clerk" => ClerkProvider::default().into_oauth(client),
                    _ => BetterAuthProvider::default().into_oauth(client),
                };
                match built {
                    Ok(o) => self.oauth = Some(o),
                    Err(e) => self.problems.push(format!("OAuth preset `{preset}`: {e}")),
                }
            }
            other => self.problems.push(format!(
                "unknown OAuth preset `{other}`; known presets: {}",
                crate::providers::PRESETS.join(", ")
            )),
        }
        self
    }

    /// Declares the server's scope set: every tool's scopes must be in it (a typo is refused
    /// at build, and at compile time with `#[mcp_server(scopes = [...])]`), and it is
    /// advertised in the protected resource metadata.
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.declared_scopes
            .get_or_insert_with(Vec::new)
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// HTTP worker threads (default: one per CPU core).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// Checks everything and builds the server; all problems are reported together.
    pub fn build(self) -> Result<McpServer, BuildError> {
        let mut problems = self.problems;
        if self.page_size == 0 {
            problems.push("page_size must be at least 1".into());
        }
        let (public_url, source) = match self.public_url {
            Some(url) => (Some(url), "public_url"),
            None => (config::env_var("MCP_URL"), "MCP_URL"),
        };
        let public_url = public_url.and_then(|url| match config::PublicUrl::parse(&url) {
            Ok(public) => Some(public),
            Err(e) => {
                problems.push(format!(
                    "{source} is invalid: {e}; it is the URL clients use for the MCP endpoint, \
                     e.g. https://mcp.example.com/mcp"
                ));
                None
            }
        });
        let path = self
            .path
            .or_else(|| public_url.as_ref().map(|p| p.path.clone()))
            .unwrap_or_else(|| "/mcp".to_owned());
        if !path.starts_with('/') {
            problems.push(format!(
                "the endpoint path must start with `/`, got `{path}`"
            ));
        }
        let mut tools: ServerKeyed<&'static str, ToolEntry> = ServerKeyed::default();
        let mut listings = Vec::new();
        let mut tool_scopes: Vec<&'static str> = Vec::new();
        for tool in self.tools {
            let name = tool.meta.name;
            let location = tool.meta.location;
            if let Some(prev) = tools.get(name) {
                problems.push(format!(
                    "two tools are named `{name}`: one defined at {}, the other at {location}",
                    prev.meta.location
                ));
                continue;
            }
            match tool.build() {
                Ok(built) => {
                    for (id, type_name) in &built.states {
                        if !self.state.contains(*id) {
                            problems.push(format!(
                                "tool `{name}` ({location}) takes `State<{type_name}>`, but no state of \
                                 that type was registered: add `.state(value)` to the builder"
                            ));
                        }
                    }
                    if built.needs_auth && self.oauth.is_none() && !self.oauth_requested {
                        problems.push(format!(
                            "tool `{name}` ({location}) requires an authenticated caller (it takes `Auth` \
                             or requires scopes), but the server has no OAuth: add `.oauth(...)`"
                        ));
                    }
                    if let Some(declared) = &self.declared_scopes {
                        for s in built.meta.scopes.iter().chain(built.meta.any_scopes) {
                            if !declared.iter().any(|d| d == s) {
                                problems.push(format!(
                                    "tool `{name}` ({location}) requires scope `{s}`, which the server \
                                     does not declare (declared: {})",
                                    declared.join(", ")
                                ));
                            }
                        }
                    }
                    tool_scopes.extend(
                        built
                            .meta
                            .scopes
                            .iter()
                            .chain(built.meta.any_scopes)
                            .copied(),
                    );
                    listings.push((built.listing, built.meta.scopes, built.meta.any_scopes));
                    tools.insert(
                        name,
                        ToolEntry {
                            meta: built.meta,
                            call: built.call,
                        },
                    );
                }
                Err(errs) => {
                    for e in errs {
                        problems.push(format!("tool `{name}` ({location}): {e}"));
                    }
                }
            }
        }
        if let Some(oauth) = &self.oauth
            && oauth.verifier.is_dangerous()
        {
            let allow = std::env::var("MCP_USE_OAUTH_ALLOW_UNVERIFIED").ok();
            match unverified_allowed(cfg!(debug_assertions), allow.as_deref()) {
                Ok(()) => tracing::warn!(
                    target: "mcp_runtime::auth",
                    "TOKENS ARE NOT VERIFIED: {}. Anyone can forge a token for this server; \
                     use this for local development only",
                    oauth.verifier.describe()
                ),
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(BuildError { problems });
        }
        let all: Vec<serde_json::Value> = listings.iter().map(|l| l.0.clone()).collect();
        let tool_pages = paginate(&all, self.page_size);
        if let (Some(oauth), Some(public)) = (&self.oauth, &public_url)
            && let Some(resource) = &oauth.resource
            && resource != &public.text
        {
            return Err(BuildError {
                problems: vec![format!(
                    "OAuth::resource `{resource}` differs from the public URL `{}` ({source}); \
                     tokens are issued for one resource: set only the public URL",
                    public.text
                )],
            });
        }
        let auth = self.oauth.map(|mut o| {
            if o.resource.is_none() {
                o.resource = public_url.as_ref().map(|p| p.text.clone());
            }
            crate::auth::config::AuthState::new(o, &tool_scopes)
        });
        let mut allowed_hosts: Vec<String> =
            LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect();
        allowed_hosts.extend(public_url.iter().map(|p| p.host.clone()));
        allowed_hosts.extend(self.allowed_hosts);
        let inner = Inner {
            info: ServerInfo {
                name: self.name,
                version: self.version,
                title: self.title,
                instructions: self.instructions,
            },
            tools,
            tool_pages,
            listings: if auth.as_ref().is_some_and(|a| a.hide_tools) {
                listings
            } else {
                Vec::new()
            },
            page_size: self.page_size,
            state: Arc::new(self.state),
            http: HttpConfig {
                max_body_bytes: self.max_body_bytes,
                allowed_origins: self.allowed_origins,
                allowed_hosts,
                stateless: self.stateless,
                streaming: self.streaming,
                keepalive: http::DEFAULT_KEEPALIVE,
            },
            sessions: session::Sessions::new(self.session_idle_timeout, self.max_sessions),
            auth,
            public_url,
            mount_warned: Default::default(),
        };
        Ok(McpServer {
            inner: Arc::new(inner),
            configure: Arc::new(self.configure),
            path: path.into(),
            workers: self.workers,
        })
    }

    /// Reads `MCP_ALLOWED_ORIGINS` and `MCP_ALLOWED_HOSTS` (comma-separated lists).
    pub fn with_env(mut self) -> Self {
        if let Some(list) = config::env_list("MCP_ALLOWED_ORIGINS") {
            self = self.allowed_origins(list);
        }
        if let Some(list) = config::env_list("MCP_ALLOWED_HOSTS") {
            self = self.allowed_hosts(list);
        }
        self
    }
}

/// Whether a verifier that checks nothing may run: always in a debug build (with a warning),
/// in a release build only when `MCP_USE_OAUTH_ALLOW_UNVERIFIED` is `true`.
fn unverified_allowed(debug_build: bool, allow: Option<&str>) -> Result<(), String> {
    if debug_build || allow.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        Ok(())
    } else {
        Err(
            "the OAuth verifier does not verify tokens (verify_jwt = false / \
             dangerous::UnverifiedJwt), which a release build refuses: verify tokens, or set \
             MCP_USE_OAUTH_ALLOW_UNVERIFIED=true to force it"
                .into(),
        )
    }
}

/// Pre-serializes `tools/list` pages, once, at build time.
pub(crate) fn paginate(listings: &[serde_json::Value], page_size: usize) -> Vec<Bytes> {
    let chunks: Vec<&[serde_json::Value]> = if listings.is_empty() {
        vec![&[]]
    } else {
        listings.chunks(page_size).collect()
    };
    let count = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = serde_json::Map::new();
            page.insert("tools".into(), serde_json::Value::Array(chunk.to_vec()));
            if i + 1 < count {
                page.insert("nextCursor".into(), (i + 1).to_string().into());
            }
            Bytes::from(serde_json::Value::Object(page).to_string())
        })
        .collect()
}

/// A built MCP server. Cheap to clone.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
    configure: Arc<Vec<ConfigureFn>>,
    path: Arc<str>,
    workers: Option<usize>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("name", &self.inner.info.name)
            .field("path", &self.path)
            .field("tools", &self.inner.tools.len())
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// Starts a builder.
    ///
    /// ```
    /// use mcp_runtime::prelude::*;
    ///
    /// /// Add two numbers.
    /// #[mcp_tool(read_only)]
    /// async fn add(a: i64, b: i64) -> i64 { a + b }
    ///
    /// let server = McpServer::builder().name("calc").version("1.0.0").tools(tools![add]).build();
    /// assert!(server.is_ok());
    /// ```
    pub fn builder() -> McpServerBuilder {
        McpServerBuilder {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            title: None,
            instructions: None,
            tools: Vec::new(),
            state: StateMap::default(),
            configure: Vec::new(),
            path: None,
            public_url: None,
            page_size: 100,
            max_body_bytes: 4 * 1024 * 1024,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            stateless: false,
            streaming: true,
            session_idle_timeout: Duration::from_secs(3600),
            max_sessions: 10_000,
            workers: None,
            oauth: None,
            declared_scopes: None,
            oauth_requested: false,
            problems: Vec::new(),
        }
    }

    /// Mounts the whole server at the root of an actix-web app: the MCP endpoint, the
    /// discovery documents, the embedded authorization server (if any), the app state and the
    /// extra routes. `App::new().configure(|cfg| server.configure(cfg))`.
    ///
    /// This is [`configure_endpoint`](Self::configure_endpoint) plus
    /// [`configure_discovery`](Self::configure_discovery); use those two to put the endpoint
    /// inside a `web::scope` while the discovery documents stay at the root, where clients
    /// look for them (RFC 9728 §3, RFC 8414 §3).
    ///
    /// When you run your own `HttpServer`, set `.h1_allow_half_closed(false)` so that a client
    /// that disconnects cancels its tool call (the tool's future is dropped), and choose
    /// `.shutdown_timeout(secs)`: on shutdown, requests in flight get that long to finish
    /// (open GET streams are closed then). With OAuth, set the public URL (`MCP_URL` or
    /// [`McpServerBuilder::public_url`]): a mounted server never learns its address.
    ///
    /// ```no_run
    /// # use mcp_runtime::prelude::*;
    /// # use mcp_runtime::actix_web::{App, HttpServer, web};
    /// # #[mcp_tool] async fn add(a: i64, b: i64) -> i64 { a + b }
    /// # async fn run() -> std::io::Result<()> {
    /// let mcp = McpServer::builder().tools(tools![add]).build().expect("valid server");
    /// HttpServer::new(move || {
    ///     let mcp = mcp.clone();
    ///     App::new()
    ///         .route("/health", web::get().to(|| async { "ok" }))
    ///         .configure(|cfg| mcp.configure_discovery(cfg))
    ///         .service(web::scope("/api").configure(|cfg| mcp.configure_endpoint(cfg)))
    /// })
    /// .h1_allow_half_closed(false)
    /// .shutdown_timeout(5)
    /// .bind(("127.0.0.1", 3000))?
    /// .run()
    /// .await
    /// # }
    /// ```
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        self.configure_endpoint(cfg);
        self.configure_discovery(cfg);
    }

    /// Mounts the MCP endpoint at [`path`](Self::path) (relative to the enclosing scope, if
    /// any), with the app state and the extra routes; see [`configure`](Self::configure).
    ///
    /// Two servers mounted in one app keep their own state: each endpoint finds its own
    /// server. The `Auth` extractor of extra routes uses the server configured last in their
    /// scope.
    pub fn configure_endpoint(&self, cfg: &mut web::ServiceConfig) {
        let data = web::Data::from(self.inner.clone());
        if let Some(auth) = &self.inner.auth
            && auth.resource.get().is_none()
            && !self
                .inner
                .mount_warned
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::error!(
                target: "mcp_runtime::server",
                "the MCP server `{}` is mounted with OAuth but without a public URL, so it cannot \
                 check tokens' audience: set MCP_URL (or `public_url`) to the endpoint's URL",
                self.inner.info.name
            );
        }
        cfg.app_data(data.clone());
        cfg.service(
            web::resource(&*self.path)
                .app_data(data)
                .wrap_fn(|req, srv| {
                    use actix_web::dev::Service as _;
                    // Browser clients: CORS for origins the endpoint accepts.
                    let origin = http::cors_origin(req.request());
                    let preflight = req.method() == actix_web::http::Method::OPTIONS;
                    let fut = srv.call(req);
                    async move {
                        let mut res = fut.await?;
                        if let Some(origin) = origin {
                            http::add_cors(res.headers_mut(), origin, preflight);
                        }
                        Ok(res)
                    }
                })
                .route(web::post().to(http::post))
                .route(web::get().to(http::get))
                .route(web::delete().to(http::delete))
                .default_service(web::to(http::other)),
        );
        for f in self.configure.iter() {
            f(cfg);
        }
    }

    /// Mounts, at the root of the app, the discovery documents (RFC 9728 protected resource
    /// metadata at `/.well-known/oauth-protected-resource` and its path-suffixed form for the
    /// public URL's path) and the authorization server's metadata and endpoints (the embedded
    /// development server's, or the provider's relayed metadata). Nothing without OAuth.
    pub fn configure_discovery(&self, cfg: &mut web::ServiceConfig) {
        let Some(auth) = &self.inner.auth else {
            return;
        };
        let data = web::Data::from(self.inner.clone());
        if let Some(dev) = &auth.dev {
            dev.configure(cfg);
        } else if let Some(relay) = &auth.relay {
            relay.configure(cfg);
        } else if auth.as_metadata.is_some() {
            cfg.service(
                web::resource("/.well-known/oauth-authorization-server")
                    .app_data(data.clone())
                    .route(web::get().to(http::authorization_server_metadata))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(http::preflight)),
            );
        }
        // RFC 9728: the root document and the one for the endpoint's public path.
        let public_path = self
            .inner
            .public_url
            .as_ref()
            .map_or(&*self.path, |p| p.path.as_str());
        let suffixed = match public_path {
            "/" | "" => None,
            p => Some(format!("/.well-known/oauth-protected-resource{p}")),
        };
        for path in
            std::iter::once("/.well-known/oauth-protected-resource").chain(suffixed.as_deref())
        {
            cfg.service(
                web::resource(path)
                    .app_data(data.clone())
                    .route(web::get().to(http::resource_metadata))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(http::preflight)),
            );
        }
    }

    /// Without a public URL, only a loopback address may be bound.
    fn may_bind(&self, addr: SocketAddr) -> Result<(), ServeError> {
        if self.inner.public_url.is_none() && !addr.ip().is_loopback() {
            return Err(ServeError::PublicUrlRequired { addr });
        }
        Ok(())
    }

    /// Learns the bound address: without a public URL, only a loopback address may be
    /// bound, and the canonical resource is `http://<bound address><path>`.
    fn bound(&self, local: SocketAddr) -> Result<(), ServeError> {
        self.may_bind(local)?;
        if let Some(auth) = &self.inner.auth {
            let _ = auth.resource.set(format!("http://{local}{}", self.path));
            if let Some(dev) = &auth.dev {
                dev.set_resource(auth.resource());
            }
            tracing::info!(
                target: "mcp_runtime::auth",
                "OAuth: resource {}; tokens verified by {}",
                auth.resource(),
                auth.gate.describe()
            );
        }
        Ok(())
    }

    /// Runs the actix-web server for this MCP server on `listener`.
    ///
    /// Half-closed connections are not allowed, so a client that disconnects cancels its
    /// request: the tool's future is dropped instead of running on for nobody.
    fn run_on(
        &self,
        listener: TcpListener,
        signals: bool,
    ) -> std::io::Result<actix_web::dev::Server> {
        let this = self.clone();
        let mut server = HttpServer::new(move || {
            let this = this.clone();
            App::new().configure(move |cfg| this.configure(cfg))
        })
        .h1_allow_half_closed(false)
        .shutdown_timeout(5);
        if let Some(n) = self.workers {
            server = server.workers(n);
        }
        if !signals {
            server = server.disable_signals();
        }
        Ok(server.listen(listener)?.run())
    }

    /// The endpoint path (`/mcp` unless changed).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Binds `addr` and starts serving in the background of the current runtime; returns at
    /// once with the bound address. Use port 0 for an ephemeral port (tests).
    pub fn start(&self, addr: impl ToSocketAddrs) -> std::io::Result<RunningServer> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        self.bound(local)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
        let server = self.run_on(listener, false)?;
        let handle = server.handle();
        let join = tokio::spawn(server);
        Ok(RunningServer {
            addr: local,
            path: self.path.clone(),
            handle,
            join,
        })
    }

    /// Serves on `HOST`:`PORT` from the environment (defaults `127.0.0.1:3000`) until Ctrl-C.
    pub async fn serve(self) -> Result<(), ServeError> {
        let addr = config::bind_addr_from_env()?;
        self.serve_on(addr).await
    }

    /// Serves on `addr` until Ctrl-C.
    pub async fn serve_on(self, addr: SocketAddr) -> Result<(), ServeError> {
        self.may_bind(addr)?;
        let listener = TcpListener::bind(addr).map_err(|e| ServeError::Bind { addr, source: e })?;
        let local = listener
            .local_addr()
            .map_err(|e| ServeError::Bind { addr, source: e })?;
        self.bound(local)?;
        match &self.inner.public_url {
            Some(public) => tracing::info!(
                target: "mcp_runtime::server",
                "MCP server `{}` listening on http://{local}{} (public URL {})",
                self.inner.info.name,
                self.path,
                public.text
            ),
            None => tracing::info!(
                target: "mcp_runtime::server",
                "MCP server `{}` listening on http://{local}{}",
                self.inner.info.name,
                self.path
            ),
        }
        self.run_on(listener, true)
            .map_err(|e| ServeError::Bind { addr, source: e })?
            .await
            .map_err(ServeError::Io)
    }

    /// Blocks on [`serve`](Self::serve) in a runtime of its own, after loading `.env`-style
    /// settings and installing a `tracing` subscriber (`RUST_LOG`, default `info`). This is all
    /// `main` needs: `fn main() -> Result<(), ServeError> { server.run() }`.
    pub fn run(self) -> Result<(), ServeError> {
        config::load_dotenv();
        config::init_tracing();
        actix_web::rt::System::new().block_on(self.serve())
    }
}

/// A server started with [`McpServer::start`].
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    path: Arc<str>,
    handle: actix_web::dev::ServerHandle,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP endpoint's URL, e.g. `http://127.0.0.1:40123/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.path)
    }

    /// Stops the server, letting requests in flight finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.join.await;
    }
}

#[cfg(test)]
mod tests {
    use super::unverified_allowed;

    #[test]
    fn unverified_tokens_need_a_debug_build_or_an_explicit_force() {
        assert!(unverified_allowed(true, None).is_ok());
        assert!(unverified_allowed(false, Some("true")).is_ok());
        assert!(unverified_allowed(false, Some(" TRUE ")).is_ok());
        let e = unverified_allowed(false, None).expect_err("release build");
        assert!(e.contains("MCP_USE_OAUTH_ALLOW_UNVERIFIED=true"), "{e}");
        assert!(unverified_allowed(false, Some("1")).is_err());
    }
}
