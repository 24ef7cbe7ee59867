//! `oauth = "dev"`: an authorization server embedded in the MCP server, for development.
//!
//! So that the whole OAuth flow works on a fresh machine with no account anywhere: RFC 8414
//! metadata, RFC 7591 dynamic client registration, `/oauth/authorize` with a small sign-in and
//! consent page, PKCE (S256 only), `/oauth/token` issuing RS256 JWT access tokens (RFC 9068)
//! for this server's resource (RFC 8707) with the scopes asked for, rotating refresh tokens, and
//! a JWKS. Its tokens are checked by the same [`JwtVerifier`] as any external issuer's.
//!
//! Everything lives in memory: a restart forgets clients and tokens (clients register again),
//! and the signing key is new each time.
//!
//! Environment (mcp-use naming): `MCP_USE_OAUTH_DEV_AUTO_APPROVE` (`true` skips the page and
//! approves every request as the default user: tests and scripted clients),
//! `MCP_USE_OAUTH_DEV_USER`, `MCP_USE_OAUTH_DEV_EMAIL`, `MCP_USE_OAUTH_DEV_NAME` (the default
//! user) and `MCP_USE_OAUTH_DEV_TOKEN_TTL` (access-token lifetime in seconds, default 3600).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use jsonwebtoken::jwk::JwkSet;
use serde_json::{Value, json};

use super::{ProviderError, env};
use crate::auth::OAuth;
use crate::auth::jwks::JwksCache;
use crate::auth::verifier::JwtVerifier;
use crate::auth::{UserInfo, is_scope_token};

/// Authorization codes live this long (RFC 6749 §4.1.2 recommends at most 10 minutes).
const CODE_TTL: Duration = Duration::from_secs(60);
/// A sign-in page must be answered within this time.
const PENDING_TTL: Duration = Duration::from_secs(600);
/// Refresh tokens live this long (each use replaces the token).
const REFRESH_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
const MAX_CLIENTS: usize = 1000;
const MAX_PENDING: usize = 1000;
const MAX_CODES: usize = 1000;
const MAX_REFRESH: usize = 10_000;
const MAX_BODY: usize = 64 * 1024;
/// Scopes the embedded server always knows, besides the resource's.
const IDENTITY_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The embedded development authorization server's settings (`oauth = "dev"`).
///
/// ```no_run
/// use mcp_runtime::providers::DevProvider;
/// let oauth = DevProvider::new().auto_approve(true).into_oauth().expect("a signing key");
/// ```
#[derive(Debug, Clone)]
pub struct DevProvider {
    auto_approve: bool,
    user: String,
    email: String,
    name: String,
    access_ttl: Duration,
}

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
        Ok(p)
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
        let dev = Arc::new(DevServer::new(self)?);
        let set: JwkSet = serde_json::from_slice(&dev.jwks_body).map_err(|e| {
            ProviderError::Setup(format!("the generated key set does not parse: {e}"))
        })?;
        let verifier = JwtVerifier::jwks(Arc::new(JwksCache::fixed(&set)))
            .algorithms([jsonwebtoken::Algorithm::RS256])
            .late_issuer(dev.issuer.clone());
        let mut oauth = OAuth::new(verifier, String::new())
            .scopes_supported(IDENTITY_SCOPES)
            .baseline_scopes(["openid", "profile", "email"])
            .user_info(UserInfo::from_claims);
        oauth.authorization_servers.clear();
        oauth.dev = Some(dev);
        Ok(oauth)
    }
}

fn valid_username(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

struct Client {
    name: Option<String>,
    secret_hash: Option<[u8; 32]>,
    redirect_uris: Vec<String>,
    refresh: bool,
}

/// A checked authorization request: what the code it leads to is bound to.
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    /// The request named `redirect_uri` (so the token request must repeat it).
    redirect_given: bool,
    challenge: String,
    scopes: Vec<String>,
    state: Option<String>,
}

/// An authorization request waiting for the sign-in page's answer.
struct Pending {
    request: AuthRequest,
    expires: Instant,
}

struct Code {
    request: AuthRequest,
    user: User,
    expires: Instant,
}

struct Refresh {
    client_id: String,
    scopes: Vec<String>,
    user: User,
    family: u64,
    expires: Instant,
}

