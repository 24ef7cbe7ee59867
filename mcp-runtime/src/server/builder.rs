//! [`McpServerBuilder`]: everything a server is made of, checked at once by `build`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use super::catalog::{Catalog, Rules};
use super::{
    BuildError, ConfigureFn, HttpConfig, Inner, LOOPBACK_HOSTS, McpServer, ServerInfo, http,
    session,
};
use crate::config;
use crate::extract::StateMap;
use crate::model::Report;
use crate::store::StoreError;
use crate::tool::Tool;

/// Configures and builds an [`McpServer`]; see [`McpServer::builder`].
pub struct McpServerBuilder {
    pub(super) name: String,
    version: String,
    pub(super) title: Option<String>,
    instructions: Option<String>,
    /// How the embedded authorization server's pages present the product.
    pub(super) branding: Option<config::Branding>,
    /// Whether request spans carry the caller's `sub`; `None`: `MCP_TRACE_SUBJECT` decides.
    trace_subject: Option<bool>,
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
    /// `stateless` was set in code (`MCP_STATELESS` then does not change it).
    stateless_in_code: bool,
    /// The `MCP_*` settings of `with_env` were read (`build` reads them if not).
    env_read: bool,
    streaming: bool,
    session_idle_timeout: Duration,
    max_sessions: usize,
    max_sessions_per_caller: usize,
    client_request_timeout: Duration,
    list_cache_ttl: Duration,
    request_state_key: Option<[u8; 32]>,
    session_store: Option<Arc<dyn crate::store::Store>>,
    tasks: crate::server::protocol::tasks::TaskConfig,
    workers: Option<usize>,
    #[cfg(feature = "oauth")]
    pub(super) oauth: Option<crate::auth::OAuth>,
    declared_scopes: Option<Vec<String>>,
    resources: Vec<crate::server::protocol::resources::Resource>,
    prompts: Vec<crate::server::protocol::prompts::Prompt>,
    #[cfg(feature = "metrics")]
    metrics_path: Option<String>,
    /// The metrics listener's address (`metrics_listener`, `MCP_METRICS_ADDR`).
    #[cfg(feature = "metrics")]
    metrics_addr: Option<std::net::SocketAddr>,
    /// `metrics_listener` was called (`MCP_METRICS_ADDR` then does not change it).
    #[cfg(feature = "metrics")]
    metrics_addr_in_code: bool,
    /// `collect_metrics` was called.
    #[cfg(feature = "metrics")]
    collect_metrics: bool,
    /// The health route (`/healthz` unless changed; `None`: none).
    health_path: Option<String>,
    /// `health_path` was set in code (`MCP_HEALTH_PATH` then does not change it).
    health_in_code: bool,
    /// OAuth was asked for (even if its configuration failed, which is reported already).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(super) oauth_requested: bool,
    pub(super) problems: Vec<String>,
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
}

