//! `oauth = "dev"`: an authorization server embedded in the MCP server, for development.
//!
//! So that the whole OAuth flow works on a fresh machine with no account anywhere: RFC 8414
//! metadata, RFC 7591 dynamic client registration, `/oauth/authorize` with a small sign-in and
//! consent page, PKCE (S256 only), `/oauth/token` issuing RS256 JWT access tokens (RFC 9068)
//! for this server's resource (RFC 8707) with the scopes asked for, rotating refresh tokens, and
//! a JWKS. Its tokens are checked by the same [`JwtVerifier`] as any external issuer's.
//!
//! Its state lives in a [`Store`]: from the environment, `MCP_STORE_URL` or a redb file under
//! the user's state folder, so that clients, refresh tokens and the signing key survive a
//! restart; in code, memory unless [`DevProvider::store`] says otherwise.
//!
//! Environment (mcp-use naming): `MCP_USE_OAUTH_DEV_AUTO_APPROVE` (`true` skips the page and
//! approves every request as the default user: tests and scripted clients),
//! `MCP_USE_OAUTH_DEV_USER`, `MCP_USE_OAUTH_DEV_EMAIL`, `MCP_USE_OAUTH_DEV_NAME` (the default
//! user) and `MCP_USE_OAUTH_DEV_TOKEN_TTL` (access-token lifetime in seconds, default 3600).
//!
//! It lets anyone sign in as anyone with any scope, so it refuses to serve a public URL
//! (`MCP_URL` / `public_url`) whose host is not a loopback address: a server that builds with
//! it on `https://mcp.example.com` fails to start, naming the switch that forces it
//! (`MCP_USE_OAUTH_DEV_ALLOW_PUBLIC=true`, [`DevProvider::allow_public`]; a warning at each
//! start then says so). Deploy with a real identity provider instead.

use std::sync::Arc;
use std::time::Duration;

use super::{ProviderError, env};
use crate::auth::OAuth;
use crate::auth::UserInfo;
use crate::auth::jwks::JwksCache;
use crate::auth::verifier::JwtVerifier;
use crate::oauth::signin::valid_username;
use crate::oauth::{AuthServer, IDENTITY_SCOPES, Identity};
use crate::store::Store;

pub use crate::oauth::backend::DevProvider;

impl Default for DevProvider {
    fn default() -> Self {
        DevProvider::new()
    }
}

impl DevProvider {
    /// Defaults: the sign-in page is shown, the default user is `dev-user`, tokens live an hour.
    pub fn new() -> Self {
        DevProvider {
            auto_approve: false,
            user: "dev-user".into(),
            email: "dev-user@localhost".into(),
            name: "Dev User".into(),
            access_ttl: Duration::from_secs(3600),
            store: None,
            encryption_key: None,
            allow_public: false,
            core: crate::oauth::CoreSettings::default(),
        }
    }