#[derive(Clone)]
struct User {
    sub: String,
    name: String,
    email: String,
}

#[derive(Default)]
struct Store {
    clients: HashMap<String, Client>,
    pending: HashMap<String, Pending>,
    codes: HashMap<String, Code>,
    refresh: HashMap<[u8; 32], Refresh>,
    /// Refresh tokens already exchanged, by hash, with their family: presenting one again
    /// revokes the family (RFC 9700 §4.14.2).
    spent: HashMap<[u8; 32], u64>,
    families: u64,
}

impl Store {
    fn purge(&mut self, now: Instant) {
        self.pending.retain(|_, p| p.expires > now);
        self.codes.retain(|_, c| c.expires > now);
        self.refresh.retain(|_, r| r.expires > now);
    }
}

/// The embedded authorization server (one per MCP server).
pub(crate) struct DevServer {
    config: DevProvider,
    key: KeyPair,
    rng: SystemRandom,
    /// `base64url(header)`, the same for every token.
    header_b64: String,
    jwks_body: Bytes,
    /// The issuer: this server's origin, set once the address is known.
    pub(crate) issuer: Arc<OnceLock<String>>,
    resource: OnceLock<String>,
    metadata_body: OnceLock<Bytes>,
    scopes: OnceLock<Vec<String>>,
    baseline: OnceLock<Vec<String>>,
    store: Mutex<Store>,
}

impl DevServer {
    fn new(config: DevProvider) -> Result<Self, ProviderError> {
        let key = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| ProviderError::Setup("cannot generate an RSA signing key".into()))?;
        let kid = random_token(12);
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
        Ok(DevServer {
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
            store: Mutex::new(Store::default()),
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
            "development authorization server at {} ({}); not for production",
            origin(resource),
            if self.config.auto_approve {
                "auto-approving every request"
            } else {
                "sign-in page"
            }
        );
    }

