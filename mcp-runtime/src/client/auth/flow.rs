//! OAuth for one MCP server: on a 401, discovery, a client identity, the authorization
//! request through the browser and the loopback callback, the code exchange; refresh before
//! expiry and after a 401; step-up on a 403 `insufficient_scope`, with a limit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;

use super::assertion::ClientKey;
use super::authenticator::Authenticator;
use super::browser::Opener;
use super::callback::{Callback, CallbackConfig, judge};
use super::challenge::Challenge;
use super::discovery::{self, AuthServerMetadata, Discovered};
use super::grants::{AssertionSource, EnterpriseGrant};
use super::pkce;
use super::secret::Secret;
use super::store::{FileTokenStore, MemoryTokenStore, StoredTokens, TokenStore};
use super::token::{self, TokenAnswer, TokenAuthMethod};
use crate::client::ClientError;

/// A hook that receives each step of a sign-in, for `--verbose` output (never a secret).
pub type StepLog = Arc<dyn Fn(&str) + Send + Sync>;

/// How the client gets its tokens.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Grant {
    /// A user signs in through the browser (authorization code with PKCE), the default.
    #[default]
    AuthorizationCode,
    /// A machine with no user: the client's own credentials (OAuth 2.1 §4.2), a client the
    /// server's operator registered with a secret or a key. No browser, no refresh token: a
    /// new token is asked for when the last one expires.
    ClientCredentials,
    /// Workload identity federation: a JWT the workload's platform issued (a Kubernetes
    /// service-account token, a cloud identity token) presented with the JWT-bearer grant
    /// (RFC 7523 §2.1). A `client_id` is sent when one is configured.
    JwtBearer(AssertionSource),
    /// Enterprise-managed authorization: the user's ID token exchanged at the company's
    /// identity provider for an ID-JAG (RFC 8693), presented with the JWT-bearer grant as the
    /// configured client.
    Enterprise(EnterpriseGrant),
}

impl Grant {
    /// Whether a user signs in through the browser.
    fn browser(&self) -> bool {
        matches!(self, Grant::AuthorizationCode)
    }
}

/// The settings of OAuth for one server. The defaults sign in with dynamic registration and
/// a callback on `http://127.0.0.1:8080/callback`, and keep tokens under `~/.mcp_use/tokens`.
#[derive(Clone)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// A client registered by hand (else a stored or dynamic registration).
    pub client_id: Option<String>,
    /// The authorization server (its issuer) that client is registered with: its credentials
    /// go to no other (RFC 6749 §10.4). Unset, the issuer of `metadata` when given, else the
    /// first one it signs in with: a server that moves to another issuer then needs this set.
    pub client_issuer: Option<String>,
    /// Its secret (a confidential client).
    pub client_secret: Option<Secret>,
    /// Its private key: it authenticates with signed assertions (`private_key_jwt`, RFC 7523)
    /// instead of a secret.
    pub client_key: Option<Arc<ClientKey>>,
    /// How tokens are obtained (default: a user signs in through the browser).
    pub grant: Grant,
    /// Ask for DPoP-bound tokens (RFC 9449): a key is made for this client, every token
    /// request carries a proof with it, and every request to the server a fresh proof beside
    /// `Authorization: DPoP` (default: off; the server must accept DPoP).
    pub dpop: bool,
    /// How it authenticates at the token endpoint (default: what the server supports).
    pub token_auth_method: Option<TokenAuthMethod>,
    /// Scopes to ask for, besides what the server's challenge asks.
    pub scope: Option<String>,
    /// The loopback callback.
    pub callback: CallbackConfig,
    /// A Client ID Metadata Document URL, used as client id where the server supports it.
    pub client_metadata_url: Option<String>,
    /// The name shown on consent pages when registering.
    pub client_name: String,
    /// The authorization server's metadata, to skip its discovery.
    pub metadata: Option<AuthServerMetadata>,
    /// How the browser is opened.
    pub opener: Opener,
    /// Where tokens live (default `~/.mcp_use/tokens`, or memory without a home).
    pub store: Option<Arc<dyn TokenStore>>,
    /// How many times one set of scopes is asked for after 403s before giving up.
    pub max_step_ups: u32,
    /// How long the user has to finish signing in.
    pub authorize_timeout: Duration,
    /// Receives each step.
    pub step_log: Option<StepLog>,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            client_id: None,
            client_issuer: None,
            client_secret: None,
            client_key: None,
            grant: Grant::AuthorizationCode,
            dpop: false,
            token_auth_method: None,
            scope: None,
            callback: CallbackConfig::default(),
            client_metadata_url: None,
            client_name: "mcp-runtime client".into(),
            metadata: None,
            opener: Opener::System,
            store: None,
            max_step_ups: 2,
            authorize_timeout: Duration::from_secs(300),
            step_log: None,
        }
    }
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("grant", &self.grant)
            .field("scope", &self.scope)
            .field("callback", &self.callback)
            .field("client_metadata_url", &self.client_metadata_url)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
