//! `oauth = "proxy"`: the OAuth proxy, for identity providers without dynamic client
//! registration (Google, GitHub, Okta, Entra, ordinary Auth0 applications): mcp-use's
//! `oauthProxy`, with what it leaves out.
//!
//! MCP clients register with this server (each gets its own client id), sign in here, approve
//! the client on a consent page, and are sent to the upstream identity provider with this
//! server's one pre-registered client id and its own PKCE. The upstream answers at
//! `/oauth/callback`; this server verifies who signed in, keeps the upstream tokens (encrypted,
//! server-side) and issues the client its own short-lived JWT for this server's resource, with
//! rotating refresh tokens. Transactions are single-use, expiring and bound to the client, its
//! exact redirect URI and its PKCE challenge; `state` never carries anything the server trusts.

use std::sync::Arc;
use std::time::Duration;

use super::{ProviderError, check_url, env};
use crate::auth::jwks::JwksCache;
use crate::auth::verifier::{JwtVerifier, Secret};
use crate::auth::{OAuth, TokenVerifier, UserInfo};
use crate::oauth::{AuthServer, IDENTITY_SCOPES, Identity, Upstream};
use crate::store::Store;

pub use crate::oauth::backend::{ProxyProvider, ScopeGrant, UpstreamAuth};
pub(crate) use crate::oauth::backend::{RolesClaim, UserinfoShape};

