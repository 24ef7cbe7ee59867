//! The server's shared state, as the protocol and the transport both read it: what it is
//! (name, version, instructions), its catalog, sessions, tasks and subscriptions, its HTTP
//! settings and its authentication. The builder fills it in; nothing here runs a request.

use std::sync::Arc;
use std::time::Duration;

pub(crate) use super::keyed::ServerKeyed;
use crate::extract::StateMap;

pub(crate) struct ServerInfo {
    /// `serverInfo`: name, version, title.
    pub(crate) implementation: crate::model::Implementation,
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
    pub(crate) catalog: arc_swap::ArcSwap<super::catalog::Catalog>,
    /// Serializes changes to the catalog.
    pub(crate) catalog_writer: std::sync::Mutex<()>,
    /// What items added at run time must satisfy.
    pub(crate) rules: super::catalog::Rules,
    /// The open `subscriptions/listen` streams (2026-07-28).
    pub(crate) listeners: Arc<super::listen::Listeners>,
    /// The tasks calls run as (2026-07-28's tasks extension).
    pub(crate) tasks: Arc<super::tasks::Tasks>,
    /// Signs the `requestState` of input-required results.
    pub(crate) state_key: super::input::StateKey,
    pub(crate) state: Arc<StateMap>,
    pub(crate) http: HttpConfig,
    pub(crate) sessions: super::session::Sessions,
    /// Where sessions are shared with other replicas (`session_store`, or a Redis
    /// `MCP_STORE_URL`).
    pub(crate) shared_sessions: Option<super::shared_sessions::SharedSessions>,
    #[cfg(feature = "oauth")]
    pub(crate) auth: Option<Arc<crate::auth::config::AuthState>>,
    /// The public URL of the endpoint (`public_url` or `MCP_URL`), when configured.
    pub(crate) public_url: Option<crate::config::PublicUrl>,
    /// The server's metrics, when it counts them (feature `metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Where the endpoint's listener serves them, if it does.
    #[cfg(feature = "metrics")]
    pub(crate) metrics_path: Option<String>,
    /// Whether the request span records the caller's `sub` (`enduser.id`): personal data,
    /// off unless asked for (`trace_subject`, `MCP_TRACE_SUBJECT`).
    pub(crate) trace_subject: bool,
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