pub(super) struct State {
    loaded: bool,
    tokens: Option<StoredTokens>,
    discovered: Option<Discovered>,
    /// Sign-ins per requested scope set, after 403s.
    step_ups: HashMap<String, u32>,
}

/// OAuth 2.1 for one MCP server, as the MCP authorization spec describes it. Give it to
/// [`ClientBuilder::auth`](crate::client::ClientBuilder::auth).
pub struct OAuth {
    pub(super) server: String,
    pub(super) cfg: OAuthConfig,
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) http: reqwest::Client,
    state: tokio::sync::Mutex<State>,
    /// The DPoP key (with `cfg.dpop`), and the nonces the authorization server and the MCP
    /// server last gave.
    dpop: Option<super::dpop::DpopKey>,
    as_nonce: std::sync::Mutex<Option<String>>,
    rs_nonce: std::sync::Mutex<Option<String>>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("server", &self.server)
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl OAuth {
    /// OAuth for the MCP server at `server` (its endpoint URL).
    pub fn new(server: &str, cfg: OAuthConfig) -> Result<Self, ClientError> {
        url::Url::parse(server)
            .map_err(|e| ClientError::Config(format!("`{server}` is not a URL: {e}")))?;
        let store = cfg
            .store
            .clone()
            .unwrap_or_else(|| match FileTokenStore::default_dir() {
                Some(dir) => Arc::new(FileTokenStore::new(dir)) as Arc<dyn TokenStore>,
                None => Arc::new(MemoryTokenStore::new()),
            });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("mcp-runtime-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::http("no HTTP client", e))?;
        let dpop = cfg.dpop.then(super::dpop::DpopKey::generate).transpose()?;
        Ok(OAuth {
            server: server.to_owned(),
            cfg,
            store,
            http,
            state: tokio::sync::Mutex::new(State::default()),
            dpop,
            as_nonce: std::sync::Mutex::new(None),
            rs_nonce: std::sync::Mutex::new(None),
        })
    }

    /// The tokens held now, if any.
    pub async fn tokens(&self) -> Option<StoredTokens> {
        let mut st = self.state.lock().await;
        self.load(&mut st);
        st.tokens.clone()
    }

    /// Signs out: revokes the tokens at the authorization server when it offers revocation
    /// (RFC 7009: the refresh token, then the access token, as the client that got them), then
    /// forgets them here and in the store. A revocation that fails (the server unreachable, no
    /// registration left to revoke as) is reported in the step log and does not stop the
    /// sign-out: the tokens are forgotten here all the same.
    pub async fn sign_out(&self) -> Result<(), ClientError> {
        let (tokens, known) = {
            let mut st = self.state.lock().await;
            self.load(&mut st);
            st.loaded = true;
            (st.tokens.take(), st.discovered.clone())
        };
        if let Some(tokens) = &tokens
            && let Err(e) = self.revoke_at_server(tokens, known).await
        {
            self.step(&format!(
                "the tokens were not revoked at the authorization server ({}); they are \
                 forgotten here",
                crate::model::Report(&e)
            ));
        }
        self.store.forget_tokens(&self.server)
    }

    /// Revokes `tokens` at their issuer's revocation endpoint, if it has one.
    async fn revoke_at_server(
        &self,
        tokens: &StoredTokens,
        known: Option<Discovered>,
    ) -> Result<(), ClientError> {
        let d = match known.filter(|d| d.metadata.issuer == tokens.issuer) {
            Some(d) => d,
            None => {
                let log = |m: &str| self.step(m);
                let metadata = match &self.cfg.metadata {
                    Some(m) if m.issuer == tokens.issuer => m.clone(),
                    _ => discovery::as_metadata(&self.http, &tokens.issuer, &log).await?,
                };
                Discovered {
                    resource: String::new(),
                    resource_scopes: None,
                    metadata,
                }
            }
        };
        let Some(endpoint) = d.metadata.revocation_endpoint.clone() else {
            self.step(&format!(
                "{} offers no revocation endpoint: the tokens are forgotten here only",
                tokens.issuer
            ));
            return Ok(());
        };
        super::guard::check_url("revocation endpoint", &endpoint)?;
        let (creds, _) = self.identity(&d, None).await?;
        let revoke = |token: String, hint: &'static str| {
            let endpoint = endpoint.clone();
            let creds = &creds;
            async move {
                self.step(&format!("revoking the {hint} at {endpoint}"));
                token::revoke(&self.http, &endpoint, creds, &token, hint)
                    .await
                    .map_err(ClientError::auth)
            }
        };
        if let Some(refresh) = tokens.refresh_token.clone() {
            revoke(refresh, "refresh_token").await?;
        }
        revoke(tokens.access_token.clone(), "access_token").await
    }

    /// Makes the next connection sign in anew, while the stored tokens stay until that sign-in
    /// succeeds (they are replaced then): a `login` that fails or is abandoned leaves the
    /// working tokens in place. [`sign_out`](Self::sign_out) forgets them at once.
    pub async fn require_sign_in(&self) {
        let mut st = self.state.lock().await;
        st.tokens = None;
        st.loaded = true;
    }

    /// Forgets this server's client registration too (a new one is made at the next sign-in).
    pub async fn forget_registration(&self) -> Result<(), ClientError> {
        self.store.forget_registration(&self.server)
    }

    /// The issuer the configured client is bound to: `client_issuer`, else the configured
    /// metadata's.
    pub(super) fn bound_issuer(&self) -> Option<&str> {
        self.cfg
            .client_issuer
            .as_deref()
            .or(self.cfg.metadata.as_ref().map(|m| m.issuer.as_str()))
    }

    /// The MCP server these credentials are for.
    pub fn server(&self) -> &str {
        &self.server
    }

    pub(super) fn step(&self, msg: &str) {
        tracing::debug!(target: "mcp_runtime::client", "oauth: {msg}");
        if let Some(log) = &self.cfg.step_log {
            log(msg);
        }
    }

    fn load(&self, st: &mut State) {
        if st.loaded {
            return;
        }
        st.loaded = true;
        match self.store.load_tokens(&self.server) {
            Ok(t) => st.tokens = t,
            Err(e) => tracing::warn!(target: "mcp_runtime::client", "{e}"),
        }
    }

    async fn discover(&self, challenge: &Challenge) -> Result<Discovered, ClientError> {
        let log = |m: &str| self.step(m);
        discovery::discover(
            &self.http,
            &self.server,
            challenge,
            self.cfg.metadata.as_ref(),
            &log,
        )
        .await
    }

    /// The scopes of a new sign-in: the challenge's with the configured ones, else the
    /// resource's `scopes_supported`, else none; and `offline_access` when the authorization
    /// server lists it.
    fn select_scope(&self, d: &Discovered, challenge: &Challenge) -> Option<String> {
        let mut scopes: Vec<String> = Vec::new();
        for s in [challenge.scope.as_deref(), self.cfg.scope.as_deref()]
            .into_iter()
            .flatten()
        {
            union_into(&mut scopes, s);
        }
        if scopes.is_empty()
            && let Some(list) = &d.resource_scopes
        {
            union_into(&mut scopes, &list.join(" "));
        }
        // SEP-2207: ask for a refresh token where the authorization server offers them (a
        // machine asks for a new token instead).
        if self.cfg.grant.browser()
            && d.metadata
                .scopes_supported
                .as_ref()
                .is_some_and(|s| s.iter().any(|x| x == "offline_access"))
        {
            union_into(&mut scopes, "offline_access");
        }
        (!scopes.is_empty()).then(|| scopes.join(" "))
    }

    /// A whole sign-in for `scope`: through the browser, or with the client's credentials.
    async fn authorize(&self, st: &mut State, scope: Option<String>) -> Result<(), ClientError> {
        let d = st
            .discovered
            .clone()
            .ok_or_else(|| ClientError::auth("nothing discovered"))?;
        if !self.cfg.grant.browser() {
            return self.machine_grant(st, &d, scope).await;
        }
        discovery::check_for_browser(&d.metadata)?;
        let mut retried = false;
        loop {
            let callback = Callback::bind(&self.cfg.callback).await?;
            let (creds, stored) = self.identity(&d, Some(&callback.redirect_uri)).await?;
            let (verifier, challenge) = pkce::pair()?;
            let state = pkce::random(24)?;
            let mut url = url::Url::parse(&d.metadata.authorization_endpoint).map_err(|_| {
                ClientError::auth(format!(
                    "the authorization endpoint `{}` is not a URL",
                    d.metadata.authorization_endpoint
                ))
            })?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("response_type", "code")
                    .append_pair("client_id", &creds.client_id)
                    .append_pair("redirect_uri", &callback.redirect_uri)
                    .append_pair("code_challenge", &challenge)
                    .append_pair("code_challenge_method", "S256")
                    .append_pair("state", &state)
                    .append_pair("resource", &d.resource);
                if let Some(s) = &scope {
                    q.append_pair("scope", s);
                }
            }
            super::guard::check_url("authorization endpoint", url.as_str())?;
            self.step(&format!(
                "authorization request to {} (scope: {}, resource: {})",
                d.metadata.authorization_endpoint,
                scope.as_deref().unwrap_or("none"),
                d.resource
            ));
            let issuer = d.metadata.issuer.clone();
            let advertised = d.metadata.authorization_response_iss_parameter_supported;
            let judge = |p: &HashMap<String, String>| judge(p, &state, &issuer, advertised);
            // The callback listens while the browser is being opened (an opener may be the
            // one that follows the redirects to it).
            let wait = callback.wait(self.cfg.authorize_timeout, &state, judge);
            tokio::pin!(wait);
            let params = tokio::select! {
                params = &mut wait => params?,
                opened = self.cfg.opener.open(url.as_str()) => {
                    opened.map_err(|e| ClientError::auth(format!("cannot open the browser: {e}")))?;
                    wait.await?
                }
            };
            judge(&params).map_err(ClientError::auth)?;
            self.step("authorization code received; exchanging it");
            let code = params.get("code").cloned().unwrap_or_default();
            let form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("redirect_uri", callback.redirect_uri.clone()),
                ("code_verifier", verifier),
                ("resource", d.resource.clone()),
            ];
            match self.token_request(&d, &creds, form).await {
                Ok(answer) => {
                    self.keep(st, &d, answer, scope, None);
                    return Ok(());
                }
                Err(f) if stored && !retried && f.error.as_deref() == Some("invalid_client") => {
                    // The server forgot the registration: register again, once.
                    self.step(
                        "the stored registration is unknown to the server; registering again",
                    );
                    self.store.forget_registration(&self.server)?;
                    retried = true;
                }
                Err(f) => return Err(f.into()),
            }
        }
    }

    /// A request to the token endpoint of `d` as `creds` (with a DPoP proof, with `cfg.dpop`).
    pub(super) async fn token_request(
        &self,
        d: &Discovered,
        creds: &token::ClientCreds,
        form: Vec<(&str, String)>,
    ) -> Result<TokenAnswer, token::TokenFailure> {
        let dpop = self.dpop.as_ref().map(|key| token::Dpop {
            key,
            nonce: &self.as_nonce,
        });
        token::request(
            &self.http,
            &d.metadata.token_endpoint,
            creds,
            form,
            dpop.as_ref(),
        )
        .await
    }

    /// The `Authorization` header for `tokens` (and, for a DPoP-bound token, its proof for a
    /// request with `method` to `url`).
    fn credentials(
        &self,
        tokens: &StoredTokens,
        method: &str,
        url: &str,
    ) -> Result<Vec<(String, String)>, ClientError> {
        match &self.dpop {
            Some(key) if tokens.token_type.eq_ignore_ascii_case("dpop") => {
                let nonce = self
                    .rs_nonce
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let proof = key.proof(method, url, Some(&tokens.access_token), nonce.as_deref())?;
                Ok(vec![
                    (
                        "authorization".to_owned(),
                        format!("DPoP {}", tokens.access_token),
                    ),
                    ("dpop".to_owned(), proof),
                ])
            }
            _ => Ok(vec![(
                "authorization".to_owned(),
                format!("Bearer {}", tokens.access_token),
            )]),
        }
    }

    /// Stores a token answer.
    pub(super) fn keep(
        &self,
        st: &mut State,
        d: &Discovered,
        a: TokenAnswer,
        scope: Option<String>,
        old_refresh: Option<String>,
    ) {
        let tokens = StoredTokens {
            server: self.server.clone(),
            issuer: d.metadata.issuer.clone(),
            expires_at: a.expires_in().map(|s| now().saturating_add(s)),
            token_type: match a.token_type.as_deref() {
                Some(t) if t.eq_ignore_ascii_case("dpop") => "DPoP".into(),
                _ => "Bearer".into(),
            },
            refresh_token: a.refresh_token.or(old_refresh),
            scope: a.scope.or(scope),
            access_token: a.access_token,
        };
        self.step(&format!(
            "signed in (scope: {}, expires in: {}, refresh token: {}, token type: {})",
            tokens.scope.as_deref().unwrap_or("none"),
            tokens.expires_at.map_or("unknown".into(), |t| format!(
                "{} s",
                t.saturating_sub(now())
            )),
            if tokens.refresh_token.is_some() {
                "yes"
            } else {
                "no"
            },
            tokens.token_type
        ));
        if let Err(e) = self.store.save_tokens(&tokens) {
            tracing::warn!(target: "mcp_runtime::client", "{e}");
        }
        st.tokens = Some(tokens);
    }

    /// The refresh-token grant; `Err` leaves the tokens as they were.
    async fn refresh(&self, st: &mut State) -> Result<(), ClientError> {
        let (Some(t), Some(d)) = (st.tokens.clone(), st.discovered.clone()) else {
            return Err(ClientError::auth("nothing to refresh"));
        };
        let Some(refresh) = t.refresh_token.clone() else {
            return Err(ClientError::auth("no refresh token"));
        };
        // A refresh token goes back only to the issuer that issued it (RFC 6749 §10.4).
        if t.issuer != d.metadata.issuer {
            return Err(ClientError::auth(format!(
                "the refresh token is from {}, and the server now uses {}: not sending it there",
                t.issuer, d.metadata.issuer
            )));
        }
        let (creds, _) = self.identity(&d, None).await?;
        self.step("refreshing the access token");
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.clone()),
            ("resource", d.resource.clone()),
        ];
        let answer = self
            .token_request(&d, &creds, form)
            .await
            .map_err(ClientError::from)?;
        self.keep(st, &d, answer, t.scope.clone(), Some(refresh));
        Ok(())
    }

    async fn on_unauthorized(&self, challenge: &Challenge) -> Result<bool, ClientError> {
        // The server wants a nonce in the proof (RFC 9449 §9): the same token, again.
        if self.dpop.is_some()
            && challenge.error.as_deref() == Some("use_dpop_nonce")
            && let Some(nonce) = &challenge.dpop_nonce
        {
            let mut held = self
                .rs_nonce
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if held.as_deref() != Some(nonce.as_str()) {
                *held = Some(nonce.clone());
                self.step("the server asked for a DPoP nonce; sending the request again with it");
                return Ok(true);
            }
        }
        let mut st = self.state.lock().await;
        self.load(&mut st);
        self.step(&format!(
            "the server answered 401{}",
            challenge
                .error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ));
        let d = self.discover(challenge).await?;
        if let Some(t) = &st.tokens
            && t.issuer != d.metadata.issuer
        {
            // The server moved to another authorization server: its tokens are useless there,
            // and must not be sent.
            self.step(&format!(
                "the tokens are from {}, the server now uses {}: signing in again",
                t.issuer, d.metadata.issuer
            ));
            let old = t.issuer.clone();
            st.tokens = None;
            self.store.forget_tokens(&self.server)?;
            // A client configured by hand was registered with the old issuer: its credentials
            // go to the new one only when the configuration says so.
            if self.cfg.client_id.is_some() && self.bound_issuer().is_none() {
                return Err(ClientError::auth(format!(
                    "the server moved from authorization server {old} to {}: the configured \
                     client (its id and secret) was used with {old}, so it is not sent to the \
                     new one; register the client there and set its issuer (`client_issuer`, \
                     `issuer` in the configuration)",
                    d.metadata.issuer
                )));
            }
        }
        st.discovered = Some(d.clone());
        if st
            .tokens
            .as_ref()
            .is_some_and(|t| t.refresh_token.is_some())
        {
            match self.refresh(&mut st).await {
                Ok(()) => return Ok(true),
                Err(e) => self.step(&format!("refresh failed ({e}); signing in again")),
            }
        }
        // A machine asks for the scopes configured, else none (the server then gives what it
        // was registered with): the challenge's are what a user would consent to.
        let scope = match self.cfg.grant {
            Grant::AuthorizationCode => self.select_scope(&d, challenge),
            _ => self.cfg.scope.clone(),
        };
        self.authorize(&mut st, scope).await?;
        Ok(true)
    }

    async fn on_forbidden(&self, challenge: &Challenge) -> Result<bool, ClientError> {
        let mut st = self.state.lock().await;
        self.load(&mut st);
        let d = match st.discovered.clone() {
            Some(d) => d,
            None => self.discover(challenge).await?,
        };
        st.discovered = Some(d.clone());
        let mut scopes = Vec::new();
        if let Some(s) = st.tokens.as_ref().and_then(|t| t.scope.as_deref()) {
            union_into(&mut scopes, s);
        }
        if let Some(s) = self.select_scope(&d, challenge) {
            union_into(&mut scopes, &s);
        }
        let wanted = scopes.join(" ");
        let tries = st.step_ups.entry(wanted.clone()).or_insert(0);
        if *tries >= self.cfg.max_step_ups {
            self.step(&format!(
                "403 insufficient_scope again for `{wanted}`: giving up after {} sign-ins",
                self.cfg.max_step_ups
            ));
            return Ok(false);
        }
        *tries += 1;
        self.step(&format!(
            "403 insufficient_scope: stepping up to `{wanted}`"
        ));
        self.authorize(&mut st, (!wanted.is_empty()).then_some(wanted))
            .await?;
        Ok(true)
    }
}

