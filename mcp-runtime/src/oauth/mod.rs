//! The authorization-server core: dynamic client registration (RFC 7591), authorization with
//! PKCE (RFC 7636) and a sign-in or consent page, single-use codes, the token endpoint with
//! rotating refresh tokens and reuse detection (RFC 9700), RFC 9068 JWT access tokens for this
//! server's resource (RFC 8707), a JWKS, and RFC 8414 metadata.
//!
//! One core, with the user identified by a backend: the development sign-in page
//! (`oauth = "dev"`). Nothing outside this folder reaches into its files.

mod authorize;
pub(crate) mod backend;
mod callback;
mod cimd;
mod consent;
mod embedded;
mod identity;
mod keys;
mod limit;
mod settings;
#[cfg(feature = "fuzzing")]
pub(crate) use register::fuzzing;
mod pages;
mod params;
mod register;
mod responses;
mod revoke;
pub(crate) mod seal;
mod service;
pub(crate) mod signin;
mod signing;
mod state;
mod token;
mod upstream;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use aws_lc_rs::rand::SystemRandom;
use bytes::Bytes;
use serde_json::json;

use crate::config::ProviderError;
use backend::DevProvider;
pub(crate) use identity::{Identity, Upstream};

use crate::store::Store;
pub use keys::rotate_signing_key;
pub use limit::RateLimits;
use responses::{cors, not_started, origin};
pub use service::{ServiceClient, ServiceClientError};
pub(crate) use settings::CoreSettings;

/// Authorization codes live this long (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub(super) const CODE_TTL: Duration = Duration::from_secs(60);
/// A sign-in page must be answered within this time.
pub(super) const PENDING_TTL: Duration = Duration::from_secs(600);
/// Refresh tokens live this long (each use replaces the token).
pub(super) const REFRESH_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
/// How often a replica reads the grants other replicas revoked (the bound on how long their
/// tokens still open this one).
pub(super) const REVOCATIONS_EVERY: Duration = Duration::from_secs(5);
/// How long a redeemed code is remembered, to revoke its tokens if it comes back.
pub(super) const REDEEMED_TTL: Duration = Duration::from_secs(600);
/// At most this many registrations no sign-in completed: a newcomer evicts the oldest.
pub(super) const MAX_UNUSED_CLIENTS: usize = 1000;
/// At most this many clients in all: past it, the ones whose refresh tokens expire soonest go.
pub(super) const MAX_CLIENTS: usize = 100_000;
/// At most this many sign-ins in progress per client, and in all: a newcomer evicts the oldest
/// (of its client first).
pub(super) const MAX_PENDING: (usize, usize) = (100, 10_000);
/// At most this many unredeemed codes per client, and in all: a newcomer evicts the oldest.
pub(super) const MAX_CODES: (usize, usize) = (100, 10_000);
/// At most this many live refresh tokens: past it, the ones expiring soonest go.
pub(super) const MAX_REFRESH: usize = 100_000;
/// At most this many live grants per user: a new sign-in past it revokes the user's oldest.
pub(super) const MAX_GRANTS_PER_SUBJECT: usize = 100;
pub(super) const MAX_BODY: usize = 64 * 1024;
/// Scopes the embedded server always knows, besides the resource's.
pub(crate) const IDENTITY_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Where the endpoints are: `/oauth/...` for the development server, mcp-use's paths for the
/// proxy.
pub(super) struct Paths {
    pub(super) register: &'static str,
    pub(super) authorize: &'static str,
    pub(super) token: &'static str,
    pub(super) revoke: &'static str,
    pub(super) jwks: &'static str,
    pub(super) callback: &'static str,
}

const DEV_PATHS: Paths = Paths {
    register: "/oauth/register",
    authorize: "/oauth/authorize",
    token: "/oauth/token",
    revoke: "/oauth/revoke",
    jwks: "/oauth/jwks",
    callback: "/oauth/callback",
};