    /// The issuer URL (`http://127.0.0.1:3000`), once known.
    pub(crate) fn issuer(&self) -> Option<&str> {
        self.issuer.get().map(String::as_str)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
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
                    async move { this.$method(&req, &body) }
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

    fn metadata_endpoint(&self, _req: &HttpRequest, _body: &Bytes) -> HttpResponse {
        match self.metadata() {
            Some(body) => cors(HttpResponse::Ok())
                .content_type("application/json")
                .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
                .body(body.clone()),
            None => not_started(),
        }
    }

    fn jwks_endpoint(&self, _req: &HttpRequest, _body: &Bytes) -> HttpResponse {
        cors(HttpResponse::Ok())
            .content_type("application/json")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(self.jwks_body.clone())
    }

    /// RFC 7591 dynamic client registration.
    fn register(&self, req: &HttpRequest, body: &Bytes) -> HttpResponse {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !is_json {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                "send the client metadata as JSON with Content-Type: application/json",
            );
        }
        let meta: Value = match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => Value::Object(m),
            Ok(_) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_metadata",
                    "the client metadata must be a JSON object",
                );
            }
            Err(e) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_metadata",
                    &format!("the client metadata is not valid JSON: {e}"),
                );
            }
        };
        let registration = match check_client_metadata(&meta) {
            Ok(r) => r,
            Err((code, msg)) => return oauth_error(StatusCode::BAD_REQUEST, code, &msg),
        };
        let client_id = random_token(24);
        let secret = registration.confidential.then(|| random_token(32));
        let mut out = json!({
            "client_id": client_id,
            "client_id_issued_at": unix_now(),
            "redirect_uris": registration.redirect_uris,
            "grant_types": registration.grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": registration.auth_method,
        });
        if let Some(name) = &registration.name {
            out["client_name"] = Value::String(name.clone());
        }
        if let Some(scope) = meta.get("scope").and_then(Value::as_str) {
            out["scope"] = Value::String(scope.to_owned());
        }
        if let Some(secret) = &secret {
            out["client_secret"] = Value::String(secret.clone());
            out["client_secret_expires_at"] = Value::from(0);
        }
        {
            let mut store = self.store();
            if store.clients.len() >= MAX_CLIENTS {
                return oauth_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "too many clients registered with the development server; restart it",
                );
            }
            store.clients.insert(
                client_id,
                Client {
                    name: registration.name,
                    secret_hash: secret.as_deref().map(sha256),
                    redirect_uris: registration.redirect_uris,
                    refresh: registration
                        .grant_types
                        .iter()
                        .any(|g| g == "refresh_token"),
                },
            );
        }
        no_store(HttpResponse::Created())
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .content_type("application/json")
            .body(out.to_string())
    }

    /// `GET /oauth/authorize`: checks the request, then shows the sign-in page (or approves
    /// at once with auto-approve).
    fn authorize(&self, req: &HttpRequest, _body: &Bytes) -> HttpResponse {
        let Some(issuer) = self.issuer() else {
            return not_started();
        };
        let params = match parse_params(req.query_string().as_bytes()) {
            Ok(p) => p,
            Err(msg) => return error_page(StatusCode::BAD_REQUEST, &msg),
        };
        let get = |k: &str| params.get(k).map(String::as_str);
        // Until the client and its redirect URI are known, errors go to the user, never to a
        // redirect (RFC 6749 §4.1.2.1).
        let Some(client_id) = get("client_id") else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "the request has no client_id; register the client first (POST /oauth/register)",
            );
        };
        let (redirect_uri, redirect_given, client_name) = {
            let store = self.store();
            let Some(client) = store.clients.get(client_id) else {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "unknown client_id: the development server forgets clients when it restarts; register again",
                );
            };
            let redirect = match get("redirect_uri") {
                Some(r) if client.redirect_uris.iter().any(|u| u == r) => (r.to_owned(), true),
                Some(r) => {
                    return error_page(
                        StatusCode::BAD_REQUEST,
                        &format!("redirect_uri `{r}` is not one this client registered"),
                    );
                }
                None if client.redirect_uris.len() == 1 => (client.redirect_uris[0].clone(), false),
                None => {
                    return error_page(
                        StatusCode::BAD_REQUEST,
                        "the client registered several redirect URIs; name one with redirect_uri",
                    );
                }
            };
            (redirect.0, redirect.1, client.name.clone())
        };
        let state = get("state").map(str::to_owned);
        let fail = |code: &str, msg: &str| {
            redirect_with(
                &redirect_uri,
                &[("error", code), ("error_description", msg)],
                state.as_deref(),
                issuer,
            )
        };
        if get("response_type") != Some("code") {
            return fail(
                "unsupported_response_type",
                "response_type must be `code` (the authorization code flow)",
            );
        }
        let Some(challenge) = get("code_challenge") else {
            return fail(
                "invalid_request",
                "PKCE is required: send code_challenge and code_challenge_method=S256",
            );
        };
        if get("code_challenge_method") != Some("S256") {
            return fail(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted)",
            );
        }
        if challenge.len() != 43 || !challenge.bytes().all(is_b64url) {
            return fail(
                "invalid_request",
                "code_challenge must be the 43-character base64url SHA-256 of the code verifier",
            );
        }
        if let Err(msg) = self.check_resource(get("resource")) {
            return fail("invalid_target", &msg);
        }
        let scopes = match self.requested_scopes(get("scope")) {
            Ok(s) => s,
            Err(msg) => return fail("invalid_scope", &msg),
        };
        let request = AuthRequest {
            client_id: client_id.to_owned(),
            redirect_uri,
            redirect_given,
            challenge: challenge.to_owned(),
            scopes,
            state,
        };
        if self.config.auto_approve {
            return self.grant(request, self.default_user());
        }
        let request_id = random_token(24);
        let page_html = consent_page(
            &request_id,
            client_name.as_deref().unwrap_or(client_id),
            &request.redirect_uri,
            &request.scopes,
            &self.config.user,
        );
        {
            let mut store = self.store();
            store.purge(Instant::now());
            if store.pending.len() >= MAX_PENDING {
                return error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many sign-ins in progress; try again in a few minutes",
                );
            }
            store.pending.insert(
                request_id,
                Pending {
                    request,
                    expires: Instant::now() + PENDING_TTL,
                },
            );
        }
        page(StatusCode::OK, &page_html)
    }

    /// `POST /oauth/authorize`: the sign-in page's answer.
    fn consent(&self, req: &HttpRequest, body: &Bytes) -> HttpResponse {
        let Some(issuer) = self.issuer() else {
            return not_started();
        };
        // The form is only ever posted from the page this server served.
        if let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            && origin != "null"
            && origin != issuer
        {
            return error_page(
                StatusCode::FORBIDDEN,
                "the sign-in form was posted from another site",
            );
        }
        let params = match parse_params(body) {
            Ok(p) => p,
            Err(msg) => return error_page(StatusCode::BAD_REQUEST, &msg),
        };
        let Some(pending) = params
            .get("request")
            .and_then(|id| self.store().pending.remove(id))
            .filter(|p| p.expires > Instant::now())
            .map(|p| p.request)
        else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "this sign-in request has expired or was already answered; start again from the client",
            );
        };
        if params.get("decision").map(String::as_str) != Some("approve") {
            return redirect_with(
                &pending.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the user denied the request"),
                ],
                pending.state.as_deref(),
                issuer,
            );
        }
        let username = params
            .get("username")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.config.user);
        if !valid_username(username) {
            return error_page(
                StatusCode::BAD_REQUEST,
                "a user name is 1 to 64 letters, digits, `.`, `_`, `-` or `@`; go back and try again",
            );
        }
        let user = if username == self.config.user {
            self.default_user()
        } else {
            User {
                sub: username.to_owned(),
                name: username.to_owned(),
                email: if username.contains('@') {
                    username.to_owned()
                } else {
                    format!("{username}@localhost")
                },
            }
        };
        self.grant(pending, user)
    }

    fn default_user(&self) -> User {
        User {
            sub: self.config.user.clone(),
            name: self.config.name.clone(),
            email: self.config.email.clone(),
        }
    }

    /// Issues a code for `request`, approved by `user`, and redirects to the client.
    fn grant(&self, request: AuthRequest, user: User) -> HttpResponse {
        let issuer = self.issuer().unwrap_or_default();
        let code = random_token(32);
        let location = redirect_with(
            &request.redirect_uri,
            &[("code", &code)],
            request.state.as_deref(),
            issuer,
        );
        let mut store = self.store();
        store.purge(Instant::now());
        if store.codes.len() >= MAX_CODES {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many unredeemed authorization codes; try again in a minute",
            );
        }
        store.codes.insert(
            code,
            Code {
                request,
                user,
                expires: Instant::now() + CODE_TTL,
            },
        );
        location
    }

    /// A `resource` parameter (RFC 8707), when given, must name this server.
    fn check_resource(&self, asked: Option<&str>) -> Result<(), String> {
        let ours = self.resource.get().map(String::as_str);
        match asked {
            Some(r) if Some(r) != ours => Err(format!(
                "this server issues tokens only for resource {}",
                ours.unwrap_or("(unknown)")
            )),
            _ => Ok(()),
        }
    }

    /// The scopes asked for: each must be one this server knows; none asked means the
    /// baseline.
    fn requested_scopes(&self, scope: Option<&str>) -> Result<Vec<String>, String> {
        let supported = self.supported_scopes();
        let mut out: Vec<String> = Vec::new();
        for s in scope.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
            if !supported.iter().any(|x| x == s) {
                return Err(format!(
                    "unknown scope `{s}`; this server knows: {}",
                    supported.join(" ")
                ));
            }
            if !out.iter().any(|x| x == s) {
                out.push(s.to_owned());
            }
        }
        if out.is_empty() {
            out = self.baseline.get().cloned().unwrap_or_default();
        }
        Ok(out)
    }

    /// `POST /oauth/token`.
    fn token(&self, req: &HttpRequest, body: &Bytes) -> HttpResponse {
        let Some(issuer) = self.issuer() else {
            return not_started();
        };
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !is_form {
            return token_error(
                "invalid_request",
                "send the token request as application/x-www-form-urlencoded",
            );
        }
        let params = match parse_params(body) {
            Ok(p) => p,
            Err(msg) => return token_error("invalid_request", &msg),
        };
        let client_id = match self.authenticate_client(req, &params) {
            Ok(id) => id,
            Err(resp) => return *resp,
        };
        let get = |k: &str| params.get(k).map(String::as_str);
        if let Err(msg) = self.check_resource(get("resource")) {
            return token_error("invalid_target", &msg);
        }
        let (scopes, user, family) = match get("grant_type") {
            Some("authorization_code") => {
                let Some(code) = get("code") else {
                    return token_error("invalid_request", "the request has no `code`");
                };
                let Some(verifier) = get("code_verifier") else {
                    return token_error(
                        "invalid_request",
                        "PKCE is required: send the code_verifier",
                    );
                };
                let Some(grant) = self.store().codes.remove(code) else {
                    return token_error(
                        "invalid_grant",
                        "the authorization code is unknown, expired or already used",
                    );
                };
                if grant.expires <= Instant::now() {
                    return token_error("invalid_grant", "the authorization code has expired");
                }
                if grant.request.client_id != client_id {
                    return token_error(
                        "invalid_grant",
                        "the authorization code was issued to another client",
                    );
                }
                match get("redirect_uri") {
                    Some(r) if r != grant.request.redirect_uri => {
                        return token_error(
                            "invalid_grant",
                            "redirect_uri differs from the authorization request's",
                        );
                    }
                    None if grant.request.redirect_given => {
                        return token_error(
                            "invalid_request",
                            "redirect_uri is required: the authorization request named one",
                        );
                    }
                    _ => {}
                }
                if !(43..=128).contains(&verifier.len())
                    || !verifier
                        .bytes()
                        .all(|b| is_b64url(b) || b == b'.' || b == b'~')
                {
                    return token_error(
                        "invalid_grant",
                        "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
                    );
                }
                if URL_SAFE_NO_PAD.encode(sha256(verifier)) != grant.request.challenge {
                    return token_error(
                        "invalid_grant",
                        "code_verifier does not match the code_challenge (PKCE)",
                    );
                }
                let family = {
                    let mut store = self.store();
                    store.families += 1;
                    store.families
                };
                (grant.request.scopes, grant.user, family)
            }
            Some("refresh_token") => {
                let Some(token) = get("refresh_token") else {
                    return token_error("invalid_request", "the request has no `refresh_token`");
                };
                let hash = sha256(token);
                let mut store = self.store();
                let Some(old) = store.refresh.get(&hash) else {
                    if let Some(family) = store.spent.get(&hash).copied() {
                        // A spent refresh token came back: someone holds a copy. Revoke the
                        // whole family.
                        store.refresh.retain(|_, r| r.family != family);
                        tracing::warn!(target: "mcp_runtime::auth", "a refresh token was used twice; its family is revoked");
                    }
                    return token_error(
                        "invalid_grant",
                        "the refresh token is unknown, expired, revoked or already used",
                    );
                };
                if old.client_id != client_id {
                    return token_error(
                        "invalid_grant",
                        "the refresh token was issued to another client",
                    );
                }
                if old.expires <= Instant::now() {
                    return token_error("invalid_grant", "the refresh token has expired");
                }
                let scopes = match get("scope") {
                    None => old.scopes.clone(),
                    Some(s) => {
                        let asked: Vec<String> = s
                            .split(' ')
                            .filter(|x| !x.is_empty())
                            .map(str::to_owned)
                            .collect();
                        if let Some(extra) = asked.iter().find(|x| !old.scopes.contains(x)) {
                            return token_error(
                                "invalid_scope",
                                &format!(
                                    "scope `{extra}` was not granted; ask for it with a new authorization request"
                                ),
                            );
                        }
                        asked
                    }
                };
                // Rotation: this refresh token is spent now.
                let Some(old) = store.refresh.remove(&hash) else {
                    return token_error("invalid_grant", "the refresh token is unknown");
                };
                if store.spent.len() >= MAX_REFRESH {
                    store.spent.clear();
                }
                store.spent.insert(hash, old.family);
                (scopes, old.user, old.family)
            }
            Some(other) => {
                return token_error(
                    "unsupported_grant_type",
                    &format!(
                        "grant_type `{other}` is not supported; use authorization_code or refresh_token"
                    ),
                );
            }
            None => return token_error("invalid_request", "the request has no grant_type"),
        };
        let resource = self.resource.get().cloned().unwrap_or_default();
        let now = unix_now();
        let ttl = self.config.access_ttl.as_secs();
        let claims = json!({
            "iss": issuer,
            "sub": user.sub,
            "aud": resource,
            "client_id": client_id,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": random_token(16),
            "scope": scopes.join(" "),
            "name": user.name,
            "email": user.email,
            "preferred_username": user.sub,
        });
        let Some(access_token) = self.sign(&claims) else {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "signing the access token failed",
            );
        };
        let mut out = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": scopes.join(" "),
        });
        let wants_refresh = self
            .store()
            .clients
            .get(&client_id)
            .is_some_and(|c| c.refresh);
        if wants_refresh {
            let refresh = random_token(32);
            let mut store = self.store();
            store.purge(Instant::now());
            if store.refresh.len() < MAX_REFRESH {
                store.refresh.insert(
                    sha256(&refresh),
                    Refresh {
                        client_id: client_id.clone(),
                        scopes: scopes.clone(),
                        user,
                        family,
                        expires: Instant::now() + REFRESH_TTL,
                    },
                );
                out["refresh_token"] = Value::String(refresh);
            }
        }
        no_store(HttpResponse::Ok())
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .content_type("application/json")
            .body(out.to_string())
    }

    /// Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
    /// `client_secret_post`, or a public client naming its `client_id`.
    fn authenticate_client(
        &self,
        req: &HttpRequest,
        params: &HashMap<String, String>,
    ) -> Result<String, Box<HttpResponse>> {
        let basic = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
            });
        let (id, secret, via_basic) = match basic {
            Some(b64) => {
                let decoded = STANDARD
                    .decode(b64)
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .and_then(|s| {
                        s.split_once(':')
                            .map(|(a, b)| (pct_decode(a), pct_decode(b)))
                    });
                let Some((id, secret)) = decoded else {
                    return Err(Box::new(client_error(
                        true,
                        "the Basic credentials are malformed",
                    )));
                };
                (id, Some(secret), true)
            }
            None => match params.get("client_id") {
                Some(id) => (id.clone(), params.get("client_secret").cloned(), false),
                None => {
                    return Err(Box::new(client_error(
                        false,
                        "the request has no client_id (and no Basic credentials)",
                    )));
                }
            },
        };
        let store = self.store();
        let Some(client) = store.clients.get(&id) else {
            return Err(Box::new(client_error(
                via_basic,
                "unknown client_id: the development server forgets clients when it restarts; register again",
            )));
        };
        match (&client.secret_hash, secret) {
            (None, None) => Ok(id),
            (Some(hash), Some(secret)) => {
                if aws_lc_rs::constant_time::verify_slices_are_equal(hash, &sha256(&secret)).is_ok()
                {
                    Ok(id)
                } else {
                    Err(Box::new(client_error(
                        via_basic,
                        "the client secret is wrong",
                    )))
                }
            }
            (Some(_), None) => Err(Box::new(client_error(
                via_basic,
                "this client registered with a secret: authenticate with it",
            ))),
            (None, Some(_)) => Err(Box::new(client_error(
                via_basic,
                "this is a public client (token_endpoint_auth_method none): send no secret",
            ))),
        }
    }

    fn sign(&self, claims: &Value) -> Option<String> {
        let msg = format!(
            "{}.{}",
            self.header_b64,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, msg.as_bytes(), &mut sig)
            .ok()?;
        Some(format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

struct Registration {
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    auth_method: String,
    confidential: bool,
    name: Option<String>,
}

/// Checks RFC 7591 client metadata; errors are `(error code, description)`.
fn check_client_metadata(meta: &Value) -> Result<Registration, (&'static str, String)> {
    let bad = |msg: String| ("invalid_client_metadata", msg);
    let strings = |key: &str| -> Result<Option<Vec<String>>, (&'static str, String)> {
        match meta.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad(format!("`{key}` must be an array of strings")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(bad(format!("`{key}` must be an array of strings"))),
        }
    };
    let redirect_uris = strings("redirect_uris")?.unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err((
            "invalid_redirect_uri",
            "`redirect_uris` is required: the code flow redirects to one of them".into(),
        ));
    }
    if redirect_uris.len() > 10 {
        return Err((
            "invalid_redirect_uri",
            "register at most 10 redirect URIs".into(),
        ));
    }
    for uri in &redirect_uris {
        check_redirect_uri(uri).map_err(|msg| ("invalid_redirect_uri", msg))?;
    }
    let grant_types = strings("grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]);
    for g in &grant_types {
        if g != "authorization_code" && g != "refresh_token" {
            return Err(bad(format!(
                "grant type `{g}` is not supported; use authorization_code and refresh_token"
            )));
        }
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(bad("`grant_types` must include authorization_code".into()));
    }
    if let Some(types) = strings("response_types")?
        && types.iter().any(|t| t != "code")
    {
        return Err(bad("only response type `code` is supported".into()));
    }
    let auth_method = match meta.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => "client_secret_basic",
        Some(Value::String(m)) => match m.as_str() {
            "none" => "none",
            "client_secret_basic" => "client_secret_basic",
            "client_secret_post" => "client_secret_post",
            other => {
                return Err(bad(format!(
                    "token_endpoint_auth_method `{other}` is not supported; use none, client_secret_basic or client_secret_post"
                )));
            }
        },
        Some(_) => return Err(bad("`token_endpoint_auth_method` must be a string".into())),
    };
    let name = match meta.get("client_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if n.chars().count() <= 200 => Some(n.clone()),
        Some(_) => {
            return Err(bad(
                "`client_name` must be a string of at most 200 characters".into(),
            ));
        }
    };
    if let Some(scope) = meta.get("scope") {
        let ok = scope
            .as_str()
            .is_some_and(|s| s.split(' ').filter(|x| !x.is_empty()).all(is_scope_token));
        if !ok {
            return Err(bad(
                "`scope` must be a space-separated list of scopes".into()
            ));
        }
    }
    Ok(Registration {
        redirect_uris,
        grant_types,
        confidential: auth_method != "none",
        auth_method: auth_method.to_owned(),
        name,
    })
}

/// A redirect URI: absolute, no fragment; `https`, `http` on a loopback host (RFC 8252 §7.3),
/// or a private-use scheme of a native app (RFC 8252 §7.1).
fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(uri)
        .map_err(|e| format!("redirect URI `{uri}` is not an absolute URL ({e})"))?;
    if url.fragment().is_some() {
        return Err(format!("redirect URI `{uri}` must not have a fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => match url.host_str() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(()),
            _ => Err(format!(
                "redirect URI `{uri}` uses plain http on a non-loopback host; use https"
            )),
        },
        "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => {
            Err(format!("redirect URI `{uri}` has a forbidden scheme"))
        }
        _ => Ok(()),
    }
}

