//! The upstream identity backend (the OAuth proxy): consent, the redirect to the identity
//! provider with this server's client id and its own PKCE, the callback, the code exchange,
//! who signed in, and the upstream tokens kept encrypted at rest.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::pages::{error_page, page, proxy_consent_page};
use super::params::{parse_params, random_token, redirect_with, sha256, unix_now};
use super::responses::not_started;
use super::state::{AuthRequest, User};
use super::{AuthServer, IDENTITY_SCOPES, PENDING_TTL, REFRESH_TTL};
use crate::auth::jwks::JwksCache;
use crate::auth::verifier::JwtVerifier;
use crate::auth::{TokenVerifier, scopes_from_claims, string_list};
use crate::providers::{ProviderError, ProxyProvider, UpstreamAuth};
use crate::store::{Space, StoreError};

/// The cookie that binds a consent form to the browser that was shown it.
const CSRF_COOKIE: &str = "__Host-mcp-csrf";
/// The cookie that remembers which clients this browser approved.
const CONSENT_COOKIE: &str = "__Host-mcp-consent";
/// At most this many approvals are remembered per browser.
const MAX_REMEMBERED: usize = 20;
/// Claims of the upstream identity copied into this server's tokens.
const IDENTITY_CLAIMS: &[&str] = &[
    "picture",
    "email_verified",
    "preferred_username",
    "nickname",
    "given_name",
    "family_name",
    "roles",
    "permissions",
    "groups",
    "org_id",
    "organization_id",
    "hd",
    "tid",
    "oid",
];

/// The upstream identity provider and what the proxy needs to talk to it.
pub(crate) struct Upstream {
    pub(crate) config: ProxyProvider,
    http: reqwest::Client,
    /// Verifies upstream access tokens, when they are JWTs for an API (or in code).
    pub(crate) access_verifier: Option<Arc<dyn TokenVerifier>>,
    /// Verifies OpenID Connect ID tokens (audience: this server's upstream client id).
    id_verifier: Option<JwtVerifier>,
    cipher: LessSafeKey,
    consent_key: hmac::Key,
    rng: SystemRandom,
}

/// A consent form waiting for the user's answer.
#[derive(Serialize, Deserialize)]
struct ConsentTxn {
    request: AuthRequest,
    csrf: String,
    client_name: String,
}

/// A sign-in at the upstream in progress, by `state`.
#[derive(Serialize, Deserialize)]
struct UpstreamTxn {
    request: AuthRequest,
    verifier: String,
}

/// The upstream tokens of a grant (stored encrypted).
#[derive(Serialize, Deserialize)]
pub(crate) struct UpstreamTokens {
    access_token: String,
    refresh_token: Option<String>,
    /// Seconds since the epoch; `None` when the upstream did not say.
    expires_at: Option<u64>,
}