const PROXY_PATHS: Paths = Paths {
    register: "/register",
    authorize: "/authorize",
    token: "/token",
    revoke: "/revoke",
    jwks: "/oauth/jwks",
    callback: "/oauth/callback",
};

/// The embedded authorization server (one per MCP server).
pub(crate) struct AuthServer {
    identity: Identity,
    access_ttl: Duration,
    /// The signing keys (see `keys`), swapped whole when a rotation reaches this replica.
    keys: arc_swap::ArcSwap<keys::KeyRing>,
    /// When the ring was last read at an endpoint.
    keys_read: std::sync::Mutex<std::time::Instant>,
    /// This server's own verifier's key set, updated with the ring.
    pub(crate) verifier_keys: OnceLock<Arc<crate::auth::jwks::JwksCache>>,
    rng: SystemRandom,
    /// The issuer: this server's origin, set once the address is known.
    pub(crate) issuer: Arc<OnceLock<String>>,
    resource: OnceLock<String>,
    /// How the pages name the server and show its branding (set at build).
    pub(super) look: OnceLock<pages::Look>,
    /// The prefix of this server's records in the store (see `ns_key`).
    namespace: OnceLock<String>,
    metadata_body: OnceLock<Bytes>,
    scopes: OnceLock<Vec<String>>,
    baseline: OnceLock<Vec<String>>,
    store: Arc<dyn Store>,
    /// Seals the signing keys in the store (`MCP_STORE_ENCRYPTION_KEY`).
    sealer: Option<Arc<seal::Sealer>>,
    /// The grants revoked (here at once, by other replicas within `REVOCATIONS_EVERY`),
    /// whose tokens this server's gate refuses.
    pub(crate) revocations: Arc<crate::auth::revocations::Revocations>,
    /// Requests a minute per client address.
    limiter: limit::Limiter,
    /// How long a registration no sign-in completed is kept.
    unused_client_ttl: Duration,
    /// The machine clients the operator registered (client credentials).
    services: service::Services,
    /// Client ID Metadata Documents, when accepted.
    documents: Option<cimd::Documents>,
    /// The DPoP proofs already used at the token endpoint.
    dpop_replays: crate::auth::dpop::Replays,
    /// Server nonces token requests' proofs must carry (`MCP_OAUTH_DPOP_NONCE`).
    dpop_nonces: Option<crate::auth::dpop::Nonces>,
}