impl std::fmt::Debug for McpServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServerBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl McpServerBuilder {
    pub(super) fn new() -> Self {
        // Before anything reads the environment: presets, `MCP_URL` and the rest see `.env`.
        config::load_dotenv();
        McpServerBuilder {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            title: None,
            branding: None,
            trace_subject: None,
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
            stateless_in_code: false,
            env_read: false,
            streaming: true,
            session_idle_timeout: Duration::from_secs(3600),
            max_sessions: 10_000,
            max_sessions_per_caller: 1_000,
            client_request_timeout: Duration::from_secs(300),
            list_cache_ttl: Duration::ZERO,
            request_state_key: None,
            session_store: None,
            tasks: Default::default(),
            workers: None,
            #[cfg(feature = "oauth")]
            oauth: None,
            declared_scopes: None,
            resources: Vec::new(),
            prompts: Vec::new(),
            #[cfg(feature = "metrics")]
            metrics_path: None,
            #[cfg(feature = "metrics")]
            metrics_addr: None,
            #[cfg(feature = "metrics")]
            metrics_addr_in_code: false,
            #[cfg(feature = "metrics")]
            collect_metrics: false,
            health_path: Some("/healthz".into()),
            health_in_code: false,
            oauth_requested: false,
            problems: Vec::new(),
        }
    }

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
    /// How the sign-in, consent and error pages of the embedded authorization server
    /// (`oauth = "dev"`, the OAuth proxy) present your product: a name, a logo, a stylesheet
    /// (`MCP_BRANDING_NAME`, `MCP_BRANDING_LOGO_URL`, `MCP_BRANDING_STYLESHEET_URL`). Without
    /// it they name the server by its [`title`](Self::title), else its name. A URL that is
    /// not `https` (or `http` on loopback) is reported by [`build`](Self::build).
    pub fn branding(mut self, branding: config::Branding) -> Self {
        self.branding = Some(branding);
        self
    }
    /// Records the caller's identity (the token's `sub`) on each request's span as
    /// `enduser.id` (`MCP_TRACE_SUBJECT=true`). Off by default: it is personal data, and
    /// traces often go to a third party; turn it on where your policy allows it.
    pub fn trace_subject(mut self, on: bool) -> Self {
        self.trace_subject = Some(on);
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
    /// Adds a resource: a fixed URI or a URI template, read by an async function
    /// ([`Resource`](crate::Resource)).
    pub fn resource(mut self, resource: crate::server::protocol::resources::Resource) -> Self {
        self.resources.push(resource);
        self
    }

    /// Adds resources (see [`resource`](Self::resource)).
    pub fn resources(
        mut self,
        resources: impl IntoIterator<Item = crate::server::protocol::resources::Resource>,
    ) -> Self {
        self.resources.extend(resources);
        self
    }

    /// Adds a prompt: named messages with string arguments, made by an async function
    /// ([`Prompt`](crate::Prompt)).
    pub fn prompt(mut self, prompt: crate::server::protocol::prompts::Prompt) -> Self {
        self.prompts.push(prompt);
        self
    }

    /// Adds prompts (see [`prompt`](Self::prompt)).
    pub fn prompts(
        mut self,
        prompts: impl IntoIterator<Item = crate::server::protocol::prompts::Prompt>,
    ) -> Self {
        self.prompts.extend(prompts);
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
        self.stateless_in_code = true;
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
    /// The most sessions kept at once (default 10 000). When full, a new session takes the
    /// place of the least recently used idle one (no call in flight); `initialize` gets 503
    /// only when every session has a call in flight.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }
    /// The most sessions one caller keeps (default 1 000; 0 for no bound): the token's
    /// subject with OAuth, else the client's address. Beyond it, the caller's least recently
    /// used session goes, so one caller cannot crowd everyone else out. Without OAuth behind a
    /// reverse proxy every client has the proxy's address: raise it, or set 0.
    pub fn max_sessions_per_caller(mut self, n: usize) -> Self {
        self.max_sessions_per_caller = n;
        self
    }
    /// How long a tool waits for the client to answer [`Context::sample`](crate::Context::sample),
    /// [`Context::elicit`](crate::Context::elicit) or [`Context::roots`](crate::Context::roots)
    /// (default 5 minutes: elicitation waits for a person).
    pub fn client_request_timeout(mut self, timeout: Duration) -> Self {
        self.client_request_timeout = timeout;
        self
    }
    /// How long clients of the 2026-07-28 revision may cache a listing (`ttlMs` on
    /// `tools/list`, `resources/list`, ...; default 0: ask again every time). Listings are
    /// `cacheScope: "private"` when they depend on the caller (`hide_unauthorized_tools`).
    pub fn list_cache_ttl(mut self, ttl: Duration) -> Self {
        self.list_cache_ttl = ttl;
        self
    }
    /// The key that signs the `requestState` of input-required results (2026-07-28). By
    /// default it derives from `MCP_STORE_ENCRYPTION_KEY` when that is set (the same on every
    /// replica, nothing stored); else replicas sharing a store (`session_store`, or a Redis
    /// `MCP_STORE_URL`) share one kept in it; else it is random per process.
    pub fn request_state_key(mut self, key: [u8; 32]) -> Self {
        self.request_state_key = Some(key);
        self
    }
    /// Shares MCP sessions with the other replicas of this server through `store` (Redis:
    /// `RedisStore`, feature `redis`): a request for a session
    /// another replica created is served here too. Without it, a Redis `MCP_STORE_URL` is
    /// used; otherwise sessions live in this process (another replica answers 404 and the
    /// client initializes again). Streams and the server's requests to the client stay with
    /// the replica that holds them; see the deployment guide.
    pub fn session_store(mut self, store: Arc<dyn crate::store::Store>) -> Self {
        self.session_store = Some(store);
        self
    }
    /// How long a task (2026-07-28's tasks extension) is kept after its creation: its
    /// `ttlMs` (default 1 hour). A task still running then is stopped, and `tasks/get` no
    /// longer knows it.
    pub fn task_ttl(mut self, ttl: Duration) -> Self {
        self.tasks.ttl = ttl;
        self
    }
    /// How often clients should poll a task: its `pollIntervalMs` (default 1 s).
    pub fn task_poll_interval(mut self, interval: Duration) -> Self {
        self.tasks.poll_interval = interval;
        self
    }
    /// The most tasks kept at once (default 10 000). Beyond that a tool whose task is
    /// optional runs on its call's response, and one whose task is required is refused
    /// (-32603, "retry later").
    pub fn max_tasks(mut self, n: usize) -> Self {
        self.tasks.max = n;
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

    /// Serves Prometheus metrics at `path` (e.g. `/metrics`), in the OpenMetrics text format:
    /// requests by method and status, refusals by reason, tool calls and their latency by
    /// tool, token verifications and their latency, JWKS fetches. The path is relative to
    /// where the endpoint is mounted; it answers to the same `Host` check as the endpoint and
    /// needs no token, so keep it off the public internet (a proxy rule, or a separate
    /// listener). Feature `metrics`.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics(mut self, path: impl Into<String>) -> Self {
        self.metrics_path = Some(path.into());
        self
    }

    /// Serves the metrics at `/metrics` on a listener of their own (e.g. `0.0.0.0:9464`,
    /// `MCP_METRICS_ADDR`), started and stopped with the server: it checks no `Host` (a
    /// scraper reaches a pod by its address) and serves nothing else, so the MCP port can stay
    /// strict while the metrics port is open only to the cluster. Binding a non-loopback
    /// address needs no public URL: nothing there makes URLs. Feature `metrics`.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics_listener(mut self, addr: std::net::SocketAddr) -> Self {
        self.metrics_addr = Some(addr);
        self.metrics_addr_in_code = true;
        self
    }

    /// Counts the metrics without serving them anywhere, for a Prometheus registry of your
    /// own: [`McpServer::metrics_collector`] hands out the collector to register. (`metrics`
    /// and `metrics_listener` count them too.) Feature `metrics`.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn collect_metrics(mut self) -> Self {
        self.collect_metrics = true;
        self
    }