/// Query or form parameters; a parameter given twice is refused (RFC 6749 §3.1).
fn parse_params(raw: &[u8]) -> Result<HashMap<String, String>, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw)
        .map_err(|e| format!("the parameters are not URL-encoded: {e}"))?;
    let mut out = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        if out.contains_key(&k) {
            return Err(format!("parameter `{k}` is given more than once"));
        }
        out.insert(k, v);
    }
    Ok(out)
}

fn pct_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
        .ok()
        .and_then(|mut v| v.pop())
        .map_or_else(|| s.to_owned(), |(_, v)| v)
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn sha256(s: impl AsRef<[u8]>) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_ref());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// `n` random bytes, base64url.
fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS random source does not fail on supported platforms; if it ever did, a zeroed
    // buffer must not become a guessable secret, so fall back to aws-lc's generator.
    if getrandom::fill(&mut buf).is_err() {
        let _ = aws_lc_rs::rand::fill(&mut buf);
    }
    URL_SAFE_NO_PAD.encode(buf)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `scheme://authority` of a URL.
fn origin(url: &str) -> String {
    crate::auth::metadata::split_origin(url).0.to_owned()
}

/// A redirect to the client with `params`, `state` and `iss` (RFC 9207).
fn redirect_with(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> HttpResponse {
    let Ok(mut url) = reqwest::Url::parse(redirect_uri) else {
        return error_page(StatusCode::BAD_REQUEST, "the redirect URI is invalid");
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
        q.append_pair("iss", issuer);
    }
    no_store(HttpResponse::Found())
        .insert_header((header::LOCATION, url.as_str()))
        .finish()
}

fn no_store(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    b
}

fn cors(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "authorization, content-type, mcp-protocol-version",
        ));
    b
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    no_store(HttpResponse::build(status))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .content_type("application/json")
        .body(json!({"error": code, "error_description": description}).to_string())
}

