//! The authorization-server core: dynamic client registration (RFC 7591), authorization with
//! PKCE (RFC 7636) and a sign-in or consent page, single-use codes, the token endpoint with
//! rotating refresh tokens and reuse detection (RFC 9700), RFC 9068 JWT access tokens for this
//! server's resource (RFC 8707), a JWKS, and RFC 8414 metadata.
//!
//! One core, with the user identified by a backend: the development sign-in page
//! (`oauth = "dev"`). Nothing outside this folder reaches into its files.

mod authorize;
mod keys;
mod pages;
mod params;
mod register;
mod responses;
mod signin;
mod state;
mod token;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::json;

use crate::providers::{DevProvider, ProviderError};
pub(crate) use signin::valid_username;

use crate::store::Store;
use params::origin;
use responses::{cors, not_started};

/// Authorization codes live this long (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub(super) const CODE_TTL: Duration = Duration::from_secs(60);
/// A sign-in page must be answered within this time.
pub(super) const PENDING_TTL: Duration = Duration::from_secs(600);
/// Refresh tokens live this long (each use replaces the token).
pub(super) const REFRESH_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
/// How long a redeemed code is remembered, to revoke its tokens if it comes back.
pub(super) const REDEEMED_TTL: Duration = Duration::from_secs(600);
pub(super) const MAX_CLIENTS: usize = 1000;
pub(super) const MAX_PENDING: usize = 1000;
pub(super) const MAX_CODES: usize = 1000;
pub(super) const MAX_REFRESH: usize = 10_000;
pub(super) const MAX_BODY: usize = 64 * 1024;
/// Scopes the embedded server always knows, besides the resource's.
pub(crate) const IDENTITY_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The embedded authorization server (one per MCP server).
pub(crate) struct AuthServer {
    config: DevProvider,
    key: KeyPair,
    rng: SystemRandom,
    /// `base64url(header)`, the same for every token.
    header_b64: String,
    pub(crate) jwks_body: Bytes,
    /// The issuer: this server's origin, set once the address is known.
    pub(crate) issuer: Arc<OnceLock<String>>,
    resource: OnceLock<String>,
    metadata_body: OnceLock<Bytes>,
    scopes: OnceLock<Vec<String>>,
    baseline: OnceLock<Vec<String>>,
    store: Arc<dyn Store>,
}

impl AuthServer {
    pub(crate) fn new(config: DevProvider) -> Result<Self, ProviderError> {
        let store = config
            .store
            .clone()
            .unwrap_or_else(|| Arc::new(crate::store::MemoryStore::new()));
        let (key, kid) = keys::load_or_create(&*store).map_err(ProviderError::Setup)?;
        let public = key.public_key();
        let jwks = json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }]});
        let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": kid});
        Ok(AuthServer {
            config,
            key,
            rng: SystemRandom::new(),
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
            jwks_body: Bytes::from(jwks.to_string()),
            issuer: Arc::new(OnceLock::new()),
            resource: OnceLock::new(),
            metadata_body: OnceLock::new(),
            scopes: OnceLock::new(),
            baseline: OnceLock::new(),
            store,
        })
    }

    /// Called when the server's scope set is known (at build).
    pub(crate) fn set_scopes(&self, supported: &[String], baseline: &[String]) {
        let _ = self.scopes.set(supported.to_vec());
        let _ = self.baseline.set(baseline.to_vec());
    }

    /// Called when the resource URL is known: the issuer is its origin.
    pub(crate) fn set_resource(&self, resource: &str) {
        if resource.is_empty() {
            return;
        }
        let _ = self.resource.set(resource.to_owned());
        let _ = self.issuer.set(origin(resource));
        tracing::info!(
            target: "mcp_runtime::auth",
            "development authorization server at {} ({}; state in {}); not for production",
            origin(resource),
            if self.config.auto_approve {
                "auto-approving every request"
            } else {
                "sign-in page"
            },
            self.store.describe()
        );
    }

    /// The issuer URL (`http://127.0.0.1:3000`), once known.
    pub(crate) fn issuer(&self) -> Option<&str> {
        self.issuer.get().map(String::as_str)
    }

    fn supported_scopes(&self) -> &[String] {
        self.scopes.get().map_or(&[], Vec::as_slice)
    }

    fn metadata(&self) -> Option<&Bytes> {
        let issuer = self.issuer()?;
        Some(self.metadata_body.get_or_init(|| {
            Bytes::from(
                json!({
                    "issuer": issuer,
                    "authorization_endpoint": format!("{issuer}/oauth/authorize"),
                    "token_endpoint": format!("{issuer}/oauth/token"),
                    "registration_endpoint": format!("{issuer}/oauth/register"),
                    "jwks_uri": format!("{issuer}/oauth/jwks"),
                    "scopes_supported": self.supported_scopes(),
                    "response_types_supported": ["code"],
                    "response_modes_supported": ["query"],
                    "grant_types_supported": ["authorization_code", "refresh_token"],
                    "token_endpoint_auth_methods_supported":
                        ["none", "client_secret_basic", "client_secret_post"],
                    "code_challenge_methods_supported": ["S256"],
                    "authorization_response_iss_parameter_supported": true,
                    "service_documentation": "https://docs.rs/mcp-runtime/latest/mcp_runtime/providers/dev/",
                })
                .to_string(),
            )
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
        }
        let options = || {
            web::method(Method::OPTIONS).to(|| async { cors(HttpResponse::NoContent()).finish() })
        };
        cfg.service(
            web::resource("/.well-known/oauth-authorization-server")
                .route(web::get().to(handler!(metadata_endpoint)))
                .route(options()),
        );
        cfg.service(
            web::resource("/oauth/jwks")
                .route(web::get().to(handler!(jwks_endpoint)))
                .route(options()),
        );
        cfg.service(
            web::resource("/oauth/register")
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route(web::post().to(handler!(register)))
                .route(options()),
        );
        cfg.service(
            web::resource("/oauth/authorize")
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route(web::get().to(handler!(authorize)))
                .route(web::post().to(handler!(consent))),
        );
        cfg.service(
            web::resource("/oauth/token")
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route(web::post().to(handler!(token)))
                .route(options()),
        );
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
        cors(HttpResponse::Ok())
            .content_type("application/json")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(self.jwks_body.clone())
    }
}
