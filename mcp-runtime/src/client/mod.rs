//! An MCP client: Streamable HTTP with sessions, SSE answers and resumption, or stdio to a
//! server it starts ([`Client::stdio`]); OAuth sign-in
//! (discovery, registration, PKCE, `resource`, refresh, step-up) with a loopback callback;
//! token storage; the `mcpServers` configuration format.
//!
//! ```no_run
//! use mcp_runtime::client::{Client, auth::{OAuth, OAuthConfig}};
//! use serde_json::json;
//!
//! # async fn run() -> Result<(), mcp_runtime::client::ClientError> {
//! let url = "http://127.0.0.1:3000/mcp";
//! let client = Client::builder(url)
//!     .auth(OAuth::new(url, OAuthConfig::default())?) // opens the browser when needed
//!     .connect()
//!     .await?;
//! for tool in client.list_tools().await? {
//!     println!("{}", tool.name);
//! }
//! let result = client.call_tool("add", json!({"a": 1, "b": 2})).await?;
//! println!("{}", result.text());
//! client.close().await;
//! # Ok(()) }
//! ```
//!
//! Logs go to `tracing` under the target `mcp_runtime::client` (never a token or secret).

pub mod auth;
mod calls;
pub mod config;
mod connection;
mod error;
mod handler;
mod options;
mod sse;
mod stateless;
mod stdio;
mod stream;
mod tasks;
mod transport;
mod types;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde_json::{Value, json};

pub use connection::Client;
pub use error::ClientError;
pub use handler::{ClientHandler, NoHandler, schema_defaults};
pub use options::CallOptions;
pub use stdio::StdioCommand;
/// Cancels a request given in [`CallOptions::cancel`].
pub use tokio_util::sync::CancellationToken;
pub use types::{
    Content, Implementation, PROTOCOL_VERSIONS, ResourceContents, RpcError, ServerInfo, ToolInfo,
    ToolResult,
};

use auth::{Authenticator, NoAuth};

/// Builds a [`Client`].
pub struct ClientBuilder {
    url: String,
    /// A stdio server to start instead of an endpoint to reach.
    command: Option<StdioCommand>,
    auth: Arc<dyn Authenticator>,
    handler: Arc<dyn ClientHandler>,
    headers: Vec<(String, String)>,
    client_info: Value,
    version: String,
    listen: bool,
    legacy_sse: bool,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the MCP endpoint at `url`.
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            command: None,
            auth: Arc::new(NoAuth),
            handler: Arc::new(NoHandler),
            headers: Vec::new(),
            client_info: json!({"name": "mcp-runtime-client", "version": env!("CARGO_PKG_VERSION")}),
            version: PROTOCOL_VERSIONS[0].to_owned(),
            listen: true,
            legacy_sse: true,
        }
    }
}

impl Client {
    /// A client for a stdio server: `command` is started as a child process and spoken to on
    /// its standard input and output (closed, then killed, when the client closes or is
    /// dropped). No authentication: a stdio server trusts whoever starts it.
    pub fn stdio(command: StdioCommand) -> ClientBuilder {
        let mut b = Client::builder(format!("stdio:{}", command.label()));
        b.command = Some(command);
        b
    }
}

impl ClientBuilder {
    /// How requests are authenticated (default: not at all).
    pub fn auth(mut self, auth: impl Authenticator) -> Self {
        self.auth = Arc::new(auth);
        self
    }

    /// [`auth`](Self::auth) with a shared authenticator.
    pub fn auth_shared(mut self, auth: Arc<dyn Authenticator>) -> Self {
        self.auth = auth;
        self
    }

    /// What the client answers when the server asks (sampling, elicitation, roots).
    pub fn handler(mut self, handler: impl ClientHandler) -> Self {
        self.handler = Arc::new(handler);
        self
    }

    /// A header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The `clientInfo` sent in `initialize`.
    pub fn client_info(mut self, name: &str, version: &str) -> Self {
        self.client_info = json!({"name": name, "version": version});
        self
    }

