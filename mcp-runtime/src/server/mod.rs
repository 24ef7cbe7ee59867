//! The MCP server: a builder, the Streamable HTTP endpoint, and ways to run it.

pub(crate) mod builder;
pub(crate) mod call;
pub(crate) mod dispatch;
pub(crate) mod http;
#[cfg(feature = "oauth")]
mod http_auth;
pub(crate) mod jsonrpc;
#[cfg(feature = "oauth")]
mod oauth;
pub(crate) mod observe;
pub(crate) mod origin;
pub(crate) mod session;
mod stream;

pub use builder::McpServerBuilder;

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
use crate::tool::{CallFn, ToolMeta};

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
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) listings: Vec<(
        serde_json::Value,
        &'static [&'static str],
        &'static [&'static str],
    )>,
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) page_size: usize,
    pub(crate) state: Arc<StateMap>,
    pub(crate) http: HttpConfig,
    pub(crate) sessions: session::Sessions,
    #[cfg(feature = "oauth")]
    pub(crate) auth: Option<Arc<crate::auth::config::AuthState>>,
    /// The public URL of the endpoint (`public_url` or `MCP_URL`), when configured.
    pub(crate) public_url: Option<config::PublicUrl>,
    /// The metrics endpoint's path and the server's metrics (feature `metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<(String, Arc<crate::metrics::Metrics>)>,
    /// Whether mounting without a public URL was reported already.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) mount_warned: std::sync::atomic::AtomicBool,
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
        McpServerBuilder::new()
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
        #[cfg(feature = "oauth")]
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
        // The user's routes authenticate with the server's OAuth (`Auth`, `bearer_auth`).
        #[cfg(feature = "oauth")]
        if let Some(auth) = &self.inner.auth {
            cfg.app_data(web::Data::from(auth.clone()));
        }
        cfg.service(
            web::resource(&*self.path)
                .app_data(data)
                .wrap_fn(|req, srv| {
                    use actix_web::dev::Service as _;
                    use tracing::Instrument as _;
                    // Browser clients: CORS for origins the endpoint accepts.
                    let origin = http::cors_origin(req.request());
                    let preflight = req.method() == actix_web::http::Method::OPTIONS;
                    // One span per request; the handler (a boxed future) runs inside it.
                    let span = http::request_span(req.request());
                    let fut = srv.call(req).instrument(span.clone());
                    async move {
                        let mut res = fut.await?;
                        span.record("status", res.status().as_u16());
                        #[cfg(feature = "metrics")]
                        crate::metrics::count_response(&res);
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
        #[cfg(feature = "metrics")]
        if let Some((path, metrics)) = &self.inner.metrics {
            let metrics = metrics.clone();
            cfg.service(
                web::resource(path.as_str())
                    .app_data(web::Data::from(self.inner.clone()))
                    .route(
                        web::get().to(move |req| crate::metrics::endpoint(req, metrics.clone())),
                    ),
            );
        }
        for f in self.configure.iter() {
            f(cfg);
        }
    }

    /// Mounts, at the root of the app, the discovery documents (RFC 9728 protected resource
    /// metadata at `/.well-known/oauth-protected-resource` and its path-suffixed form for the
    /// public URL's path) and the authorization server's metadata and endpoints (the embedded
    /// development server's, or the provider's relayed metadata). Nothing without OAuth.
    #[cfg_attr(not(feature = "oauth"), allow(unused_variables))]
    pub fn configure_discovery(&self, cfg: &mut web::ServiceConfig) {
        #[cfg(feature = "oauth")]
        self.configure_oauth_discovery(cfg);
    }

    #[cfg(feature = "oauth")]
    fn configure_oauth_discovery(&self, cfg: &mut web::ServiceConfig) {
        let Some(auth) = &self.inner.auth else {
            return;
        };
        let data = web::Data::from(self.inner.clone());
        #[cfg(feature = "authorization-server")]
        let dev = auth.dev.as_ref();
        #[cfg(not(feature = "authorization-server"))]
        let dev: Option<&std::convert::Infallible> = None;
        if let Some(dev) = dev {
            #[cfg(feature = "authorization-server")]
            dev.configure(cfg);
            #[cfg(not(feature = "authorization-server"))]
            match *dev {}
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
        #[cfg(feature = "oauth")]
        if let Some(auth) = &self.inner.auth {
            let _ = auth.resource.set(format!("http://{local}{}", self.path));
            #[cfg(feature = "authorization-server")]
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
