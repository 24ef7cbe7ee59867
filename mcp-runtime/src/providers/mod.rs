//! Identity-provider presets: configuration in code or from mcp-use's environment variables.

pub mod auth0;
pub mod better_auth;
pub mod clerk;
pub mod custom;
#[cfg(feature = "authorization-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "authorization-server")))]
pub mod dev;
#[cfg(feature = "authorization-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "proxy")))]
pub mod entra;
#[cfg(feature = "authorization-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "proxy")))]
pub mod github;
#[cfg(feature = "authorization-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "proxy")))]
pub mod google;
pub mod keycloak;
#[cfg(feature = "authorization-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "proxy")))]
pub mod okta;
pub(crate) mod preset;
#[cfg(feature = "authorization-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "proxy")))]
pub mod proxy;
#[cfg(feature = "authorization-server")]
mod state;
pub mod supabase;
pub mod workos;

#[cfg(feature = "authorization-server")]
pub use crate::oauth::{RateLimits, ServiceClient, ServiceClientError, rotate_signing_key};
pub use auth0::Auth0Provider;
pub use better_auth::BetterAuthProvider;
pub use clerk::ClerkProvider;
pub use custom::CustomProvider;
#[cfg(feature = "authorization-server")]
pub use dev::DevProvider;
#[cfg(feature = "authorization-server")]
pub use entra::EntraProvider;
#[cfg(feature = "authorization-server")]
pub use github::GitHubProvider;
#[cfg(feature = "authorization-server")]
pub use google::GoogleProvider;
pub use keycloak::KeycloakProvider;
#[cfg(feature = "authorization-server")]
pub use okta::OktaProvider;
#[cfg(feature = "authorization-server")]
pub use proxy::{ProxyProvider, ScopeGrant, UpstreamAuth, jwks_verifier};
pub use supabase::SupabaseProvider;
pub use workos::WorkOsProvider;

pub use crate::config::provider_error::ProviderError;

/// The names of the presets `#[mcp_server(oauth = "...")]` and `McpServerBuilder::oauth_preset`
/// accept.
pub const PRESETS: &[&str] = &[
    "auth0",
    "better_auth",
    "clerk",
    "custom",
    "dev",
    "entra",
    "github",
    "google",
    "keycloak",
    "okta",
    "proxy",
    "supabase",
    "workos",
];

pub(crate) use crate::config::env_var as env;

/// Checks a URL setting: `https://…`, or `http://…` on a loopback host only (for local
/// development and tests). Returns it unchanged.
pub(crate) fn check_url(var: &'static str, value: &str) -> Result<String, ProviderError> {
    crate::config::check_https_url(value)
        .map(|_| value.to_owned())
        .map_err(|reason| ProviderError::Invalid { var, reason })
}

#[cfg(feature = "authorization-server")]
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

        /// Registers a machine-to-machine client (the client-credentials grant): it gets
        /// access tokens for this server with a secret or a signed assertion, no browser and
        /// no user ([`ServiceClient`](crate::providers::ServiceClient)). Call once per client;
        /// `MCP_OAUTH_CLIENTS` lists them from the environment.
        pub fn service_client(mut self, client: crate::providers::ServiceClient) -> Self {
            self.core.service_clients.push(client);
            self
        }

        /// Whether a `client_id` that is an https URL is taken as a Client ID Metadata
        /// Document, fetched and checked (default: yes; `MCP_OAUTH_CIMD=off`). The fetch is
        /// fenced against server-side request forgery (see the development server's guide).
        pub fn client_metadata_documents(mut self, yes: bool) -> Self {
            self.core.cimd.enabled = yes;
            self
        }

        /// Requires DPoP proofs at the token endpoint to carry a nonce of this server's
        /// (RFC 9449 §8; `MCP_OAUTH_DPOP_NONCE=true`): a proof without one is answered
        /// `use_dpop_nonce` with a `DPoP-Nonce` header. Default: off.
        pub fn dpop_nonces(mut self, yes: bool) -> Self {
            self.core.dpop_nonces = yes;
            self
        }

        /// Lets client metadata documents be fetched from loopback and private addresses
        /// (default: no; `MCP_OAUTH_CIMD_ALLOW_PRIVATE=true`): for clients inside one network.
        pub fn client_metadata_private_networks(mut self, yes: bool) -> Self {
            self.core.cimd.allow_private = yes;
            self
        }

        /// Root certificates (PEM) to trust, besides the usual ones, when fetching client
        /// metadata documents (`MCP_OAUTH_CIMD_CA_FILE`): a company's own authority.
        pub fn client_metadata_root_certificates(mut self, pem: impl Into<String>) -> Self {
            self.core.cimd.extra_roots = Some(pem.into());
            self
        }
    };
}
#[cfg(feature = "authorization-server")]
pub(crate) use core_settings_methods;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback_http() {
        assert!(check_url("X", "https://auth.example.com").is_ok());
        assert!(check_url("X", "http://127.0.0.1:9000/realms/a").is_ok());
        assert!(check_url("X", "http://[::1]:80").is_ok());
        let e = check_url("X", "http://auth.example.com").expect_err("plain http");
        assert!(
            e.to_string()
                .starts_with("X is invalid: `http://auth.example.com` uses plain HTTP")
        );
        assert!(check_url("X", "auth.example.com").is_err());
        assert!(check_url("X", "https://").is_err());
        assert!(check_url("X", "ftp://a").is_err());
        // User info before `@` hides the real host: `evil.example`, not loopback.
        let e = check_url("X", "http://localhost:80@evil.example").expect_err("user info");
        assert!(e.to_string().contains("user info"), "{e}");
        let e = check_url("X", "https://localhost:80@evil.example").expect_err("user info");
        assert!(e.to_string().contains("`evil.example`"), "{e}");
        assert!(check_url("X", "http://127.0.0.2:9000").is_ok());
        assert!(check_url("X", "http://127.0.0.1.evil.example").is_err());
        assert!(check_url("X", "https://a.example/#frag").is_err());
    }
}