fn token_error(code: &str, description: &str) -> HttpResponse {
    oauth_error(StatusCode::BAD_REQUEST, code, description)
}

/// 401 `invalid_client`, with a Basic challenge when Basic was tried (RFC 6749 §5.2).
fn client_error(via_basic: bool, description: &str) -> HttpResponse {
    let mut resp = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    if via_basic {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    resp
}

fn not_started() -> HttpResponse {
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the development authorization server learns its address when the server starts; \
         start it with serve()/start(), or set MCP_URL (or `public_url`) when you mount it yourself",
    )
}

fn page(status: StatusCode, html: &str) -> HttpResponse {
    no_store(HttpResponse::build(status))
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(html.to_owned())
}

fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    page(
        status,
        &shell(
            "Sign-in failed",
            &format!("<h1>Sign-in failed</h1><p>{}</p>", esc(message)),
        ),
    )
}

fn consent_page(
    request_id: &str,
    client: &str,
    redirect_uri: &str,
    scopes: &[String],
    default_user: &str,
) -> String {
    let mut items = String::new();
    for s in scopes {
        let _ = write!(items, "<li><code>{}</code></li>", esc(s));
    }
    if items.is_empty() {
        items.push_str("<li>no scopes: sign-in only</li>");
    }
    let redirect_origin = origin(redirect_uri);
    shell(
        "Sign in",
        &format!(
            r#"<h1>Sign in to this MCP server</h1>
<p><b>{client}</b> asks to act for you, then return to <code>{redirect}</code>, with these scopes:</p>
<ul>{items}</ul>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request" value="{id}">
<label>User name <input name="username" value="{user}" autocomplete="username" maxlength="64"></label>
<p><button name="decision" value="approve">Approve</button> <button name="decision" value="deny">Deny</button></p>
</form>
<p class="note">Development authorization server: any user name signs in, and no password is asked. Never use it in production.</p>"#,
            client = esc(client),
            redirect = esc(&redirect_origin),
            id = esc(request_id),
            user = esc(default_user),
        ),
    )
}