impl Authenticator for OAuth {
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, ClientError>> {
        self.request_headers("POST", &self.server)
    }

    fn request_headers<'a>(
        &'a self,
        method: &'a str,
        url: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, ClientError>> {
        Box::pin(async move {
            let mut st = self.state.lock().await;
            self.load(&mut st);
            let machine = !self.cfg.grant.browser();
            let expiring = st.tokens.as_ref().is_some_and(|t| {
                (t.refresh_token.is_some() || machine)
                    && t.expires_at.is_some_and(|e| e <= now() + 30)
            });
            if expiring && machine {
                // A machine asks for a new token (it has no refresh token); on failure the
                // old one is sent, and the server's 401 starts over.
                if st.discovered.is_none() {
                    st.discovered = self.discover(&Challenge::default()).await.ok();
                }
                if let Some(d) = st.discovered.clone() {
                    let scope = st.tokens.as_ref().and_then(|t| t.scope.clone());
                    if let Err(e) = self.machine_grant(&mut st, &d, scope).await {
                        self.step(&format!("a new token before expiry failed ({e})"));
                    }
                }
            } else if expiring {
                if st.discovered.is_none() {
                    st.discovered = self.discover(&Challenge::default()).await.ok();
                }
                // `refresh` sends the refresh token only to the issuer that issued it; after a
                // move, the next 401 signs in again.
                if let Err(e) = self.refresh(&mut st).await {
                    self.step(&format!("refresh before expiry failed ({e})"));
                }
            }
            match st.tokens.as_ref() {
                Some(t) => self.credentials(t, method, url),
                None => Ok(Vec::new()),
            }
        })
    }

    fn unauthorized<'a>(
        &'a self,
        challenge: &'a Challenge,
    ) -> BoxFuture<'a, Result<bool, ClientError>> {
        Box::pin(self.on_unauthorized(challenge))
    }

    fn forbidden<'a>(
        &'a self,
        challenge: &'a Challenge,
    ) -> BoxFuture<'a, Result<bool, ClientError>> {
        Box::pin(self.on_forbidden(challenge))
    }
}

/// Adds the space-separated scopes of `s` not yet in `into`.
fn union_into(into: &mut Vec<String>, s: &str) {
    for x in s.split_whitespace() {
        if !into.iter().any(|y| y == x) {
            into.push(x.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_unite_without_repeats() {
        let mut v = vec!["a".to_owned()];
        union_into(&mut v, "b a  c");
        assert_eq!(v, ["a", "b", "c"]);
    }
}