    /// The protocol revision offered (default: 2025-11-25). `"2026-07-28"` speaks that
    /// revision: no session or `initialize`, request metadata and headers on every request,
    /// input-required results answered through the handler; a server that answers with the
    /// revisions it supports is met on the newest both speak.
    pub fn protocol_version(mut self, version: &str) -> Self {
        self.version = version.to_owned();
        self
    }

    /// Whether to open the server's own SSE stream after connecting, for server requests and
    /// notifications outside calls (default: yes; a server without one answers 405 and the
    /// client goes on without it).
    pub fn listen(mut self, yes: bool) -> Self {
        self.listen = yes;
        self
    }

    /// Whether a server that refuses the `initialize` POST with a 4xx but answers a GET
    /// with an event stream announcing an `endpoint` (the legacy HTTP+SSE transport of
    /// 2024-11-05, which servers from before 2025-03-26 still run) is spoken to that way
    /// (default: yes; the specification's backwards-compatibility rule). Off, such a server is
    /// refused with an error that names the transport.
    pub fn legacy_sse(mut self, yes: bool) -> Self {
        self.legacy_sse = yes;
        self
    }

    /// Connects: `initialize`, version negotiation, `notifications/initialized`.
    pub async fn connect(self) -> Result<Client, ClientError> {
        let transport = match &self.command {
            Some(command) => transport::Transport::stdio(command)?,
            None => {
                let url = url::Url::parse(&self.url).map_err(|e| {
                    ClientError::Config(format!("`{}` is not a URL: {e}", self.url))
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(ClientError::Config(format!(
                        "`{}` is not an http(s) URL",
                        self.url
                    )));
                }
                transport::Transport::new(self.url)?
            }
        };
        let stdio = transport.is_stdio();
        let client = Client {
            inner: Arc::new(connection::Inner {
                transport,
                auth: self.auth,
                handler: self.handler,
                client_info: self.client_info,
                extra_headers: self.headers,
                version: std::sync::RwLock::new(self.version),
                session: Default::default(),
                schemas: Default::default(),
                server: Default::default(),
                next_id: AtomicU64::new(0),
                listener: Default::default(),
            }),
        };
        // Over stdio the server's own requests arrive on the one pipe: read from the start,
        // so that none waits for an answer (a call may depend on it).
        if stdio {
            client.listen().await;
        }
        let client = match client.start().await {
            Ok(_) => client,
            // The 2025-03-26 rule: a 4xx to the POST may be a server of the legacy HTTP+SSE
            // transport; a GET tells.
            Err(ClientError::Status { status, body })
                if !stdio && (400..500).contains(&status) && status != 401 && status != 403 =>
            {
                let headers = client.headers().await?;
                let Some(legacy) = client.inner.transport.legacy(&headers).await? else {
                    return Err(ClientError::Status { status, body });
                };
                if !self.legacy_sse {
                    legacy.delete(&[]).await;
                    return Err(ClientError::Protocol(format!(
                        "the server at {} speaks the legacy HTTP+SSE transport (2024-11-05), \
                         not Streamable HTTP, and the fallback to it is off \
                         (`ClientBuilder::legacy_sse`)",
                        legacy.url
                    )));
                }
                tracing::info!(target: "mcp_runtime::client", url = %legacy.url, "the server speaks the legacy HTTP+SSE transport (2024-11-05): using it");
                let old = client.inner;
                let client = Client {
                    inner: Arc::new(connection::Inner {
                        transport: legacy,
                        auth: old.auth.clone(),
                        handler: old.handler.clone(),
                        client_info: old.client_info.clone(),
                        extra_headers: old.extra_headers.clone(),
                        version: std::sync::RwLock::new(connection::read(&old.version).clone()),
                        session: Default::default(),
                        schemas: Default::default(),
                        server: Default::default(),
                        next_id: AtomicU64::new(0),
                        listener: Default::default(),
                    }),
                };
                client.listen().await;
                if let Err(e) = client.start().await {
                    client.close().await;
                    return Err(e);
                }
                return Ok(client);
            }
            Err(e) => {
                client.close().await;
                return Err(e);
            }
        };
        // The 2026-07-28 revision has no GET stream (`subscriptions/listen` replaces it).
        if self.listen && !stdio && !client.is_stateless() {
            client.listen().await;
        }
        Ok(client)
    }
}
