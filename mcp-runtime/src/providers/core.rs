//! The settings every identity backend of the embedded authorization server shares (the
//! development server and the OAuth proxy): where its records live in the store, its rate
//! limits, and how long unused registrations are kept.

use std::time::Duration;

use super::{ProviderError, env};
use crate::oauth::RateLimits;

/// The embedded authorization server's own settings, whatever signs the user in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CoreSettings {
    /// The prefix of the server's records in its store (`MCP_STORE_NAMESPACE`; default:
    /// derived from the public URL).
    pub(crate) namespace: Option<String>,
    /// Requests a minute per client address (`MCP_OAUTH_RATE_LIMIT`, `MCP_TRUSTED_PROXIES`).
    pub(crate) rate_limits: RateLimits,
    /// How long a registration no sign-in completed is kept (`MCP_OAUTH_UNUSED_CLIENT_TTL`).
    pub(crate) unused_client_ttl: Duration,
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            namespace: None,
            rate_limits: RateLimits::default(),
            unused_client_ttl: crate::oauth::UNUSED_CLIENT_TTL,
        }
    }
}

impl CoreSettings {
    /// Reads `MCP_STORE_NAMESPACE`, `MCP_OAUTH_RATE_LIMIT`, `MCP_TRUSTED_PROXIES` and
    /// `MCP_OAUTH_UNUSED_CLIENT_TTL`; each malformed one is an error naming it.
    pub(crate) fn from_env() -> Result<Self, ProviderError> {
        let mut core = CoreSettings {
            namespace: env("MCP_STORE_NAMESPACE"),
            rate_limits: RateLimits::from_env(env)
                .map_err(|(var, reason)| ProviderError::Invalid { var, reason })?,
            ..CoreSettings::default()
        };
        if let Some(v) = env("MCP_OAUTH_UNUSED_CLIENT_TTL") {
            core.unused_client_ttl = match v.trim().parse::<u64>() {
                Ok(s) if (60..=30 * 86_400).contains(&s) => Duration::from_secs(s),
                _ => {
                    return Err(ProviderError::Invalid {
                        var: "MCP_OAUTH_UNUSED_CLIENT_TTL",
                        reason: format!(
                            "`{v}` is not a number of seconds from 60 to 2592000 (30 days)"
                        ),
                    });
                }
            };
        }
        core.check()?;
        Ok(core)
    }

    /// The namespace, when set, is 1 to 64 of `A-Z a-z 0-9 . _ -`.
    pub(crate) fn check(&self) -> Result<(), ProviderError> {
        match &self.namespace {
            Some(ns)
                if !(1..=64).contains(&ns.len())
                    || !ns
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
            {
                Err(ProviderError::Invalid {
                    var: "MCP_STORE_NAMESPACE",
                    reason: format!(
                        "`{ns}` is not a namespace; use 1 to 64 letters, digits, `.`, `_` or `-`"
                    ),
                })
            }
            _ => Ok(()),
        }
    }
}

/// The builder methods of these settings, the same on every provider that embeds the
/// authorization server.
macro_rules! core_settings_methods {
    () => {
        /// The namespace of this server's records in its store (`MCP_STORE_NAMESPACE`):
        /// servers sharing one store each see only their own clients, codes and tokens.
        /// Default: derived from the public URL, so that replicas of one server (one `MCP_URL`)
        /// share their state and two servers do not. 1 to 64 of `A-Z a-z 0-9 . _ -`.
        pub fn store_namespace(mut self, namespace: impl Into<String>) -> Self {
            self.core.namespace = Some(namespace.into());
            self
        }

        /// Requests a minute per client address at registration, authorization, token and
        /// the proxy's callback (default: [`RateLimits::default`](crate::providers::RateLimits));
        /// over a limit, 429 with `Retry-After`.
        pub fn rate_limits(mut self, limits: crate::providers::RateLimits) -> Self {
            self.core.rate_limits = limits;
            self
        }

        /// How long a registered client that never completed a sign-in is kept (default a
        /// day; `MCP_OAUTH_UNUSED_CLIENT_TTL` in seconds). A client that signed in lives as
        /// long as its refresh tokens.
        pub fn unused_client_ttl(mut self, ttl: std::time::Duration) -> Self {
            self.core.unused_client_ttl = ttl;
            self
        }
    };
}
pub(crate) use core_settings_methods;
