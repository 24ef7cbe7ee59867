//! The settings of the authorization-server core that every identity backend carries (the
//! development server and the OAuth proxy): where its records live in the store, its rate
//! limits, and how long unused registrations are kept. The presets fill them (in code or from
//! the environment); the core reads them.

use std::time::Duration;

use super::RateLimits;

/// A registration that no sign-in completed is kept this long by default.
pub(crate) const UNUSED_CLIENT_TTL: Duration = Duration::from_secs(24 * 3600);

/// The core's own settings, whatever signs the user in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CoreSettings {
    /// The prefix of the server's records in its store (`MCP_STORE_NAMESPACE`; default:
    /// derived from the public URL).
    pub(crate) namespace: Option<String>,
    /// Requests a minute per client address (`MCP_OAUTH_RATE_LIMIT`, `MCP_TRUSTED_PROXIES`).
    pub(crate) rate_limits: RateLimits,
    /// How long a registration no sign-in completed is kept (`MCP_OAUTH_UNUSED_CLIENT_TTL`).
    pub(crate) unused_client_ttl: Duration,
    /// Machine clients the operator registered (`MCP_OAUTH_CLIENTS`): the client-credentials
    /// grant.
    pub(crate) service_clients: Vec<super::ServiceClient>,
    /// Client ID Metadata Documents (`MCP_OAUTH_CIMD`, `MCP_OAUTH_CIMD_ALLOW_PRIVATE`,
    /// `MCP_OAUTH_CIMD_CA_FILE`).
    pub(crate) cimd: super::cimd::CimdSettings,
    /// Whether DPoP proofs at the token endpoint must carry a server nonce
    /// (`MCP_OAUTH_DPOP_NONCE`).
    pub(crate) dpop_nonces: bool,
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            namespace: None,
            rate_limits: RateLimits::default(),
            unused_client_ttl: UNUSED_CLIENT_TTL,
            service_clients: Vec::new(),
            cimd: super::cimd::CimdSettings::default(),
            dpop_nonces: false,
        }
    }
}

impl CoreSettings {
    /// Reads `MCP_STORE_NAMESPACE`, `MCP_OAUTH_RATE_LIMIT`, `MCP_TRUSTED_PROXIES`,
    /// `MCP_OAUTH_UNUSED_CLIENT_TTL`, `MCP_OAUTH_CLIENTS` and `MCP_OAUTH_CIMD*` through `env`; an
    /// error is `(variable, reason)`.
    pub(crate) fn from_env(
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, (&'static str, String)> {
        let mut core = CoreSettings {
            namespace: env("MCP_STORE_NAMESPACE"),
            rate_limits: RateLimits::from_env(&env)?,
            ..CoreSettings::default()
        };
        if let Some(v) = env("MCP_OAUTH_UNUSED_CLIENT_TTL") {
            core.unused_client_ttl = match v.trim().parse::<u64>() {
                Ok(s) if (60..=30 * 86_400).contains(&s) => Duration::from_secs(s),
                _ => {
                    return Err((
                        "MCP_OAUTH_UNUSED_CLIENT_TTL",
                        format!("`{v}` is not a number of seconds from 60 to 2592000 (30 days)"),
                    ));
                }
            };
        }
        let flag = |var: &'static str, v: String| match v.to_ascii_lowercase().as_str() {
            "true" | "on" | "1" => Ok(true),
            "false" | "off" | "0" => Ok(false),
            _ => Err((var, format!("`{v}` is not on or off"))),
        };
        if let Some(v) = env("MCP_OAUTH_CIMD") {
            core.cimd.enabled = flag("MCP_OAUTH_CIMD", v)?;
        }
        if let Some(v) = env("MCP_OAUTH_DPOP_NONCE") {
            core.dpop_nonces = flag("MCP_OAUTH_DPOP_NONCE", v)?;
        }
        if let Some(v) = env("MCP_OAUTH_CIMD_ALLOW_PRIVATE") {
            core.cimd.allow_private = flag("MCP_OAUTH_CIMD_ALLOW_PRIVATE", v)?;
        }
        if let Some(path) = env("MCP_OAUTH_CIMD_CA_FILE") {
            core.cimd.extra_roots = Some(std::fs::read_to_string(path.trim()).map_err(|e| {
                (
                    "MCP_OAUTH_CIMD_CA_FILE",
                    format!("`{}` cannot be read ({e})", path.trim()),
                )
            })?);
        }
        if let Some(v) = env("MCP_OAUTH_CLIENTS") {
            core.service_clients = super::ServiceClient::list_from_env(&v)
                .map_err(|reason| ("MCP_OAUTH_CLIENTS", reason))?;
        }
        core.check()?;
        Ok(core)
    }

    /// The namespace, when set, is 1 to 64 of `A-Z a-z 0-9 . _ -`.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        match &self.namespace {
            Some(ns)
                if !(1..=64).contains(&ns.len())
                    || !ns
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
            {
                Err((
                    "MCP_STORE_NAMESPACE",
                    format!(
                        "`{ns}` is not a namespace; use 1 to 64 letters, digits, `.`, `_` or `-`"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}