impl AuthServer {
    /// With `encryption_key`, the signing keys are kept in the store encrypted.
    pub(crate) fn new(
        identity: Identity,
        access_ttl: Duration,
        store: Option<Arc<dyn Store>>,
        encryption_key: Option<&[u8; 32]>,
    ) -> Result<Self, ProviderError> {
        let store = store.unwrap_or_else(|| Arc::new(crate::store::MemoryStore::new()));
        let sealer = encryption_key
            .map(seal::Sealer::new)
            .transpose()
            .map_err(ProviderError::Setup)?
            .map(Arc::new);
        if store.is_shared() && sealer.is_none() {
            tracing::warn!(
                target: "mcp_runtime::auth",
                "the signing keys are kept in the clear in {}: whoever reads it can sign tokens; \
                 set MCP_STORE_ENCRYPTION_KEY (the same on every replica) to encrypt them",
                store.describe()
            );
        }
        let ring =
            keys::load_or_create(&*store, sealer.as_deref()).map_err(|e| ProviderError::Store {
                var: None,
                source: e.into(),
            })?;
        let core = identity.core();
        let unused_client_ttl = core.unused_client_ttl;
        if let Identity::Upstream(u) = &identity
            && u.config.pass_through
            && !core.service_clients.is_empty()
        {
            return Err(ProviderError::Invalid {
                var: "MCP_OAUTH_CLIENTS",
                reason: "service clients get this server's own tokens, and pass-through hands \
                         out the identity provider's: turn pass-through off to register them"
                    .into(),
            });
        }
        let documents = match core.cimd.enabled {
            true => Some(cimd::Documents::new(core.cimd.clone()).map_err(|reason| {
                ProviderError::Invalid {
                    var: "MCP_OAUTH_CIMD_CA_FILE",
                    reason,
                }
            })?),
            false => None,
        };
        let dpop_nonces = core
            .dpop_nonces
            .then(crate::auth::dpop::Nonces::new)
            .transpose()
            .map_err(|e| ProviderError::Setup(e.to_string()))?;
        let services = service::Services::new(&core.service_clients).map_err(|reason| {
            ProviderError::Invalid {
                var: "MCP_OAUTH_CLIENTS",
                reason,
            }
        })?;
        let limiter =
            limit::Limiter::new(&core.rate_limits).map_err(|reason| ProviderError::Invalid {
                var: "MCP_TRUSTED_PROXIES",
                reason,
            })?;
        Ok(AuthServer {
            identity,
            access_ttl,
            keys: arc_swap::ArcSwap::from_pointee(ring),
            keys_read: std::sync::Mutex::new(std::time::Instant::now()),
            verifier_keys: OnceLock::new(),
            rng: SystemRandom::new(),
            issuer: Arc::new(OnceLock::new()),
            resource: OnceLock::new(),
            look: OnceLock::new(),
            namespace: OnceLock::new(),
            metadata_body: OnceLock::new(),
            scopes: OnceLock::new(),
            baseline: OnceLock::new(),
            store,
            sealer,
            revocations: Arc::default(),
            limiter,
            unused_client_ttl,
            services,
            documents,
            dpop_replays: crate::auth::dpop::Replays::default(),
            dpop_nonces,
        })
    }

    /// Called when the server's scope set is known (at build).
    pub(crate) fn set_scopes(&self, supported: &[String], baseline: &[String]) {
        let _ = self.scopes.set(supported.to_vec());
        let _ = self.baseline.set(baseline.to_vec());
    }

    /// How the pages look (the server's name, its branding).
    pub(super) fn look(&self) -> &pages::Look {
        self.look.get().unwrap_or(&pages::PLAIN)
    }