fn shell(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}button{{padding:.4rem 1rem}}input{{padding:.3rem}}.note{{color:#666;font-size:.9rem}}</style></head><body>{}</body></html>"#,
        esc(title),
        body
    )
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn redirect_uris_follow_rfc_8252() {
        assert!(check_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:6274/oauth/callback").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/cb").is_ok());
        assert!(check_redirect_uri("http://evil.example.com/cb").is_err());
        assert!(check_redirect_uri("https://a/cb#frag").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
        assert!(check_redirect_uri("/relative").is_err());
    }

    #[test]
    fn duplicate_parameters_are_refused() {
        assert!(parse_params(b"a=1&b=2").is_ok());
        let e = parse_params(b"code=1&code=2").expect_err("duplicate");
        assert_eq!(e, "parameter `code` is given more than once");
    }

    #[test]
    fn origins() {
        assert_eq!(origin("http://127.0.0.1:3000/mcp"), "http://127.0.0.1:3000");
        assert_eq!(origin("https://a.example"), "https://a.example");
    }

    #[test]
    fn signed_tokens_verify_with_the_published_key() {
        let dev = DevServer::new(DevProvider::new()).expect("key");
        let _ = dev.issuer.set("http://127.0.0.1:1".into());
        let token = dev
            .sign(&json!({"iss": "http://127.0.0.1:1", "aud": "http://127.0.0.1:1/mcp", "exp": unix_now() + 60, "sub": "u"}))
            .expect("signed");
        let set: JwkSet = serde_json::from_slice(&dev.jwks_body).expect("jwks");
        let key = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).expect("key");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&["http://127.0.0.1:1/mcp"]);
        let data = jsonwebtoken::decode::<Value>(&token, &key, &v).expect("verifies");
        assert_eq!(data.claims["sub"], "u");
        assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
    }
}
