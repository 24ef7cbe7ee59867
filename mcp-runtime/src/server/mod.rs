//! The MCP server: a builder, the Streamable HTTP transport (`transport/`), the protocol
//! (`protocol/`), and ways to run and mount it.

pub(crate) mod builder;
pub(crate) mod catalog;
#[cfg(feature = "oauth")]
mod oauth;
pub(crate) mod protocol;
pub(crate) mod transport;

pub(crate) use protocol::{
    call, dispatch, elicitation, jsonrpc, modern, outgoing, prompts, sampling, session,
};
#[cfg(feature = "oauth")]
pub(crate) use transport::http_auth;
pub use transport::run::RunningServer;
pub(crate) use transport::{http, observe, origin, stream};

pub use builder::McpServerBuilder;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

pub use dispatch::{
    DEFAULT_PROTOCOL_VERSION, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS,
};
pub use jsonrpc::RpcError;
pub use session::Session;

use crate::config;
pub use crate::config::BuildError;
use crate::extract::StateMap;

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

pub(crate) struct ServerInfo {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) title: Option<String>,
    pub(crate) instructions: Option<String>,
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
    /// The tools, resources and prompts, swapped whole when they change at run time.
    pub(crate) catalog: arc_swap::ArcSwap<catalog::Catalog>,
    /// Serializes changes to the catalog.
    pub(crate) catalog_writer: std::sync::Mutex<()>,
    /// What items added at run time must satisfy.
    pub(crate) rules: catalog::Rules,
    /// The open `subscriptions/listen` streams (2026-07-28).
    pub(crate) listeners: Arc<protocol::listen::Listeners>,
    /// The tasks calls run as (2026-07-28's tasks extension).
    pub(crate) tasks: Arc<protocol::tasks::Tasks>,
    /// Signs the `requestState` of input-required results.
    pub(crate) state_key: protocol::input::StateKey,
    pub(crate) state: Arc<StateMap>,
    pub(crate) http: HttpConfig,
    pub(crate) sessions: session::Sessions,
    /// Where sessions are shared with other replicas (`session_store`, or a Redis
    /// `MCP_STORE_URL`).
    pub(crate) shared_sessions: Option<protocol::shared_sessions::SharedSessions>,
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

impl Inner {
    /// Whether the server authenticates callers.
    pub(crate) fn has_auth(&self) -> bool {
        #[cfg(feature = "oauth")]
        return self.auth.is_some();
        #[cfg(not(feature = "oauth"))]
        false
    }

    /// Whether listings depend on the caller (`hide_unauthorized_tools`).
    pub(crate) fn auth_hides_items(&self) -> bool {
        #[cfg(feature = "oauth")]
        return self.auth.as_ref().is_some_and(|a| a.hide_tools);
        #[cfg(not(feature = "oauth"))]
        false
    }
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
            .field("tools", &self.inner.catalog.load().tools.len())
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