    /// Where the health route answers (default `/healthz`; `MCP_HEALTH_PATH`, where `off`
    /// turns it off): `GET` or `HEAD` answer 200 `{"status":"ok"}` once the server serves,
    /// with no authentication and no `Host` check, for load balancers' and orchestrators'
    /// probes (which reach a pod by its address). It says nothing about the server but that it
    /// answers.
    pub fn health_path(mut self, path: impl Into<String>) -> Self {
        self.health_path = Some(path.into());
        self.health_in_code = true;
        self
    }

    /// No health route.
    pub fn no_health_route(mut self) -> Self {
        self.health_path = None;
        self.health_in_code = true;
        self
    }

    /// This replica's name (`MCP_REPLICA_ID`), 1 to 32 of `A-Z a-z 0-9 - _`: every task id it
    /// makes begins with it (`<name>.<random>`), so a load balancer can send a task's requests
    /// (their `Mcp-Name` is the task id) to the replica that runs it; another replica refuses
    /// them naming the right one. Default: this process's random instance number in hex.
    pub fn replica_id(mut self, name: impl Into<String>) -> Self {
        self.tasks.replica = Some(name.into());
        self
    }

    /// HTTP worker threads (default: one per CPU core).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// Checks everything and builds the server; all problems are reported together.
    pub fn build(mut self) -> Result<McpServer, BuildError> {
        self = self.with_env();
        let mut problems = std::mem::take(&mut self.problems);
        if self.page_size == 0 {
            problems.push("page_size must be at least 1".into());
        }
        use crate::server::protocol::input::StateKey;
        // The replicas' shared secret, when they have one: the key derives from it.
        let encryption_key = config::env_var("MCP_STORE_ENCRYPTION_KEY").and_then(|v| {
            use base64::Engine as _;
            let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v.trim().trim_end_matches('='))
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok());
            // Not when the OAuth preset already reported it: one mistake, one error.
            if key.is_none()
                && !problems
                    .iter()
                    .any(|p| p.contains("MCP_STORE_ENCRYPTION_KEY"))
            {
                problems.push(
                    "MCP_STORE_ENCRYPTION_KEY must be 32 random bytes in base64url, e.g. from \
                     `openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`"
                        .into(),
                );
            }
            key
        });
        // A shared store serves sessions, and the request-state key when nothing else gives
        // one: a stateless server with its key needs no store at all.
        let needs_store =
            !self.stateless || (self.request_state_key.is_none() && encryption_key.is_none());
        let shared_store = match self.session_store.take() {
            Some(store) => Some(store),
            // Not when the OAuth preset already reported the variable: one mistake, one error.
            None if needs_store && !problems.iter().any(|p| p.contains("MCP_STORE_URL")) => {
                match config::env_var("MCP_STORE_URL") {
                    Some(url)
                        if url.trim_start().starts_with("redis://")
                            || url.trim_start().starts_with("rediss://") =>
                    {
                        match crate::store::open(Some(&url), || Err(StoreError::new(""))) {
                            Ok(store) => Some(store),
                            Err(e) => {
                                problems.push(format!(
                                    "MCP_STORE_URL (shared by replicas): {}",
                                    Report(&e)
                                ));
                                None
                            }
                        }
                    }
                    _ => None,
                }
            }
            None => None,
        };
        if self.tasks.replica.is_none() {
            self.tasks.replica = config::env_var("MCP_REPLICA_ID");
        }
        if let Some(name) = &self.tasks.replica
            && !crate::server::protocol::tasks::valid_replica(name)
        {
            problems.push(format!(
                "the replica id `{name}` (replica_id or MCP_REPLICA_ID) must be 1 to 32 of \
                 A-Z a-z 0-9 - _; it begins the ids of the tasks this replica runs"
            ));
        }
        let (public_url, source) = match self.public_url.take() {
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
            .take()
            .or_else(|| public_url.as_ref().map(|p| p.path.clone()))
            .unwrap_or_else(|| "/mcp".to_owned());
        if !path.starts_with('/') {
            problems.push(format!(
                "the endpoint path must start with `/`, got `{path}`"
            ));
        }
        if let Some(health) = &self.health_path {
            if !health.starts_with('/') {
                problems.push(format!(
                    "the health route's path must start with `/` (MCP_HEALTH_PATH, \
                     `health_path`; `off` for none), got `{health}`"
                ));
            } else if *health == path {
                problems.push(format!(
                    "the health route's path `{health}` is the MCP endpoint's: choose another \
                     (MCP_HEALTH_PATH, `health_path`)"
                ));
            }
        }
        let state_key = match (self.request_state_key, encryption_key, &shared_store) {
            (Some(k), _, _) => StateKey::from_bytes(k),
            (None, Some(secret), _) => StateKey::derived(&secret),
            // Replicas sharing a store share the key, so that an input-required round begun
            // on one replica can end on another.
            (None, None, Some(store)) => StateKey::shared(store.as_ref()).unwrap_or_else(|e| {
                problems.push(format!(
                    "the request-state key in the shared store ({}): {e}",
                    store.describe()
                ));
                StateKey::from_bytes([0; 32])
            }),
            (None, None, None) => StateKey::random().unwrap_or_else(|e| {
                problems.push(format!(
                    "no secure random source for the request-state key: {e}"
                ));
                StateKey::from_bytes([0; 32])
            }),
        };
        // A stateless server keeps no sessions, shared or not.
        let session_store = shared_store.filter(|_| !self.stateless);
        let state = Arc::new(std::mem::take(&mut self.state));
        let mut rules = Rules {
            has_oauth: self.has_oauth(),
            declared: self.declared_scopes.clone(),
            state: state.clone(),
            page_size: self.page_size.max(1),
            list_ttl_ms: u64::try_from(self.list_cache_ttl.as_millis()).unwrap_or(u64::MAX),
            advertised: None,
        };
        let catalog = Catalog::build(
            std::mem::take(&mut self.tools),
            std::mem::take(&mut self.resources),
            std::mem::take(&mut self.prompts),
            &rules,
            &mut problems,
        );
        #[cfg(feature = "oauth")]
        self.check_verifier(&mut problems);
        if !problems.is_empty() {
            return Err(BuildError { problems });
        }
        let scopes = catalog.scopes();
        // What the server advertises now bounds what items added at run time may require.
        rules.advertised = Some(match &rules.declared {
            Some(declared) => declared.clone(),
            None => scopes.iter().map(|s| (*s).to_owned()).collect(),
        });
        #[cfg(feature = "oauth")]
        let auth = self.auth_state(public_url.as_ref(), source, &scopes)?;
        #[cfg(not(feature = "oauth"))]
        let _ = (&scopes, source);
        let mut allowed_hosts: Vec<String> =
            LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect();
        allowed_hosts.extend(public_url.iter().map(|p| p.host.clone()));
        allowed_hosts.extend(self.allowed_hosts);
        let listeners = Arc::new(crate::server::protocol::listen::Listeners::default());
        #[cfg(feature = "metrics")]
        let metrics =
            (self.metrics_path.is_some() || self.metrics_addr.is_some() || self.collect_metrics)
                .then(|| Arc::new(crate::metrics::Metrics::new()));
        let inner = Inner {
            info: ServerInfo {
                implementation: crate::model::Implementation {
                    title: self.title,
                    ..crate::model::Implementation::new(self.name, self.version)
                },
                instructions: self.instructions,
            },
            catalog: arc_swap::ArcSwap::from_pointee(catalog),
            catalog_writer: std::sync::Mutex::new(()),
            rules,
            listeners: listeners.clone(),
            tasks: Arc::new(crate::server::protocol::tasks::Tasks::new(
                self.tasks, listeners,
            )),
            state_key,
            state,
            http: HttpConfig {
                max_body_bytes: self.max_body_bytes,
                allowed_origins: self.allowed_origins,
                allowed_hosts,
                stateless: self.stateless,
                streaming: self.streaming,
                keepalive: http::DEFAULT_KEEPALIVE,
            },
            sessions: session::Sessions::new(
                self.session_idle_timeout,
                self.max_sessions,
                self.client_request_timeout,
            )
            .with_per_caller(self.max_sessions_per_caller)
            .with_metrics(
                #[cfg(feature = "metrics")]
                metrics.clone(),
            ),
            shared_sessions: session_store
                .map(crate::server::protocol::shared_sessions::SharedSessions::new),
            #[cfg(feature = "oauth")]
            auth: auth.map(Arc::new),
            public_url,
            trace_subject: self.trace_subject.unwrap_or(false),
            mount_warned: Default::default(),
            #[cfg(feature = "metrics")]
            metrics: metrics.clone(),
            #[cfg(feature = "metrics")]
            metrics_path: self.metrics_path.take(),
        };
        Ok(McpServer {
            inner: Arc::new(inner),
            configure: Arc::new(self.configure),
            path: path.into(),
            health: self.health_path.map(Into::into),
            workers: self.workers,
            #[cfg(feature = "metrics")]
            metrics_addr: self.metrics_addr,
        })
    }

    /// Reads `MCP_ALLOWED_ORIGINS` and `MCP_ALLOWED_HOSTS` (comma-separated lists, added to
    /// those set in code), `MCP_STATELESS` (`true` or `false`) and `MCP_WORKERS` (HTTP worker
    /// threads); `stateless` and `workers` set in code win. `build` reads them anyway if this
    /// was not called: calling it only says where in the chain.
    pub fn with_env(mut self) -> Self {
        if std::mem::replace(&mut self.env_read, true) {
            return self;
        }
        if let Some(list) = config::env_list("MCP_ALLOWED_ORIGINS") {
            self = self.allowed_origins(list);
        }
        if let Some(list) = config::env_list("MCP_ALLOWED_HOSTS") {
            self = self.allowed_hosts(list);
        }
        if let Some(v) = config::env_var("MCP_WORKERS").filter(|_| self.workers.is_none()) {
            match v.trim().parse::<usize>() {
                Ok(n) if n > 0 => self.workers = Some(n),
                _ => self.problems.push(format!(
                    "MCP_WORKERS must be a number of HTTP worker threads (at least 1), got `{}`",
                    v.trim()
                )),
            }
        }
        if self.branding.is_none() {
            self.branding = config::Branding::from_env();
        }
        if let Some(v) =
            config::env_var("MCP_TRACE_SUBJECT").filter(|_| self.trace_subject.is_none())
        {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => self.trace_subject = Some(true),
                "false" | "0" => self.trace_subject = Some(false),
                _ => self.problems.push(format!(
                    "MCP_TRACE_SUBJECT must be `true` or `false`, got `{}`",
                    v.trim()
                )),
            }
        }
        if let Some(v) = config::env_var("MCP_METRICS_ADDR") {
            #[cfg(feature = "metrics")]
            if !self.metrics_addr_in_code {
                match v.trim().parse::<std::net::SocketAddr>() {
                    Ok(addr) => self.metrics_addr = Some(addr),
                    Err(_) => self.problems.push(format!(
                        "MCP_METRICS_ADDR must be an address and port for the metrics listener, \
                         e.g. `0.0.0.0:9464`, got `{}`",
                        v.trim()
                    )),
                }
            }
            #[cfg(not(feature = "metrics"))]
            self.problems.push(format!(
                "MCP_METRICS_ADDR is set (`{}`) but metrics need the `metrics` feature of \
                 mcp-runtime",
                v.trim()
            ));
        }
        if let Some(v) = config::env_var("MCP_HEALTH_PATH").filter(|_| !self.health_in_code) {
            let v = v.trim();
            self.health_path = (!v.eq_ignore_ascii_case("off")).then(|| v.to_owned());
        }
        if let Some(v) = config::env_var("MCP_STATELESS").filter(|_| !self.stateless_in_code) {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => self.stateless = true,
                "false" | "0" => self.stateless = false,
                _ => self.problems.push(format!(
                    "MCP_STATELESS must be `true` or `false`, got `{}`",
                    v.trim()
                )),
            }
        }
        self
    }
}

#[cfg(not(feature = "oauth"))]
impl McpServerBuilder {
    /// Without the `oauth` feature, no server has OAuth.
    fn has_oauth(&self) -> bool {
        false
    }
}
