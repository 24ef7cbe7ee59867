//! Who signs the user in: the development sign-in page or an upstream identity provider,
//! with what the proxy needs to talk to the latter.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

use super::backend::{DevProvider, ProxyProvider};
use super::seal::Sealer;
use super::settings::CoreSettings;
use crate::auth::TokenVerifier;
use crate::auth::jwks::JwksCache;
use crate::auth::verifier::JwtVerifier;
use crate::config::ProviderError;

/// Who signs the user in.
pub(crate) enum Identity {
    /// The development sign-in page (`oauth = "dev"`).
    Dev(Box<DevProvider>),
    /// An upstream identity provider (`oauth = "proxy"`).
    Upstream(Box<Upstream>),
}

impl Identity {
    /// The settings of the core that this backend carries.
    pub(super) fn core(&self) -> &CoreSettings {
        match self {
            Identity::Dev(d) => &d.core,
            Identity::Upstream(u) => &u.config.core,
        }
    }
}

/// The upstream identity provider and what the proxy needs to talk to it.
pub(crate) struct Upstream {
    pub(crate) config: ProxyProvider,
    pub(super) http: reqwest::Client,
    /// Verifies upstream access tokens, when they are JWTs for an API (or in code).
    pub(crate) access_verifier: Option<Arc<dyn TokenVerifier>>,
    /// Verifies OpenID Connect ID tokens (audience: this server's upstream client id).
    pub(super) id_verifier: Option<JwtVerifier>,
    pub(super) sealer: Sealer,
    pub(super) consent_key: hmac::Key,
}

impl Upstream {
    pub(crate) fn new(config: ProxyProvider) -> Result<Self, ProviderError> {
        let rng = SystemRandom::new();
        // The key of the consent cookie's MACs: derived from the encryption key when there is
        // one, so that replicas sharing it recognize each other's remembered approvals.
        let mut consent = [0u8; 32];
        match config.encryption_key {
            Some(k) => {
                let tag = hmac::sign(
                    &hmac::Key::new(hmac::HMAC_SHA256, &k),
                    b"mcp-runtime consent cookie",
                );
                consent.copy_from_slice(&tag.as_ref()[..32]);
            }
            None => rng
                .fill(&mut consent)
                .map_err(|_| ProviderError::Setup("no randomness for a key".into()))?,
        }
        let key = match config.encryption_key {
            Some(k) => k,
            None => {
                let mut k = [0u8; 32];
                rng.fill(&mut k)
                    .map_err(|_| ProviderError::Setup("no randomness for a key".into()))?;
                tracing::warn!(
                    target: "mcp_runtime::auth",
                    "OAuth proxy: MCP_STORE_ENCRYPTION_KEY is not set, so upstream tokens are \
                     encrypted with a key of this process only; after a restart tools see no \
                     upstream token until the user signs in again"
                );
                k
            }
        };
        let sealer = Sealer::new(&key).map_err(ProviderError::Setup)?;
        let http = crate::auth::http_client_with(config.upstream_timeout);
        let jwks = config
            .jwks_url
            .as_ref()
            // Asked only at sign-in callbacks: a short cooldown, so that a provider's blip
            // does not fail sign-ins for long (fetches stay single-flight).
            .map(|u| {
                Arc::new(
                    JwksCache::new(u.clone(), http.clone()).with_cooldown(Duration::from_secs(1)),
                )
            });
        let access_verifier: Option<Arc<dyn TokenVerifier>> = match (&config.verifier, &jwks) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(jwks)) if config.audience.is_some() || config.forward_resource => {
                let v = JwtVerifier::jwks(jwks.clone());
                // Multi-tenant: the issuer is checked per token, against its `tid`.
                let v = if config.tenant_issuer.is_some() {
                    v
                } else {
                    v.issuer(config.issuer.clone())
                };
                Some(Arc::new(match &config.audience {
                    Some(a) => v.audience(a.clone()),
                    None => v,
                }))
            }
            _ => None,
        };
        let id_verifier = jwks.map(|jwks| {
            let v = JwtVerifier::jwks(jwks).audience(config.client_id.clone());
            if config.tenant_issuer.is_some() {
                return v;
            }
            config
                .issuer_aliases
                .iter()
                .fold(v.issuer(config.issuer.clone()), |v, alias| {
                    v.also_issuer(alias.clone())
                })
        });
        Ok(Upstream {
            config,
            http,
            access_verifier,
            id_verifier,
            sealer,
            consent_key: hmac::Key::new(hmac::HMAC_SHA256, &consent),
        })
    }

    /// A grant's upstream tokens are sealed with its grant id as associated data: sealed
    /// tokens moved to another grant's key do not open.
    pub(super) fn seal(&self, grant: &str, plain: &[u8]) -> Option<Vec<u8>> {
        self.sealer.seal(grant_label(grant).as_bytes(), plain)
    }

    pub(super) fn open(&self, grant: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        self.sealer.open(grant_label(grant).as_bytes(), sealed)
    }
}

fn grant_label(grant: &str) -> String {
    format!("upstream-tokens:{grant}")
}