impl ScopeGrant {
    /// Parses `MCP_USE_OAUTH_SCOPE_GRANTS`.
    pub fn parse_list(text: &str) -> Result<Vec<ScopeGrant>, String> {
        let mut out = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (scope, rules) = part.split_once('=').ok_or_else(|| {
                format!(
                    "`{part}` is not `scope=claim:value`; write e.g. admin=email:ada@example.com"
                )
            })?;
            let scope = scope.trim();
            if !crate::auth::is_scope_token(scope) {
                return Err(format!("`{scope}` is not a scope"));
            }
            for rule in rules.split(',').map(str::trim) {
                match rule.split_once(':') {
                    Some((claim, value))
                        if !claim.trim().is_empty() && !value.trim().is_empty() =>
                    {
                        out.push(ScopeGrant {
                            scope: scope.to_owned(),
                            claim: claim.trim().to_owned(),
                            value: value.trim().to_owned(),
                        });
                    }
                    _ => {
                        return Err(format!(
                            "`{rule}` (for `{scope}`) is not `claim:value`; write e.g. email:ada@example.com"
                        ));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// mcp-use's `jwksVerifier`: a verifier for an issuer's JWTs, keys from `jwks_url`.
pub fn jwks_verifier(
    jwks_url: impl Into<String>,
    issuer: impl Into<String>,
    audience: Option<&str>,
) -> JwtVerifier {
    let jwks = Arc::new(JwksCache::new(jwks_url, crate::auth::http_client()));
    let v = JwtVerifier::jwks(jwks).issuer(issuer);
    match audience {
        Some(a) => v.audience(a),
        None => v,
    }
}

impl ProxyProvider {
    /// A proxy to the upstream at these endpoints, as the pre-registered `client_id`.
    pub fn new(
        auth_endpoint: impl Into<String>,
        token_endpoint: impl Into<String>,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        ProxyProvider {
            auth_endpoint: auth_endpoint.into(),
            token_endpoint: token_endpoint.into(),
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            token_auth: UpstreamAuth::default(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            jwks_url: None,
            audience: None,
            extra_authorize_params: Vec::new(),
            forward_resource: false,
            auto_approve: false,
            pass_through: false,
            access_ttl: Duration::from_secs(3600),
            scope_grants: Vec::new(),
            upstream_timeout: Duration::from_secs(10),
            verifier: None,
            store: None,
            encryption_key: None,
            issuer_aliases: Vec::new(),
            userinfo: None,
            upstream_pkce: true,
            tenant_issuer: None,
            allowed_tenants: Vec::new(),
            forward_client_scopes: true,
            roles_claim: None,
            store_kind: None,
            core: crate::oauth::CoreSettings::default(),
        }
    }

    /// Everything from `MCP_USE_OAUTH_PROXY_*`; each missing or malformed variable is an error
    /// naming it.
    pub fn from_env() -> Result<Self, ProviderError> {
        let need = |var: &'static str, hint: &'static str| {
            env(var).ok_or(ProviderError::Missing { var, hint })
        };
        let auth = need(
            "MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT",
            "set it to the identity provider's authorization endpoint, e.g. https://accounts.example.com/authorize",
        )?;
        let token = need(
            "MCP_USE_OAUTH_PROXY_TOKEN_ENDPOINT",
            "set it to the identity provider's token endpoint, e.g. https://accounts.example.com/oauth/token",
        )?;
        let issuer = need(
            "MCP_USE_OAUTH_PROXY_ISSUER",
            "set it to the identity provider's issuer (`iss` of its tokens)",
        )?;
        let client_id = need(
            "MCP_USE_OAUTH_PROXY_CLIENT_ID",
            "set it to the client id of the app you registered with the identity provider",
        )?;
        let mut p = ProxyProvider::new(auth, token, issuer, client_id);
        p.client_secret = env("MCP_USE_OAUTH_PROXY_CLIENT_SECRET").map(Secret::new);
        if let Some(v) = env("MCP_USE_OAUTH_PROXY_TOKEN_AUTH") {
            p.token_auth = match v.as_str() {
                "client_secret_basic" => UpstreamAuth::ClientSecretBasic,
                "client_secret_post" => UpstreamAuth::ClientSecretPost,
                _ => {
                    return Err(ProviderError::Invalid {
                        var: "MCP_USE_OAUTH_PROXY_TOKEN_AUTH",
                        reason: format!(
                            "`{v}` is not a method; write client_secret_basic or client_secret_post"
                        ),
                    });
                }
            };
        }
        if let Some(v) = env("MCP_USE_OAUTH_PROXY_SCOPES") {
            p.scopes = v
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if let Some(bad) = p.scopes.iter().find(|s| !crate::auth::is_scope_token(s)) {
                return Err(ProviderError::Invalid {
                    var: "MCP_USE_OAUTH_PROXY_SCOPES",
                    reason: format!("`{bad}` is not a scope"),
                });
            }
        }
        p.jwks_url = env("MCP_USE_OAUTH_PROXY_JWKS_URL");
        p.audience = env("MCP_USE_OAUTH_PROXY_AUDIENCE");
        if let Some(v) = env("MCP_USE_OAUTH_PROXY_EXTRA_AUTHORIZE_PARAMS") {
            p.extra_authorize_params = serde_urlencoded::from_str::<Vec<(String, String)>>(&v)
                .ok()
                .filter(|pairs| pairs.iter().all(|(k, _)| !k.is_empty()))
                .ok_or_else(|| ProviderError::Invalid {
                    var: "MCP_USE_OAUTH_PROXY_EXTRA_AUTHORIZE_PARAMS",
                    reason: format!(
                        "`{v}` is not form-encoded; write e.g. audience=https://api.example.com&access_type=offline"
                    ),
                })?;
        }
        p.forward_resource = bool_env("MCP_USE_OAUTH_PROXY_FORWARD_RESOURCE")?.unwrap_or(false);
        p.pass_through = bool_env("MCP_USE_OAUTH_PROXY_PASS_THROUGH")?.unwrap_or(false);
        p = p.common_from_env("proxy")?;
        p.resolve()
    }

    /// The settings every proxy-mode preset reads from the environment: consent auto-approve
    /// (`MCP_USE_OAUTH_PROXY_AUTO_APPROVE`), scope grants (`MCP_USE_OAUTH_SCOPE_GRANTS`), the
    /// encryption key (`MCP_STORE_ENCRYPTION_KEY`) and the store (`MCP_STORE_URL`, default a
    /// file named after `kind`).
    pub(crate) fn common_from_env(mut self, kind: &str) -> Result<Self, ProviderError> {
        self.auto_approve = bool_env("MCP_USE_OAUTH_PROXY_AUTO_APPROVE")?.unwrap_or(false);
        self.scope_grants = scope_grants_from_env()?;
        self.encryption_key = super::state::encryption_key_from_env()?;
        self.core = crate::oauth::CoreSettings::from_env(super::env)
            .map_err(|(var, reason)| ProviderError::Invalid { var, reason })?;
        self.store_kind = Some(kind.to_owned());
        Ok(self)
    }

    /// How long a request to the provider may take (default 10 s).
    pub fn upstream_timeout(mut self, timeout: Duration) -> Self {
        self.upstream_timeout = timeout;
        self
    }

    /// The client secret at the upstream (a confidential client).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(Secret::new(secret));
        self
    }

    /// Scopes always asked of the upstream.
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Verifies upstream tokens with the upstream's JWKS.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// The audience of upstream access tokens (when they are JWTs for an API).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Asks this OpenID Connect userinfo endpoint who signed in, when the provider's tokens
    /// are opaque and it returns no ID token.
    pub fn userinfo_url(mut self, url: impl Into<String>) -> Self {
        self.userinfo = Some((url.into(), UserinfoShape::Oidc));
        self
    }

    /// Verifies upstream access tokens with `verifier` (a custom verifier or introspection)
    /// instead of the JWKS.
    pub fn verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Adds a parameter to the upstream authorization request.
    pub fn extra_authorize_param(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.extra_authorize_params.push((key.into(), value.into()));
        self
    }

    /// Sends this server's resource upstream (RFC 8707).
    pub fn forward_resource(mut self, yes: bool) -> Self {
        self.forward_resource = yes;
        self
    }

    /// Skips the consent page (scripts and tests; refused in release builds unless forced).
    pub fn auto_approve(mut self, yes: bool) -> Self {
        self.auto_approve = yes;
        self
    }

    /// Pass-through mode: clients get the identity provider's own access tokens, and this
    /// server verifies them with the upstream verifier (which needs the audience they carry,
    /// or the forwarded resource). Prefer the default: tokens issued for this server cannot be
    /// replayed against the provider's API, and the provider's can.
    pub fn pass_through(mut self, yes: bool) -> Self {
        self.pass_through = yes;
        self
    }

    /// Grants `scope` to users whose identity claim `claim` has `value` (see [`ScopeGrant`]).
    pub fn grant_scope(
        mut self,
        scope: impl Into<String>,
        claim: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.scope_grants.push(ScopeGrant {
            scope: scope.into(),
            claim: claim.into(),
            value: value.into(),
        });
        self
    }

    /// Where the proxy keeps its state (default in code: memory).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    super::core_settings_methods!();

    /// The key that encrypts upstream tokens at rest (default: a new one per process).
    pub fn encryption_key(mut self, key: [u8; 32]) -> Self {
        self.encryption_key = Some(key);
        self
    }

    /// How this server authenticates at the upstream token endpoint.
    pub fn token_auth(mut self, auth: UpstreamAuth) -> Self {
        self.token_auth = auth;
        self
    }

    /// Checks the settings: URLs (https, or http on loopback), and a way to verify upstream
    /// tokens.
    pub fn resolve(mut self) -> Result<Self, ProviderError> {
        self.auth_endpoint = check_url("MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT", &self.auth_endpoint)?;
        self.token_endpoint =
            check_url("MCP_USE_OAUTH_PROXY_TOKEN_ENDPOINT", &self.token_endpoint)?;
        self.issuer = check_url("MCP_USE_OAUTH_PROXY_ISSUER", &self.issuer)?;
        if let Some(j) = &self.jwks_url {
            self.jwks_url = Some(check_url("MCP_USE_OAUTH_PROXY_JWKS_URL", j)?);
        }
        self.core
            .check()
            .map_err(|(var, reason)| ProviderError::Invalid { var, reason })?;
        if self.verifier.is_none() && self.jwks_url.is_none() && self.userinfo.is_none() {
            return Err(ProviderError::Missing {
                var: "MCP_USE_OAUTH_PROXY_JWKS_URL",
                hint: "set it to the identity provider's JWKS URL, so that the proxy can verify who signed in (or give a verifier in code)",
            });
        }
        if self.pass_through
            && self.verifier.is_none()
            && self.audience.is_none()
            && !self.forward_resource
        {
            return Err(ProviderError::Missing {
                var: "MCP_USE_OAUTH_PROXY_AUDIENCE",
                hint: "in pass-through mode clients present the identity provider's tokens to this server, which must check their audience: set it (or MCP_USE_OAUTH_PROXY_FORWARD_RESOURCE=true)",
            });
        }
        if self.auto_approve
            && !auto_approve_allowed(
                cfg!(debug_assertions),
                env("MCP_USE_OAUTH_ALLOW_AUTO_APPROVE").as_deref(),
            )
        {
            return Err(ProviderError::Invalid {
                var: "MCP_USE_OAUTH_PROXY_AUTO_APPROVE",
                reason: "skipping the consent page lets any registered client act for a signed-in user; a release build refuses it unless MCP_USE_OAUTH_ALLOW_AUTO_APPROVE=true".into(),
            });
        }
        if self.auto_approve {
            tracing::warn!(target: "mcp_runtime::auth", "OAuth proxy: the consent page is skipped (auto-approve); use this for tests only");
        }
        Ok(self)
    }

    /// The server's OAuth configuration: this server as the authorization server, issuing its
    /// own tokens for its resource.
    pub fn into_oauth(self) -> Result<OAuth, ProviderError> {
        let ttl = self.access_ttl;
        let store = match (&self.store, &self.store_kind) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(kind)) => Some(super::state::store_from_env(kind)?),
            (None, None) => None,
        };
        // Replicas sharing a store must open each other's upstream tokens in it.
        if store.as_ref().is_some_and(|s| s.is_shared()) && self.encryption_key.is_none() {
            return Err(ProviderError::Missing {
                var: "MCP_STORE_ENCRYPTION_KEY",
                hint: "a store that several replicas share needs the key that encrypts the \
                       upstream tokens in it, the same on every replica: 32 random bytes in \
                       base64url, e.g. from `openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`",
            });
        }
        let pass_through = self.pass_through;
        let encryption_key = self.encryption_key;
        let upstream = Upstream::new(self)?;
        let upstream_verifier = upstream.access_verifier.clone();
        let server = Arc::new(AuthServer::new(
            Identity::Upstream(Box::new(upstream)),
            ttl,
            store,
            encryption_key.as_ref(),
        )?);
        let keys = Arc::new(JwksCache::fixed(&server.jwks_body()).map_err(|e| {
            ProviderError::Setup(format!("the generated key set does not parse: {e}"))
        })?);
        let _ = server.verifier_keys.set(keys.clone());
        AuthServer::watch_keys(&server);
        let verifier = JwtVerifier::jwks(keys)
            .algorithms([crate::auth::Algorithm::RS256])
            .late_issuer(server.issuer.clone());
        let mut oauth = OAuth::new(verifier, String::new())
            .scopes_supported(IDENTITY_SCOPES)
            .baseline_scopes(["openid", "profile", "email"])
            .user_info(UserInfo::from_claims);
        oauth.authorization_servers.clear();
        if pass_through {
            // Clients present the upstream's tokens: verify those, bound to their audience.
            let Some(v) = upstream_verifier else {
                return Err(ProviderError::Missing {
                    var: "MCP_USE_OAUTH_PROXY_AUDIENCE",
                    hint: "pass-through mode needs a way to verify the identity provider's access tokens",
                });
            };
            oauth.verifier = v;
        }
        oauth.embedded = Some(server);
        Ok(oauth)
    }
}

/// `MCP_USE_OAUTH_SCOPE_GRANTS`, parsed; errors name it.
pub(crate) fn scope_grants_from_env() -> Result<Vec<ScopeGrant>, ProviderError> {
    match env("MCP_USE_OAUTH_SCOPE_GRANTS") {
        Some(v) => ScopeGrant::parse_list(&v).map_err(|reason| ProviderError::Invalid {
            var: "MCP_USE_OAUTH_SCOPE_GRANTS",
            reason,
        }),
        None => Ok(Vec::new()),
    }
}

/// Whether the consent page may be skipped: in debug builds, or when forced.
fn auto_approve_allowed(debug_build: bool, force: Option<&str>) -> bool {
    debug_build || force.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn bool_env(var: &'static str) -> Result<Option<bool>, ProviderError> {
    let Some(v) = env(var) else { return Ok(None) };
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(Some(true)),
        "false" | "0" | "no" | "off" => Ok(Some(false)),
        _ => Err(ProviderError::Invalid {
            var,
            reason: format!("`{v}` is not a boolean; write true or false"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::{ScopeGrant, auto_approve_allowed};
    use serde_json::json;

    #[test]
    fn scope_grants_parse_and_match() {
        let g = ScopeGrant::parse_list(
            "admin=email:ada@example.com, email:bob@example.com; reports=groups:analysts",
        )
        .expect("parses");
        assert_eq!(g.len(), 3);
        assert_eq!(
            (
                g[1].scope.as_str(),
                g[1].claim.as_str(),
                g[1].value.as_str()
            ),
            ("admin", "email", "bob@example.com")
        );
        let claims = serde_json::json!({"email": "bob@example.com", "email_verified": true,
                                        "groups": ["x", "analysts"]});
        let claims = claims.as_object().expect("object");
        assert!(
            g.iter()
                .all(|r| r.matches(claims) == (r.value != "ada@example.com"))
        );
        // An unverified (or unstated) email matches nothing; strings match exactly.
        for verified in [json!(false), json!("false"), json!(null)] {
            let claims = json!({"email": "bob@example.com", "email_verified": verified});
            assert!(
                !g[1].matches(claims.as_object().expect("object")),
                "{verified}"
            );
        }
        let rule = |claim: &str, value: &str| ScopeGrant {
            scope: "admin".into(),
            claim: claim.into(),
            value: value.into(),
        };
        let claims = json!({"name": "x ada", "groups": "ada", "scp": "read ada", "id": 7});
        let claims = claims.as_object().expect("object");
        assert!(
            !rule("name", "ada").matches(claims),
            "no splitting of a name"
        );
        assert!(rule("name", "x ada").matches(claims));
        assert!(rule("groups", "ada").matches(claims));
        assert!(rule("scp", "ada").matches(claims), "scp is a list");
        assert!(rule("id", "7").matches(claims));
        assert!(!rule("groups", "ad").matches(claims));
        for bad in [
            "admin",
            "ad min=email:x",
            "admin=email",
            "admin=:x",
            "admin=email:",
        ] {
            assert!(ScopeGrant::parse_list(bad).is_err(), "{bad}");
        }
        assert!(ScopeGrant::parse_list("").expect("empty").is_empty());
    }

    #[test]
    fn skipping_consent_needs_a_debug_build_or_an_explicit_force() {
        assert!(auto_approve_allowed(true, None));
        assert!(auto_approve_allowed(false, Some("true")));
        assert!(!auto_approve_allowed(false, None));
        assert!(!auto_approve_allowed(false, Some("yes")));
    }
}
