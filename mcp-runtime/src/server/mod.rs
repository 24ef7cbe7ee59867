//! The MCP server: a builder, the Streamable HTTP transport (`transport/`), the protocol
//! (`protocol/`), and ways to run and mount it.

pub(crate) mod builder;
mod change;
mod mount;
#[cfg(feature = "oauth")]
mod oauth;
pub(crate) mod protocol;
mod run;
mod running;
pub(crate) mod transport;

#[cfg(feature = "metrics")]
pub use crate::metrics::MetricsCollector;
pub(crate) use protocol::{
    call, dispatch, elicitation, jsonrpc, modern, outgoing, prompts, sampling, session,
};
pub use running::RunningServer;
#[cfg(feature = "oauth")]
pub(crate) use transport::http_auth;
pub(crate) use transport::{http, observe, origin, stream};

pub use builder::McpServerBuilder;

use std::sync::Arc;

use actix_web::web;

pub use dispatch::{
    DEFAULT_PROTOCOL_VERSION, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS,
};
pub use jsonrpc::RpcError;
pub use session::Session;

pub use crate::config::BuildError;
pub(crate) use protocol::catalog;
pub(crate) use protocol::state::{HttpConfig, Inner, ServerInfo, ServerKeyed};

/// Host names a loopback-bound server accepts in `Host` and `Origin` headers.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

type ConfigureFn = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// A built MCP server. Cheap to clone.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
    configure: Arc<Vec<ConfigureFn>>,
    path: Arc<str>,
    /// The health route's path, if it has one.
    health: Option<Arc<str>>,
    workers: Option<usize>,
    /// The metrics listener's address, if the metrics have one (feature `metrics`).
    #[cfg(feature = "metrics")]
    metrics_addr: Option<std::net::SocketAddr>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("name", &self.inner.info.implementation.name)
            .field("path", &self.path)
            .field("tools", &self.inner.catalog.load().tools.len())
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// This server's metrics as a collector for a Prometheus registry of your own, when it
    /// counts them ([`metrics`](McpServerBuilder::metrics),
    /// [`metrics_listener`](McpServerBuilder::metrics_listener) or
    /// [`collect_metrics`](McpServerBuilder::collect_metrics)). Feature `metrics`.
    ///
    /// ```
    /// use mcp_runtime::McpServer;
    /// use mcp_runtime::prometheus_client::registry::Registry;
    ///
    /// let server = McpServer::builder().name("notes").collect_metrics().build().unwrap();
    /// let mut registry = Registry::default(); // yours, with your own metrics
    /// registry.register_collector(Box::new(server.metrics_collector().unwrap()));
    /// ```
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics_collector(&self) -> Option<crate::metrics::MetricsCollector> {
        self.inner.metrics.as_ref().map(|m| m.collector())
    }

    /// Tells the clients subscribed to `uri` that it changed: `notifications/resources/updated`
    /// on their GET streams (`resources/subscribe`) and on the `subscriptions/listen` streams
    /// that chose it (2026-07-28). Returns how many were told.
    pub fn resource_updated(&self, uri: &str) -> usize {
        let message = jsonrpc::sse_event(
            serde_json::json!({
                "jsonrpc": "2.0",
                "method": "notifications/resources/updated",
                "params": { "uri": uri },
            })
            .to_string()
            .as_bytes(),
        );
        let listening = self
            .inner
            .listeners
            .notify(protocol::listen::Change::Updated(uri));
        listening
            + self
                .inner
                .sessions
                .all()
                .into_iter()
                .filter(|s| s.is_subscribed(uri))
                .filter(|s| s.send_to_stream(message.clone()))
                .count()
    }

    /// The endpoint path (`/mcp` unless changed).
    pub fn path(&self) -> &str {
        &self.path
    }
}
