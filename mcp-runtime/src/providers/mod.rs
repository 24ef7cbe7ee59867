//! Identity-provider presets: configuration in code or from mcp-use's environment variables.

pub mod auth0;
pub mod better_auth;
pub mod clerk;
pub mod custom;
pub mod dev;
pub mod keycloak;
pub(crate) mod preset;
pub mod supabase;
pub mod workos;

pub use auth0::Auth0Provider;
pub use better_auth::BetterAuthProvider;
pub use clerk::ClerkProvider;
pub use custom::CustomProvider;
pub use dev::DevProvider;
pub use keycloak::KeycloakProvider;
pub use supabase::SupabaseProvider;
pub use workos::WorkOsProvider;

/// A provider's configuration is missing or malformed. Names the variable (or setting) and says
/// what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// A required setting is absent.
    #[error("{var} is not set: {hint}")]
    Missing {
        /// The environment variable.
        var: &'static str,
        /// What it should contain.
        hint: &'static str,
    },
    /// A setting is malformed.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The provider could not be set up (e.g. no signing key could be generated).
    #[error("{0}")]
    Setup(String),
}

/// The names of the presets `#[mcp_server(oauth = "...")]` and `McpServerBuilder::oauth_preset`
/// accept.
pub const PRESETS: &[&str] = &[
    "auth0",
    "better_auth",
    "clerk",
    "custom",
    "dev",
    "keycloak",
    "supabase",
    "workos",
];

/// An environment variable, trimmed; `None` when unset or empty.
pub(crate) fn env(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Checks a URL setting: `https://…`, or `http://…` on a loopback host only (for local
/// development and tests). Returns it unchanged.
pub(crate) fn check_url(var: &'static str, value: &str) -> Result<String, ProviderError> {
    let invalid = |reason: String| ProviderError::Invalid { var, reason };
    let (scheme, rest) = value.split_once("://").ok_or_else(|| {
        invalid(format!(
            "`{value}` is not a URL; write e.g. https://auth.example.com"
        ))
    })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostname = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    if hostname.is_empty() {
        return Err(invalid(format!("`{value}` has no host")));
    }
    match scheme {
        "https" => Ok(value.to_owned()),
        "http" if matches!(hostname, "localhost" | "127.0.0.1" | "[::1]") => Ok(value.to_owned()),
        "http" => Err(invalid(format!(
            "`{value}` uses plain HTTP; tokens and keys must come over https (http is allowed for localhost only)"
        ))),
        other => Err(invalid(format!(
            "`{value}` has scheme `{other}`; use https"
        ))),
    }
}

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
    }
}
