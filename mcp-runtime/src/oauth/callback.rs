//! The OAuth proxy's trip to the identity provider: the redirect with this server's client id,
//! its own PKCE and a `state` that keys a single-use server-side transaction; then the
//! provider's answer at `/oauth/callback`, the code exchange, and who signed in.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::backend::UserinfoShape;
use super::identity::Upstream;
use super::pages::error_page;
use super::params::{parse_params, random_token, redirect_with, sha256};
use super::responses::{cookie, not_started, set_cookie};
use super::state::{AuthRequest, User, hashed, txn_handle, txn_key};
use super::upstream::{TokenAnswer, UpstreamFailure, UpstreamTokens, expires_at, reqwest_reason};
use super::{AuthServer, IDENTITY_SCOPES, MAX_PENDING, PENDING_TTL};
use crate::auth::{AuthError, TokenVerifier as _, scopes_from_claims, string_list};
use crate::store::Space;

/// Claims of the upstream identity copied into this server's tokens.
const IDENTITY_CLAIMS: &[&str] = &[
    "picture",
    "email_verified",
    "preferred_username",
    "login",
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

/// Why the upstream's answer does not sign anyone in: the provider is unreachable or failing
/// (the client may try again: `temporarily_unavailable`), or the answer is refused
/// (`access_denied`).
enum Refusal {
    Unavailable(String),
    Denied(String),
}

/// A sign-in at the upstream in progress, by `state`.
#[derive(Serialize, Deserialize)]
struct UpstreamTxn {
    request: AuthRequest,
    verifier: String,
    /// The nonce of the browser that began the sign-in (in its [`signin_cookie`]); a callback
    /// from any other browser is refused (login CSRF).
    #[serde(default)]
    browser: String,
}

/// The name of the cookie that binds the sign-in keyed by `state` to the browser that began
/// it: one per sign-in, so that two sign-ins in one browser do not overwrite each other.
/// `__Host-`: set only by this origin, over https (or loopback), for every path.
fn signin_cookie(state: &str) -> String {
    format!("__Host-mcp-signin-{}", &hashed(state)[..16])
}

impl AuthServer {
    /// Redirects the browser to the upstream, with this server's client id, its own PKCE and
    /// a `state` that is only a key to the server-side transaction.
    pub(super) async fn to_upstream(&self, request: AuthRequest) -> HttpResponse {
        let (Some(up), Some(issuer)) = (self.upstream(), self.issuer()) else {
            return not_started();
        };
        let state = txn_handle(&request.client_id);
        let Some(key) = txn_key("upstream", &state) else {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "the client id is malformed",
            );
        };
        let verifier = random_token(48);
        let challenge = URL_SAFE_NO_PAD.encode(sha256(&verifier));
        let mut scopes: Vec<String> = up.config.scopes.clone();
        if up.config.forward_client_scopes {
            for s in &request.scopes {
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
        }
        let Ok(mut url) = reqwest::Url::parse(&up.config.auth_endpoint) else {
            return error_page(
                self.look(),
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
            if up.config.upstream_pkce {
                q.append_pair("code_challenge", &challenge);
                q.append_pair("code_challenge_method", "S256");
            }
            if up.config.forward_resource
                && let Some(r) = self.resource.get()
            {
                q.append_pair("resource", r);
            }
            for (k, v) in &up.config.extra_authorize_params {
                q.append_pair(k, v);
            }
        }
        let browser = random_token(24);
        let txn = UpstreamTxn {
            request,
            verifier,
            browser: browser.clone(),
        };
        if let Err(e) = self
            .save_per_client(
                Space::Transactions,
                &key,
                &txn,
                Some(PENDING_TTL),
                MAX_PENDING,
            )
            .await
        {
            return error_page(self.look(), StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
        }
        let mut resp = HttpResponse::Found()
            .insert_header((header::LOCATION, url.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish();
        // SameSite=Lax: the provider's redirect back is a cross-site top-level navigation,
        // which carries Lax cookies and not Strict ones.
        set_cookie(
            &mut resp,
            &format!(
                "{}={browser}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
                signin_cookie(&state),
                PENDING_TTL.as_secs()
            ),
        );
        resp
    }

    /// `GET /oauth/callback`: the upstream's answer.
    pub(super) async fn callback(&self, req: &HttpRequest, _body: &Bytes) -> HttpResponse {
        let (Some(up), Some(issuer)) = (self.upstream(), self.issuer()) else {
            return not_started();
        };
        let params = match parse_params(req.query_string().as_bytes()) {
            Ok(p) => p,
            Err(msg) => return error_page(self.look(), StatusCode::BAD_REQUEST, &msg),
        };
        let Some(state) = params.get("state") else {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "the identity provider's answer has no state",
            );
        };
        let Some(key) = txn_key("upstream", state) else {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "this sign-in is unknown, expired or already finished (state); start again from the client",
            );
        };
        // The browser first: a callback from a browser that did not begin this sign-in (a
        // provider link sent to a victim whose provider remembers consent) consumes nothing.
        let began: Option<UpstreamTxn> = match self.load(Space::Transactions, &key).await {
            Ok(t) => t,
            Err(e) => {
                return error_page(self.look(), StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
            }
        };
        if let Some(began) = began {
            let name = signin_cookie(state);
            let same_browser = cookie(req, &name).is_some_and(|nonce| {
                !began.browser.is_empty()
                    && aws_lc_rs::constant_time::verify_slices_are_equal(
                        nonce.as_bytes(),
                        began.browser.as_bytes(),
                    )
                    .is_ok()
            });
            if !same_browser {
                tracing::warn!(
                    target: "mcp_runtime::auth",
                    "a sign-in callback came from a browser that did not begin the sign-in; refused"
                );
                return error_page(
                    self.look(),
                    StatusCode::FORBIDDEN,
                    "this sign-in was started in another browser (or with cookies off): a link \
                     to finish someone else's sign-in is refused; start again from your client",
                );
            }
        }
        let txn: UpstreamTxn = match self.take(Space::Transactions, &key).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                return error_page(
                    self.look(),
                    StatusCode::BAD_REQUEST,
                    "this sign-in is unknown, expired or already finished (state); start again from the client",
                );
            }
            Err(e) => {
                return error_page(self.look(), StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
            }
        };
        let mut resp = self.finish_signin(up, issuer, &params, txn).await;
        // The sign-in is over, however it ended: its cookie goes.
        set_cookie(
            &mut resp,
            &format!(
                "{}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
                signin_cookie(state)
            ),
        );
        resp
    }

    /// The rest of the callback, once its transaction is taken: the provider's error, or its
    /// code exchanged and the user identified, then a code for the client.
    async fn finish_signin(
        &self,
        up: &Upstream,
        issuer: &str,
        params: &std::collections::HashMap<String, String>,
        txn: UpstreamTxn,
    ) -> HttpResponse {
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
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::auth", "upstream code exchange failed: {e}");
                let code = if e.refused {
                    "server_error"
                } else {
                    "temporarily_unavailable"
                };
                return fail(code, &e.message);
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
            Err(Refusal::Unavailable(msg)) => {
                tracing::warn!(target: "mcp_runtime::auth", "upstream identity lookup failed: {msg}");
                return fail("temporarily_unavailable", &msg);
            }
            Err(Refusal::Denied(msg)) => return fail("access_denied", &msg),
        };
        let Some(sub) = claims.get("sub").and_then(Value::as_str).map(str::to_owned) else {
            return fail(
                "access_denied",
                "the identity provider's token names no subject (`sub`)",
            );
        };
        // The client gets the scopes the user consented to (what it asked for) that the
        // upstream granted, or that a scope grant gives this identity (identity scopes are
        // this server's to give). The upstream only narrows: nothing beyond consent.
        let mut granted_upstream = granted_upstream;
        let tenant_trusted = match (&up.config.tenant_issuer, &up.config.allowed_tenants) {
            // Multi-tenant: a user of any tenant signs in, but grants come only from the
            // tenants the operator named (another tenant's admin controls its `scp` and
            // `roles`, and its users' claims).
            (Some(_), allowed) => {
                let tid = claims
                    .get("tid")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let trusted = allowed.iter().any(|t| t == tid);
                if !trusted {
                    tracing::info!(
                        target: "mcp_runtime::auth",
                        tenant = %tid,
                        "a user of a tenant not in the allowed tenants signed in: identity scopes only"
                    );
                }
                trusted
            }
            (None, _) => true,
        };
        if tenant_trusted {
            granted_upstream.extend(
                up.config
                    .scope_grants
                    .iter()
                    .filter(|g| g.matches(&claims))
                    .map(|g| g.scope.clone()),
            );
        } else {
            granted_upstream.clear();
        }
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
        // The upstream's permissions count as scopes where tokens are checked, so this
        // server's tokens carry only those the user consented to here.
        if extra.contains_key("permissions") {
            let consented: Vec<Value> = string_list(claims.get("permissions"))
                .into_iter()
                .filter(|p| request.scopes.contains(p))
                .map(Value::String)
                .collect();
            extra.insert("permissions".into(), Value::Array(consented));
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
    ) -> Result<TokenAnswer, UpstreamFailure> {
        let redirect = format!("{issuer}{}", self.paths().callback);
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
        ];
        if up.config.upstream_pkce {
            form.push(("code_verifier", verifier));
        }
        // RFC 8707 §2.2: the resource again at the token endpoint.
        if up.config.forward_resource
            && let Some(r) = self.resource.get()
        {
            form.push(("resource", r));
        }
        self.upstream_token_request(up, form).await
    }

    /// Who signed in: the verified ID token's claims, else the verified access token's (a JWT
    /// for an API, or a verifier in code); and the scopes the upstream granted (the token
    /// answer's `scope`, and the access token's scopes, permissions and roles).
    async fn identify(
        &self,
        up: &Upstream,
        answer: &TokenAnswer,
        access_token: &str,
    ) -> Result<(Map<String, Value>, Vec<String>), Refusal> {
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
            Some(v) => Some(v.verify(access_token, resource).await.map_err(|e| match e {
                AuthError::Unavailable(m) => Refusal::Unavailable(format!(
                    "the upstream access token cannot be checked now: {m}"
                )),
                e => Refusal::Denied(format!("the upstream access token is not valid: {e}")),
            })),
            None => None,
        };
        let id = match (&up.id_verifier, &answer.id_token) {
            (Some(v), Some(id_token)) => Some(v.verify(id_token, "").await.map_err(|e| match e {
                AuthError::Unavailable(m) => Refusal::Unavailable(format!(
                    "the identity provider's ID token cannot be checked now: {m}"
                )),
                e => Refusal::Denied(format!(
                    "the identity provider's ID token is not valid: {e}"
                )),
            })),
            _ => None,
        };
        if let Some(Ok(a)) = &access {
            granted.extend(scopes_from_claims(&a.claims));
            granted.extend(string_list(a.claims.get("permissions")));
            granted.extend(string_list(a.claims.get("roles")));
        }
        // Roles in a provider-specific claim (Auth0's namespaced ones), from either token.
        let mut roles = Vec::new();
        if let Some(rc) = &up.config.roles_claim {
            if let Some(Ok(a)) = &access {
                roles.extend(rc.roles(&a.claims));
            }
            if let Some(Ok(i)) = &id {
                roles.extend(rc.roles(&i.claims));
            }
        }
        let mut claims = match (id, access) {
            (Some(Ok(id)), access) => {
                let mut claims = id.claims;
                if let Some(Ok(a)) = access {
                    if a.claims.get("sub") != claims.get("sub") {
                        return Err(Refusal::Denied(
                            "the ID token and the access token name different users".into(),
                        ));
                    }
                    // Groups, roles and the like may be in either token.
                    for k in IDENTITY_CLAIMS {
                        if let Some(v) = a.claims.get(*k) {
                            claims.entry((*k).to_owned()).or_insert_with(|| v.clone());
                        }
                    }
                }
                granted.extend(string_list(claims.get("permissions")));
                granted.extend(string_list(claims.get("roles")));
                claims
            }
            (Some(Err(e)), _) => return Err(e),
            (None, Some(Ok(a))) => a.claims,
            (None, Some(Err(e))) => return Err(e),
            (None, None) if up.config.userinfo.is_some() => self.userinfo(up, access_token).await?,
            (None, None) => {
                return Err(Refusal::Denied(
                    "the identity provider returned no ID token (ask for the `openid` scope) and \
                     its access token cannot be verified here (set MCP_USE_OAUTH_PROXY_AUDIENCE, \
                     or a verifier in code)"
                        .into(),
                ));
            }
        };
        if let Some(rc) = &up.config.roles_claim {
            roles.extend(rc.roles(&claims));
            if !roles.is_empty() {
                let mut all = string_list(claims.get("roles"));
                for r in roles {
                    if !all.contains(&r) {
                        all.push(r);
                    }
                }
                granted.extend(all.iter().cloned());
                claims.insert("roles".into(), all.into());
            }
        }
        if let Some(template) = &up.config.tenant_issuer {
            let tid = claims
                .get("tid")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let expected = template.replace("{tid}", tid);
            if tid.is_empty()
                || claims.get("iss").and_then(Value::as_str) != Some(expected.as_str())
            {
                return Err(Refusal::Denied(format!(
                    "the token's issuer is not its tenant's: `iss` must be {expected}"
                )));
            }
        }
        Ok((claims, granted))
    }

    /// Who signed in, from the provider's userinfo endpoint (for opaque tokens), as claims.
    async fn userinfo(
        &self,
        up: &Upstream,
        access_token: &str,
    ) -> Result<Map<String, Value>, Refusal> {
        let Some((url, shape)) = &up.config.userinfo else {
            return Err(Refusal::Denied("no userinfo endpoint is configured".into()));
        };
        let resp = crate::auth::outgoing::send(
            up.http
                .get(url)
                .bearer_auth(access_token)
                .header(header::ACCEPT.as_str(), "application/json"),
        )
        .await
        .map_err(|e| {
            Refusal::Unavailable(format!(
                "the identity provider's user endpoint is unreachable ({})",
                reqwest_reason(&e)
            ))
        })?;
        let status = resp.status();
        if !status.is_success() {
            let msg = format!("the identity provider's user endpoint answered {status}");
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                Refusal::Unavailable(msg)
            } else {
                Refusal::Denied(msg)
            });
        }
        let body: Map<String, Value> = resp.json().await.map_err(|e| {
            Refusal::Unavailable(format!(
                "the identity provider's user answer is not a JSON object ({})",
                reqwest_reason(&e)
            ))
        })?;
        Ok(match shape {
            UserinfoShape::Oidc => body,
            UserinfoShape::GitHub => {
                let mut claims = Map::new();
                let id = match body.get("id") {
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::String(s)) => s.clone(),
                    _ => {
                        return Err(Refusal::Denied("GitHub's user answer has no `id`".into()));
                    }
                };
                claims.insert("sub".into(), id.into());
                for (from, to) in [
                    ("login", "preferred_username"),
                    ("name", "name"),
                    ("email", "email"),
                    ("avatar_url", "picture"),
                ] {
                    if let Some(v) = body.get(from).filter(|v| !v.is_null()) {
                        claims.insert(to.into(), v.clone());
                    }
                }
                // GitHub logins are what scope grants usually name.
                if let Some(login) = body.get("login") {
                    claims.insert("login".into(), login.clone());
                }
                claims
            }
        })
    }
}