    /// Reads `MCP_USE_OAUTH_DEV_*`; a malformed variable is an error that names it.
    pub fn from_env() -> Result<Self, ProviderError> {
        let mut p = DevProvider::new();
        if let Some(v) = env("MCP_USE_OAUTH_DEV_AUTO_APPROVE") {
            p.auto_approve = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(ProviderError::Invalid {
                        var: "MCP_USE_OAUTH_DEV_AUTO_APPROVE",
                        reason: format!("`{v}` is not a boolean; write true or false"),
                    });
                }
            };
        }
        if let Some(v) = env("MCP_USE_OAUTH_DEV_ALLOW_PUBLIC") {
            p.allow_public = match v.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ProviderError::Invalid {
                        var: "MCP_USE_OAUTH_DEV_ALLOW_PUBLIC",
                        reason: format!(
                            "`{v}` is not `true` or `false` (only `true` lets the development \
                             authorization server serve a public URL)"
                        ),
                    });
                }
            };
        }
        if let Some(v) = env("MCP_USE_OAUTH_DEV_USER") {
            if !valid_username(&v) {
                return Err(ProviderError::Invalid {
                    var: "MCP_USE_OAUTH_DEV_USER",
                    reason: format!(
                        "`{v}` is not a user name; use 1 to 64 letters, digits, `.`, `_`, `-` or `@`"
                    ),
                });
            }
            p.email = format!("{v}@localhost");
            p.user = v;
        }
        if let Some(v) = env("MCP_USE_OAUTH_DEV_EMAIL") {
            p.email = v;
        }
        if let Some(v) = env("MCP_USE_OAUTH_DEV_NAME") {
            p.name = v;
        }
        if let Some(v) = env("MCP_USE_OAUTH_DEV_TOKEN_TTL") {
            match v.parse::<u64>() {
                Ok(s) if (1..=86_400).contains(&s) => p.access_ttl = Duration::from_secs(s),
                _ => {
                    return Err(ProviderError::Invalid {
                        var: "MCP_USE_OAUTH_DEV_TOKEN_TTL",
                        reason: format!("`{v}` is not a number of seconds from 1 to 86400"),
                    });
                }
            }
        }
        p.store = Some(super::state::store_from_env("dev-server")?);
        p.encryption_key = super::state::encryption_key_from_env()?;
        p.core = crate::oauth::CoreSettings::from_env(super::env)
            .map_err(|(var, reason)| ProviderError::Invalid { var, reason })?;
        Ok(p)
    }

    /// Where the server keeps registrations, codes, refresh tokens and its signing key
    /// (default in code: memory; from the environment: `MCP_STORE_URL`, else a file).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Keeps the signing keys encrypted (AES-256-GCM) in the store with this key
    /// (`MCP_STORE_ENCRYPTION_KEY`): replicas sharing a store need the same one. Without it
    /// the keys are stored in the clear, which whoever reads the store could sign with.
    pub fn encryption_key(mut self, key: [u8; 32]) -> Self {
        self.encryption_key = Some(key);
        self
    }

    super::core_settings_methods!();

    /// Lets the server run on a public URL whose host is not a loopback address. Anyone who
    /// reaches it can then sign in as anyone with any scope: for a throwaway demo only, never
    /// for data that matters (a warning says so at each start). `MCP_USE_OAUTH_DEV_ALLOW_PUBLIC`.
    pub fn allow_public(mut self, yes: bool) -> Self {
        self.allow_public = yes;
        self
    }

    /// Approve every authorization request at once, as the default user, without a page.
    pub fn auto_approve(mut self, yes: bool) -> Self {
        self.auto_approve = yes;
        self
    }

    /// The default user: subject, display name and email.
    pub fn user(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        email: impl Into<String>,
    ) -> Self {
        self.user = id.into();
        self.name = name.into();
        self.email = email.into();
        self
    }

    /// The lifetime of access tokens (default one hour).
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// The server's OAuth configuration, with a new RSA signing key. Clients connect with the
    /// identity scopes (`openid profile email`) and step up to tools' scopes.
    pub fn into_oauth(self) -> Result<OAuth, ProviderError> {
        self.core
            .check()
            .map_err(|(var, reason)| ProviderError::Invalid { var, reason })?;
        let ttl = self.access_ttl;
        let store = self.store.clone();
        let key = self.encryption_key;
        let dev = Arc::new(AuthServer::new(
            Identity::Dev(Box::new(self)),
            ttl,
            store,
            key.as_ref(),
        )?);
        let keys = Arc::new(JwksCache::fixed(&dev.jwks_body()).map_err(|e| {
            ProviderError::Setup(format!("the generated key set does not parse: {e}"))
        })?);
        let _ = dev.verifier_keys.set(keys.clone());
        AuthServer::watch_keys(&dev);
        let verifier = JwtVerifier::jwks(keys)
            .algorithms([crate::auth::Algorithm::RS256])
            .late_issuer(dev.issuer.clone());
        let mut oauth = OAuth::new(verifier, String::new())
            .scopes_supported(IDENTITY_SCOPES)
            .baseline_scopes(["openid", "profile", "email"])
            .user_info(UserInfo::from_claims);
        oauth.authorization_servers.clear();
        oauth.embedded = Some(dev);
        Ok(oauth)
    }
}