    /// Called when the resource URL is known: the issuer is its origin.
    pub(crate) fn set_resource(&self, resource: &str) {
        if resource.is_empty() {
            return;
        }
        let _ = self.resource.set(resource.to_owned());
        let _ = self.issuer.set(origin(resource));
        let configured = self.identity.core().namespace.clone();
        // Replicas of one server share its public URL, and so its records; another server on
        // the same store has its own.
        let _ = self.namespace.set(configured.unwrap_or_else(|| {
            use base64::Engine as _;
            let digest = params::sha256(resource);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12])
        }));
        tracing::info!(
            target: "mcp_runtime::auth",
            "{} at {} (state in {})",
            match &self.identity {
                Identity::Dev(d) if d.auto_approve =>
                    "development authorization server (auto-approving every request; not for production)".to_owned(),
                Identity::Dev(_) =>
                    "development authorization server (sign-in page; not for production)".to_owned(),
                Identity::Upstream(u) => format!("OAuth proxy to {}", u.config.issuer),
            },
            origin(resource),
            self.store.describe()
        );
    }

    /// Why the development server must not serve `resource` (a public URL whose host is not
    /// a loopback address), unless its operator forced it; `None` when it may.
    pub(crate) fn refuse_public(&self, resource: &str) -> Option<String> {
        let Identity::Dev(dev) = &self.identity else {
            return None;
        };
        let url = url::Url::parse(resource).ok()?;
        if crate::config::is_loopback_host(&url) {
            return None;
        }
        if dev.allow_public {
            tracing::warn!(
                target: "mcp_runtime::auth",
                "the development authorization server serves the public URL {resource} \
                 (MCP_USE_OAUTH_DEV_ALLOW_PUBLIC): anyone who reaches it can sign in as anyone \
                 with any scope; never use it for data that matters"
            );
            return None;
        }
        Some(format!(
            "the development authorization server (oauth = \"dev\") lets anyone sign in as \
             anyone with any scope, and the public URL `{resource}` is not a loopback address: \
             deploy with a real identity provider (a preset such as oauth = \"workos\", or the \
             OAuth proxy), or, for a throwaway demo only, set MCP_USE_OAUTH_DEV_ALLOW_PUBLIC=true \
             (DevProvider::allow_public)"
        ))
    }

    /// The store key of this server's record `key`: `<namespace>/<key>`, so that servers
    /// sharing a store never read each other's clients, codes or tokens.
    pub(super) fn ns_key(&self, key: &str) -> String {
        format!("{}/{key}", self.namespace.get().map_or("", String::as_str))
    }

    /// Whether the namespace is still unknown (before the public URL is).
    pub(super) fn namespace_unset(&self) -> bool {
        self.namespace.get().is_none()
    }

    /// The resource this server issues tokens for (empty until known).
    pub(super) fn resource_url(&self) -> &str {
        self.resource.get().map_or("", String::as_str)
    }

    /// The issuer URL (`http://127.0.0.1:3000`), once known.
    pub(crate) fn issuer(&self) -> Option<&str> {
        self.issuer.get().map(String::as_str)
    }

    fn paths(&self) -> &'static Paths {
        match self.identity {
            Identity::Dev(_) => &DEV_PATHS,
            Identity::Upstream(_) => &PROXY_PATHS,
        }
    }

    /// The development identity's settings, when it is the development server.
    fn dev(&self) -> Option<&DevProvider> {
        match &self.identity {
            Identity::Dev(d) => Some(d),
            Identity::Upstream(_) => None,
        }
    }

    fn supported_scopes(&self) -> &[String] {
        self.scopes.get().map_or(&[], Vec::as_slice)
    }

    fn metadata(&self) -> Option<&Bytes> {
        let issuer = self.issuer()?;
        let p = self.paths();
        Some(self.metadata_body.get_or_init(|| {
            let mut grants = vec!["authorization_code", "refresh_token"];
            let mut methods = vec!["none", "client_secret_basic", "client_secret_post"];
            if !self.services.is_empty() && !self.pass_through() {
                grants.push("client_credentials");
            }
            if self.services.any_keys() {
                methods.push("private_key_jwt");
            }
            let mut doc = json!({
                    "issuer": issuer,
                    "authorization_endpoint": format!("{issuer}{}", p.authorize),
                    "token_endpoint": format!("{issuer}{}", p.token),
                    "revocation_endpoint": format!("{issuer}{}", p.revoke),
                    "revocation_endpoint_auth_methods_supported": methods,
                    "registration_endpoint": format!("{issuer}{}", p.register),
                    "jwks_uri": format!("{issuer}{}", p.jwks),
                    "scopes_supported": self.supported_scopes(),
                    "response_types_supported": ["code"],
                    "response_modes_supported": ["query"],
                    "grant_types_supported": grants,
                    "token_endpoint_auth_methods_supported": methods,
                    "code_challenge_methods_supported": ["S256"],
                    "authorization_response_iss_parameter_supported": true,
                    "client_id_metadata_document_supported": self.documents.is_some(),
                    "dpop_signing_alg_values_supported": crate::auth::dpop::DPOP_ALGORITHMS,
                    "service_documentation": match self.identity {
                        Identity::Dev(_) => "https://docs.rs/mcp-runtime/latest/mcp_runtime/providers/dev/",
                        Identity::Upstream(_) => "https://docs.rs/mcp-runtime/latest/mcp_runtime/providers/proxy/",
                    },
                });
            if self.services.any_keys() {
                let algs: Vec<String> = service::ASSERTION_ALGORITHMS
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                doc["token_endpoint_auth_signing_alg_values_supported"] = json!(algs);
                doc["revocation_endpoint_auth_signing_alg_values_supported"] = json!(algs);
            }
            Bytes::from(doc.to_string())
        }))
    }

    /// Mounts the endpoints.
    pub(crate) fn configure(self: &Arc<Self>, cfg: &mut web::ServiceConfig) {
        use actix_web::http::Method;
        macro_rules! handler {
            ($method:ident) => {{
                let this = self.clone();
                move |req: HttpRequest, body: Bytes| {
                    let this = this.clone();
                    async move { this.$method(&req, &body).await }
                }
            }};
            ($method:ident, $endpoint:expr) => {{
                let this = self.clone();
                move |req: HttpRequest, body: Bytes| {
                    let this = this.clone();
                    async move {
                        match this.limiter.check($endpoint, &req) {
                            Ok(()) => this.$method(&req, &body).await,
                            Err(wait) => too_many(wait, $endpoint),
                        }
                    }
                }
            }};
        }
        use limit::Endpoint;
        let options = || {
            web::method(Method::OPTIONS).to(|| async { cors(HttpResponse::NoContent()).finish() })
        };
        let p = self.paths();
        let mut metadata_paths = vec!["/.well-known/oauth-authorization-server"];
        if matches!(self.identity, Identity::Upstream(_)) {
            // mcp-use serves it here too; clients that look for OpenID discovery find it.
            metadata_paths.push("/.well-known/openid-configuration");
        }
        for path in metadata_paths {
            cfg.service(
                web::resource(path)
                    .route(web::get().to(handler!(metadata_endpoint)))
                    .route(options()),
            );
        }
        cfg.service(
            web::resource(p.jwks)
                .route(web::get().to(handler!(jwks_endpoint)))
                .route(options()),
        );
        cfg.service(
            web::resource(p.register)
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route(web::post().to(handler!(register, Endpoint::Register)))
                .route(options()),
        );
        cfg.service(
            web::resource(p.authorize)
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route(web::get().to(handler!(authorize, Endpoint::Authorize)))
                .route(web::post().to(handler!(consent, Endpoint::Authorize))),
        );
        cfg.service(
            web::resource(p.token)
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route(web::post().to(handler!(token, Endpoint::Token)))
                .route(options()),
        );
        cfg.service(
            web::resource(p.revoke)
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route(web::post().to(handler!(revoke_endpoint, Endpoint::Token)))
                .route(options()),
        );
        if matches!(self.identity, Identity::Upstream(_)) {
            cfg.service(
                web::resource(p.callback)
                    .route(web::get().to(handler!(callback, Endpoint::Callback))),
            );
        }
    }

    async fn metadata_endpoint(&self, _req: &HttpRequest, _body: &Bytes) -> HttpResponse {
        match self.metadata() {
            Some(body) => cors(HttpResponse::Ok())
                .content_type("application/json")
                .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
                .body(body.clone()),
            None => not_started(),
        }
    }

    async fn jwks_endpoint(&self, _req: &HttpRequest, _body: &Bytes) -> HttpResponse {
        self.refresh_keys().await;
        cors(HttpResponse::Ok())
            .content_type("application/json")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(self.jwks_body())
    }
}

/// 429 (RFC 6585) with `Retry-After`: JSON for the endpoints clients call, a page for the ones
/// a browser opens.
fn too_many(wait_secs: u64, endpoint: limit::Endpoint) -> HttpResponse {
    let wait = wait_secs.max(1);
    let message = format!(
        "too many requests from this address; try again in {wait} second{}",
        if wait == 1 { "" } else { "s" }
    );
    let mut resp = match endpoint {
        limit::Endpoint::Register | limit::Endpoint::Token => responses::oauth_error(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            &message,
        ),
        limit::Endpoint::Authorize | limit::Endpoint::Callback => pages::error_page(
            &pages::PLAIN,
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            &message,
        ),
    };
    if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}