impl Upstream {
    pub(crate) fn new(config: ProxyProvider) -> Result<Self, ProviderError> {
        let rng = SystemRandom::new();
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
        let cipher = UnboundKey::new(&AES_256_GCM, &key)
            .map(LessSafeKey::new)
            .map_err(|_| ProviderError::Setup("the encryption key is rejected".into()))?;
        let mut consent = [0u8; 32];
        rng.fill(&mut consent)
            .map_err(|_| ProviderError::Setup("no randomness for a key".into()))?;
        let http = crate::auth::http_client();
        let jwks = config
            .jwks_url
            .as_ref()
            .map(|u| Arc::new(JwksCache::new(u.clone(), http.clone())));
        let access_verifier: Option<Arc<dyn TokenVerifier>> = match (&config.verifier, &jwks) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(jwks)) if config.audience.is_some() || config.forward_resource => {
                let v = JwtVerifier::jwks(jwks.clone()).issuer(config.issuer.clone());
                Some(Arc::new(match &config.audience {
                    Some(a) => v.audience(a.clone()),
                    None => v,
                }))
            }
            _ => None,
        };
        let id_verifier = jwks.map(|jwks| {
            JwtVerifier::jwks(jwks)
                .issuer(config.issuer.clone())
                .audience(config.client_id.clone())
        });
        Ok(Upstream {
            config,
            http,
            access_verifier,
            id_verifier,
            cipher,
            consent_key: hmac::Key::new(hmac::HMAC_SHA256, &consent),
            rng,
        })
    }

    fn seal(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut out = plain.to_vec();
        self.cipher
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut out)
            .ok()?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        Some(sealed)
    }

    fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        let (nonce, rest) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = rest.to_vec();
        let plain = self
            .cipher
            .open_in_place(nonce, Aad::empty(), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }

    fn mac(&self, client_id: &str) -> String {
        let tag = hmac::sign(&self.consent_key, client_id.as_bytes());
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
    }

    /// The clients this browser approved, from its consent cookie (entries with a bad MAC are
    /// ignored).
    fn approved(&self, req: &HttpRequest) -> Vec<String> {
        let Some(value) = cookie(req, CONSENT_COOKIE) else {
            return Vec::new();
        };
        value
            .split('.')
            .filter_map(|entry| {
                let (id, mac) = entry.split_once('~')?;
                aws_lc_rs::constant_time::verify_slices_are_equal(
                    mac.as_bytes(),
                    self.mac(id).as_bytes(),
                )
                .is_ok()
                .then(|| id.to_owned())
            })
            .collect()
    }

    fn consent_cookie(&self, mut clients: Vec<String>, client_id: &str) -> String {
        clients.retain(|c| c != client_id);
        clients.push(client_id.to_owned());
        let skip = clients.len().saturating_sub(MAX_REMEMBERED);
        let value: Vec<String> = clients
            .iter()
            .skip(skip)
            .map(|c| format!("{c}~{}", self.mac(c)))
            .collect();
        format!(
            "{CONSENT_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=2592000",
            value.join(".")
        )
    }
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(resp: &mut HttpResponse, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The token endpoint's answer, JSON or (GitHub) form-encoded.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    expires_in: Option<Value>,
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl AuthServer {
    fn upstream(&self) -> Option<&Upstream> {
        match &self.identity {
            super::Identity::Upstream(u) => Some(u),
            super::Identity::Dev(_) => None,
        }
    }

    /// After the authorization request is checked: the consent page, or (approved before in
    /// this browser, or auto-approve) straight to the upstream.
    pub(super) async fn proxy_authorize(
        &self,
        req: &HttpRequest,
        request: AuthRequest,
        client_name: &str,
    ) -> HttpResponse {
        let Some(up) = self.upstream() else {
            return not_started();
        };
        if up.config.auto_approve || up.approved(req).contains(&request.client_id) {
            return self.to_upstream(request).await;
        }
        let txn_id = random_token(24);
        let csrf = random_token(24);
        let html = proxy_consent_page(
            self.paths().authorize,
            &txn_id,
            &csrf,
            client_name,
            &request.redirect_uri,
            &request.scopes,
            &up.config.auth_endpoint,
        );
        let txn = ConsentTxn {
            request,
            csrf: csrf.clone(),
            client_name: client_name.to_owned(),
        };
        if let Err(e) = self
            .save(
                Space::Transactions,
                &format!("consent:{txn_id}"),
                &txn,
                Some(PENDING_TTL),
            )
            .await
        {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
        }
        let mut resp = page(StatusCode::OK, &html);
        set_cookie(
            &mut resp,
            &format!(
                "{CSRF_COOKIE}={csrf}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=600"
            ),
        );
        resp
    }

    /// `POST /authorize`: the consent form's answer. The form must come with the cookie set
    /// when it was shown (SameSite=Strict), and its token must match both.
    pub(super) async fn proxy_consent(
        &self,
        req: &HttpRequest,
        params: &std::collections::HashMap<String, String>,
        issuer: &str,
    ) -> HttpResponse {
        let Some(up) = self.upstream() else {
            return not_started();
        };
        let Some(txn_id) = params.get("request") else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "the consent form has no request id",
            );
        };
        let txn: ConsentTxn = match self
            .take(Space::Transactions, &format!("consent:{txn_id}"))
            .await
        {
            Ok(Some(t)) => t,
            Ok(None) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "this consent request has expired or was already answered; start again from the client",
                );
            }
            Err(e) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        };
        let form_csrf = params.get("csrf").map(String::as_str).unwrap_or("");
        let cookie_csrf = cookie(req, CSRF_COOKIE);
        let same = |a: &str, b: &str| {
            aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
        };
        if !(cookie_csrf.as_deref().is_some_and(|c| same(c, &txn.csrf))
            && same(form_csrf, &txn.csrf))
        {
            return error_page(
                StatusCode::FORBIDDEN,
                "the consent form's security token is missing or wrong (was it posted from another \
                 site, or with cookies off?); start again from the client",
            );
        }
        if params.get("decision").map(String::as_str) != Some("approve") {
            return redirect_with(
                &txn.request.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the user denied the request"),
                ],
                txn.request.state.as_deref(),
                issuer,
            );
        }
        tracing::debug!(target: "mcp_runtime::auth", client = %txn.client_name, "consent given");
        let cookie = up.consent_cookie(up.approved(req), &txn.request.client_id);
        let mut resp = self.to_upstream(txn.request).await;
        set_cookie(&mut resp, &cookie);
        resp
    }

    /// Redirects the browser to the upstream, with this server's client id, its own PKCE and
    /// a `state` that is only a key to the server-side transaction.
    async fn to_upstream(&self, request: AuthRequest) -> HttpResponse {
        let (Some(up), Some(issuer)) = (self.upstream(), self.issuer()) else {
            return not_started();
        };
        let state = random_token(24);
        let verifier = random_token(48);
        let challenge = URL_SAFE_NO_PAD.encode(sha256(&verifier));
        let mut scopes: Vec<String> = up.config.scopes.clone();
        for s in &request.scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let Ok(mut url) = reqwest::Url::parse(&up.config.auth_endpoint) else {
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the upstream authorization endpoint is not a URL",
            );
        };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code");
            q.append_pair("client_id", &up.config.client_id);
            q.append_pair(
                "redirect_uri",
                &format!("{issuer}{}", self.paths().callback),
            );
            q.append_pair("scope", &scopes.join(" "));
            q.append_pair("state", &state);
            q.append_pair("code_challenge", &challenge);
            q.append_pair("code_challenge_method", "S256");
            if up.config.forward_resource
                && let Some(r) = self.resource.get()
            {
                q.append_pair("resource", r);
            }
            for (k, v) in &up.config.extra_authorize_params {
                q.append_pair(k, v);
            }
        }
        let txn = UpstreamTxn { request, verifier };
        if let Err(e) = self
            .save(
                Space::Transactions,
                &format!("upstream:{state}"),
                &txn,
                Some(PENDING_TTL),
            )
            .await
        {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
        }
        HttpResponse::Found()
            .insert_header((header::LOCATION, url.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    }

    /// `GET /oauth/callback`: the upstream's answer.
    pub(super) async fn callback(&self, req: &HttpRequest, _body: &Bytes) -> HttpResponse {
        let (Some(up), Some(issuer)) = (self.upstream(), self.issuer()) else {
            return not_started();
        };
        let params = match parse_params(req.query_string().as_bytes()) {
            Ok(p) => p,
            Err(msg) => return error_page(StatusCode::BAD_REQUEST, &msg),
        };
        let Some(state) = params.get("state") else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "the identity provider's answer has no state",
            );
        };
        let txn: UpstreamTxn = match self
            .take(Space::Transactions, &format!("upstream:{state}"))
            .await
        {
            Ok(Some(t)) => t,
            Ok(None) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "this sign-in is unknown, expired or already finished (state); start again from the client",
                );
            }
            Err(e) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        };
        let (redirect_uri, client_state) =
            (txn.request.redirect_uri.clone(), txn.request.state.clone());
        let fail = |code: &str, msg: &str| {
            redirect_with(
                &redirect_uri,
                &[("error", code), ("error_description", msg)],
                client_state.as_deref(),
                issuer,
            )
        };
        if let Some(error) = params.get("error") {
            let description = params.get("error_description").map_or_else(
                || format!("the identity provider answered {error}"),
                |d| format!("the identity provider answered {error}: {d}"),
            );
            let code = if error == "access_denied" {
                "access_denied"
            } else {
                "server_error"
            };
            return fail(code, &description);
        }
        let Some(code) = params.get("code") else {
            return fail(
                "server_error",
                "the identity provider's answer has neither a code nor an error",
            );
        };
        let answer = match self.exchange(up, issuer, code, &txn.verifier).await {
            Ok(a) => a,
            Err(msg) => {
                tracing::warn!(target: "mcp_runtime::auth", "upstream code exchange failed: {msg}");
                return fail("temporarily_unavailable", &msg);
            }
        };
        let Some(access_token) = answer.access_token.clone() else {
            return fail(
                "server_error",
                "the identity provider's token answer has no access_token",
            );
        };
        let (claims, granted_upstream) = match self.identify(up, &answer, &access_token).await {
            Ok(found) => found,
            Err(msg) => return fail("access_denied", &msg),
        };
        let Some(sub) = claims.get("sub").and_then(Value::as_str).map(str::to_owned) else {
            return fail(
                "access_denied",
                "the identity provider's token names no subject (`sub`)",
            );
        };
        // The client gets the scopes it asked for that the upstream granted (identity scopes
        // are this server's to give).
        let mut request = txn.request;
        request.scopes.retain(|s| {
            IDENTITY_SCOPES.contains(&s.as_str()) || granted_upstream.iter().any(|g| g == s)
        });
        let grant = random_token(16);
        let tokens = UpstreamTokens {
            access_token,
            refresh_token: answer.refresh_token.clone(),
            expires_at: expires_at(answer.expires_in.as_ref()),
        };
        if let Err(e) = self.save_upstream(up, &grant, &tokens).await {
            return fail("temporarily_unavailable", &e.to_string());
        }
        let mut extra = Map::new();
        for k in IDENTITY_CLAIMS {
            if let Some(v) = claims.get(*k) {
                extra.insert((*k).to_owned(), v.clone());
            }
        }
        let user = User {
            name: claims
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            email: claims
                .get("email")
                .and_then(Value::as_str)
                .map(str::to_owned),
            sub,
            extra,
            grant: Some(grant),
        };
        self.grant(request, user).await
    }

    /// The authorization-code exchange at the upstream.
    async fn exchange(
        &self,
        up: &Upstream,
        issuer: &str,
        code: &str,
        verifier: &str,
    ) -> Result<TokenAnswer, String> {
        let redirect = format!("{issuer}{}", self.paths().callback);
        let form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier),
        ];
        self.upstream_token_request(up, form).await
    }

    async fn upstream_token_request(
        &self,
        up: &Upstream,
        mut form: Vec<(&str, &str)>,
    ) -> Result<TokenAnswer, String> {
        let mut rb = up
            .http
            .post(&up.config.token_endpoint)
            .header(header::ACCEPT.as_str(), "application/json");
        let secret = up
            .config
            .client_secret
            .as_ref()
            .map(|s| s.expose().to_owned());
        match (&secret, up.config.token_auth) {
            (Some(secret), UpstreamAuth::ClientSecretBasic) => {
                rb = rb.basic_auth(&up.config.client_id, Some(secret));
            }
            (Some(secret), UpstreamAuth::ClientSecretPost) => {
                form.push(("client_id", &up.config.client_id));
                form.push(("client_secret", secret));
            }
            (None, _) => form.push(("client_id", &up.config.client_id)),
        }
        let resp =
            rb.form(&form).send().await.map_err(|e| {
                format!("the identity provider's token endpoint is unreachable ({e})")
            })?;
        let status = resp.status();
        let form_encoded = resp
            .headers()
            .get(header::CONTENT_TYPE.as_str())
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("the identity provider's token answer broke off ({e})"))?;
        let parsed: Result<TokenAnswer, String> = if form_encoded {
            serde_urlencoded::from_bytes(&body)
                .map_err(|e| format!("the identity provider's token answer is malformed ({e})"))
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| format!("the identity provider's token answer is not JSON ({e})"))
        };
        let answer = match parsed {
            Ok(a) => a,
            Err(_) if !status.is_success() => {
                return Err(format!(
                    "the identity provider's token endpoint answered {status}"
                ));
            }
            Err(e) => return Err(e),
        };
        if let Some(error) = &answer.error {
            return Err(format!(
                "the identity provider refused the code: {error}{}",
                answer
                    .error_description
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ));
        }
        if !status.is_success() {
            return Err(format!(
                "the identity provider's token endpoint answered {status}"
            ));
        }
        Ok(answer)
    }

    /// Who signed in: the verified ID token's claims, else the verified access token's (a JWT
    /// for an API, or a verifier in code); and the scopes the upstream granted (the token
    /// answer's `scope`, and the access token's scopes, permissions and roles).
    async fn identify(
        &self,
        up: &Upstream,
        answer: &TokenAnswer,
        access_token: &str,
    ) -> Result<(Map<String, Value>, Vec<String>), String> {
        let resource = self.resource.get().map(String::as_str).unwrap_or("");
        let mut granted: Vec<String> = answer
            .scope
            .as_deref()
            .map(|s| {
                s.split([' ', ','])
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let access = match &up.access_verifier {
            Some(v) => Some(
                v.verify(access_token, resource)
                    .await
                    .map_err(|e| format!("the upstream access token is not valid: {e}")),
            ),
            None => None,
        };
        let id = match (&up.id_verifier, &answer.id_token) {
            (Some(v), Some(id_token)) => Some(
                v.verify(id_token, "")
                    .await
                    .map_err(|e| format!("the identity provider's ID token is not valid: {e}")),
            ),
            _ => None,
        };
        if let Some(Ok(a)) = &access {
            granted.extend(scopes_from_claims(&a.claims));
            granted.extend(string_list(a.claims.get("permissions")));
            granted.extend(string_list(a.claims.get("roles")));
        }
        let claims = match (id, access) {
            (Some(Ok(id)), access) => {
                if let Some(Ok(a)) = access
                    && a.claims.get("sub") != id.claims.get("sub")
                {
                    return Err("the ID token and the access token name different users".into());
                }
                granted.extend(string_list(id.claims.get("permissions")));
                granted.extend(string_list(id.claims.get("roles")));
                id.claims
            }
            (Some(Err(e)), _) => return Err(e),
            (None, Some(Ok(a))) => a.claims,
            (None, Some(Err(e))) => return Err(e),
            (None, None) => {
                return Err(
                    "the identity provider returned no ID token (ask for the `openid` scope) and \
                     its access token cannot be verified here (set MCP_USE_OAUTH_PROXY_AUDIENCE, \
                     or a verifier in code)"
                        .into(),
                );
            }
        };
        Ok((claims, granted))
    }

    async fn save_upstream(
        &self,
        up: &Upstream,
        grant: &str,
        tokens: &UpstreamTokens,
    ) -> Result<(), StoreError> {
        let plain = serde_json::to_vec(tokens).map_err(|e| StoreError(e.to_string()))?;
        let sealed = up
            .seal(&plain)
            .ok_or_else(|| StoreError("encrypting the upstream tokens failed".into()))?;
        self.store
            .put(Space::UpstreamTokens, grant, sealed, Some(REFRESH_TTL))
            .await
    }

    async fn load_upstream(
        &self,
        up: &Upstream,
        grant: &str,
    ) -> Result<Option<UpstreamTokens>, StoreError> {
        let Some(sealed) = self.store.get(Space::UpstreamTokens, grant).await? else {
            return Ok(None);
        };
        // Sealed with another process's key (no MCP_STORE_ENCRYPTION_KEY): as if absent.
        Ok(up
            .open(&sealed)
            .and_then(|plain| serde_json::from_slice(&plain).ok()))
    }

    /// Whether clients get the upstream's own access tokens (pass-through mode).
    pub(super) fn pass_through(&self) -> bool {
        self.upstream().is_some_and(|u| u.config.pass_through)
    }

    /// Pass-through: the grant's upstream access token and its remaining lifetime (this
    /// server's access-token lifetime when the upstream did not say).
    pub(super) async fn pass_through_token(
        &self,
        grant: &str,
    ) -> Result<Option<(String, u64)>, StoreError> {
        let Some(up) = self.upstream() else {
            return Ok(None);
        };
        Ok(self.load_upstream(up, grant).await?.map(|t| {
            let left = t
                .expires_at
                .map_or(self.access_ttl.as_secs(), |e| e.saturating_sub(unix_now()));
            (t.access_token, left)
        }))
    }

    /// The upstream access token of a grant, for tools (`Auth::upstream_token`).
    pub(crate) async fn upstream_access_token(
        &self,
        grant: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some(up) = self.upstream() else {
            return Ok(None);
        };
        Ok(self.load_upstream(up, grant).await?.map(|t| t.access_token))
    }

    /// When a client refreshes: refreshes the upstream tokens of its grant if they expire
    /// within a minute and the upstream gave a refresh token. Failures are logged; the grant
    /// keeps what it had.
    pub(super) async fn refresh_upstream(&self, grant: &str) {
        let Some(up) = self.upstream() else { return };
        let Ok(Some(tokens)) = self.load_upstream(up, grant).await else {
            return;
        };
        let (Some(refresh), Some(expires_at)) = (&tokens.refresh_token, tokens.expires_at) else {
            return;
        };
        if expires_at > unix_now() + 60 {
            return;
        }
        let form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        match self.upstream_token_request(up, form).await {
            Ok(answer) => {
                let Some(access_token) = answer.access_token else {
                    return;
                };
                let renewed = UpstreamTokens {
                    access_token,
                    refresh_token: answer
                        .refresh_token
                        .or_else(|| tokens.refresh_token.clone()),
                    expires_at: expires_at_from(answer.expires_in.as_ref()),
                };
                if let Err(e) = self.save_upstream(up, grant, &renewed).await {
                    tracing::warn!(target: "mcp_runtime::auth", "saving refreshed upstream tokens failed: {e}");
                }
            }
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::auth", "refreshing upstream tokens failed: {e}")
            }
        }
    }
}

fn expires_at(expires_in: Option<&Value>) -> Option<u64> {
    expires_at_from(expires_in)
}

/// `expires_in` (a number, or a string of one, as some providers send) as an absolute time.
fn expires_at_from(expires_in: Option<&Value>) -> Option<u64> {
    let secs = match expires_in? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some(unix_now() + secs.min(Duration::from_secs(366 * 24 * 3600).as_secs()))
}
