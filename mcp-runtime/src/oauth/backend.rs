//! The identity backends' settings, which the presets in `providers` fill in: the development
//! sign-in page's ([`DevProvider`]) and the upstream identity provider's ([`ProxyProvider`]).
//! The core reads them; their builders and environment readers live with the presets.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenVerifier;
use crate::auth::verifier::Secret;
use crate::store::Store;

/// The embedded development authorization server's settings (`oauth = "dev"`).
///
/// ```no_run
/// use mcp_runtime::providers::DevProvider;
/// let oauth = DevProvider::new().auto_approve(true).into_oauth().expect("a signing key");
/// ```
#[derive(Clone)]
pub struct DevProvider {
    pub(crate) auto_approve: bool,
    pub(crate) user: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) access_ttl: Duration,
    /// Where registrations, codes, refresh tokens and the signing key live (memory if unset).
    pub(crate) store: Option<Arc<dyn Store>>,
    /// Encrypts the signing keys in the store (`MCP_STORE_ENCRYPTION_KEY`).
    pub(crate) encryption_key: Option<[u8; 32]>,
    /// Serve a public URL that is not a loopback address (`MCP_USE_OAUTH_DEV_ALLOW_PUBLIC`).
    pub(crate) allow_public: bool,
    /// The store namespace, rate limits and unused-registration lifetime.
    pub(crate) core: super::CoreSettings,
}

impl std::fmt::Debug for DevProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevProvider")
            .field("auto_approve", &self.auto_approve)
            .field("user", &self.user)
            .field("store", &self.store.as_ref().map(|s| s.describe()))
            .finish_non_exhaustive()
    }
}

/// How this server authenticates to the upstream token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UpstreamAuth {
    /// HTTP Basic (RFC 6749 §2.3.1), the default.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form.
    ClientSecretPost,
}

/// A rule that grants a scope to users whose identity claim has a value: for providers whose
/// tokens carry no scopes of this server's API (Google, GitHub), or to map groups to scopes.
///
/// `MCP_USE_OAUTH_SCOPE_GRANTS` lists them as `scope=claim:value,claim:value;scope=...`, e.g.
/// `admin=email:ada@example.com,email:bob@example.com;reports=hd:example.com`. A claim that is
/// a list matches when it contains the value; a string claim matches only when it equals the
/// value exactly (`scope` and `scp`, space-separated lists by definition, are the exception).
///
/// Rules on `email` match only when the provider says the address is verified
/// (`email_verified` is `true`): an unverified address is whatever the user typed. Prefer
/// claims the user cannot change: `sub`, Entra's `oid`, Google's `hd`, groups an
/// administrator assigns; names, logins and emails can be changed or claimed by someone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeGrant {
    /// The scope granted.
    pub scope: String,
    /// The identity claim looked at (`email`, `hd`, `groups`, `login`, …).
    pub claim: String,
    /// The value that grants it.
    pub value: String,
}

impl ScopeGrant {
    /// Whether these identity claims earn the scope.
    pub(crate) fn matches(&self, claims: &serde_json::Map<String, serde_json::Value>) -> bool {
        use serde_json::Value;
        if self.claim == "email" {
            let verified = match claims.get("email_verified") {
                Some(Value::Bool(b)) => *b,
                // Some providers (AWS Cognito) send it as a string.
                Some(Value::String(s)) => s == "true",
                _ => false,
            };
            if !verified {
                return false;
            }
        }
        match claims.get(&self.claim) {
            Some(Value::String(s)) if self.claim == "scope" || self.claim == "scp" => {
                s.split(' ').any(|x| x == self.value)
            }
            Some(Value::String(s)) => *s == self.value,
            Some(Value::Number(n)) => n.to_string() == self.value,
            Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(&self.value)),
            _ => false,
        }
    }
}

/// The OAuth proxy's settings. Explicit values beat the environment.
///
/// | setting | environment | default |
/// | --- | --- | --- |
/// | authorization endpoint | `MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT` | required |
/// | token endpoint | `MCP_USE_OAUTH_PROXY_TOKEN_ENDPOINT` | required |
/// | issuer | `MCP_USE_OAUTH_PROXY_ISSUER` | required (`iss` of upstream tokens) |
/// | client id | `MCP_USE_OAUTH_PROXY_CLIENT_ID` | required |
/// | client secret | `MCP_USE_OAUTH_PROXY_CLIENT_SECRET` | none (a public upstream client) |
/// | token endpoint auth | `MCP_USE_OAUTH_PROXY_TOKEN_AUTH` (`client_secret_basic`, `client_secret_post`) | basic |
/// | scopes asked upstream | `MCP_USE_OAUTH_PROXY_SCOPES` | `openid profile email` |
/// | JWKS URL | `MCP_USE_OAUTH_PROXY_JWKS_URL` | required unless a verifier is set in code |
/// | audience of upstream access tokens | `MCP_USE_OAUTH_PROXY_AUDIENCE` | none: the ID token identifies the user |
/// | extra authorize parameters | `MCP_USE_OAUTH_PROXY_EXTRA_AUTHORIZE_PARAMS` (form-encoded) | none |
/// | forward RFC 8707 `resource` upstream | `MCP_USE_OAUTH_PROXY_FORWARD_RESOURCE` | false |
/// | skip the consent page | `MCP_USE_OAUTH_PROXY_AUTO_APPROVE` | false; refused in release builds unless `MCP_USE_OAUTH_ALLOW_AUTO_APPROVE=true` |
/// | clients get the provider's tokens | `MCP_USE_OAUTH_PROXY_PASS_THROUGH` | false |
/// | scopes granted by identity | `MCP_USE_OAUTH_SCOPE_GRANTS` (see [`ScopeGrant`]) | none |
/// | key for upstream tokens at rest | `MCP_STORE_ENCRYPTION_KEY` (32 bytes, base64url) | a new key per process |
/// | store | `MCP_STORE_URL` | a redb file per `PORT` (memory for `PORT=0`) |
#[derive(Clone)]
pub struct ProxyProvider {
    /// The upstream authorization endpoint.
    pub auth_endpoint: String,
    /// The upstream token endpoint.
    pub token_endpoint: String,
    /// The upstream issuer.
    pub issuer: String,
    /// This server's client id at the upstream.
    pub client_id: String,
    /// Its client secret, if it is a confidential client.
    pub client_secret: Option<Secret>,
    /// How the secret is sent.
    pub token_auth: UpstreamAuth,
    /// Scopes always asked of the upstream (the client's own are added).
    pub scopes: Vec<String>,
    /// Where the upstream publishes its signing keys.
    pub jwks_url: Option<String>,
    /// The audience of upstream access tokens, when they are JWTs for an API.
    pub audience: Option<String>,
    /// Extra parameters for the upstream authorization request (e.g. `audience`, `access_type`).
    pub extra_authorize_params: Vec<(String, String)>,
    /// Whether to send this server's resource upstream (RFC 8707; some providers reject it).
    pub forward_resource: bool,
    /// Skip the consent page (scripts and tests).
    pub auto_approve: bool,
    /// Hand clients the identity provider's own access tokens (mcp-use's behaviour) instead
    /// of this server's. Their audience is then the provider's API, not this server.
    pub pass_through: bool,
    /// Lifetime of the access tokens this server issues (default one hour).
    pub access_ttl: Duration,
    /// Scopes granted by identity claims, besides those the provider grants.
    pub scope_grants: Vec<ScopeGrant>,
    /// How long a request to the provider (token endpoint, keys, user API) may take before
    /// the sign-in fails with `temporarily_unavailable` (default 10 s; connecting, 5 s at most).
    pub upstream_timeout: Duration,
    pub(crate) verifier: Option<Arc<dyn TokenVerifier>>,
    pub(crate) store: Option<Arc<dyn Store>>,
    pub(crate) encryption_key: Option<[u8; 32]>,
    /// Other spellings of the issuer its ID tokens may carry.
    pub(crate) issuer_aliases: Vec<String>,
    /// Where to ask who signed in when the provider's tokens are opaque and it returns no ID
    /// token (GitHub's `/user`), and how to read the answer.
    pub(crate) userinfo: Option<(String, UserinfoShape)>,
    /// Whether to use PKCE with the upstream (GitHub's OAuth apps do not).
    pub(crate) upstream_pkce: bool,
    /// For multi-tenant providers (Entra's `common`/`organizations`): the issuer each token
    /// must carry, with `{tid}` standing for its `tid` claim; tokens are then not checked
    /// against one fixed issuer.
    pub(crate) tenant_issuer: Option<String>,
    /// With `tenant_issuer`: the tenants (`tid`) whose users' claims may grant scopes
    /// (`scp`, `roles`, permissions, scope grants); users of other tenants get identity
    /// scopes only.
    pub(crate) allowed_tenants: Vec<String>,
    /// Whether the client's own scopes are asked of the upstream too (not for providers that
    /// refuse scopes they do not know, such as Google).
    pub(crate) forward_client_scopes: bool,
    /// Where the provider puts roles when not in `roles` (Auth0 Actions add a namespaced
    /// claim such as `https://example.com/roles`).
    pub(crate) roles_claim: Option<RolesClaim>,
    /// With no store given: the kind of server whose store `MCP_STORE_URL` (or the default
    /// file) names, opened when the server is built (so a store given in code wins, and no
    /// file is opened for settings that are only inspected).
    pub(crate) store_kind: Option<String>,
    /// The store namespace, rate limits and unused-registration lifetime.
    pub(crate) core: super::CoreSettings,
}

/// A claim that holds roles besides `roles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RolesClaim {
    /// This claim, by name.
    Named(String),
    /// Any claim whose name ends in `/roles` (a namespaced claim).
    Namespaced,
}

impl RolesClaim {
    /// The roles the claims carry in this claim.
    pub(crate) fn roles(&self, claims: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
        match self {
            RolesClaim::Named(c) => crate::auth::string_list(claims.get(c)),
            RolesClaim::Namespaced => claims
                .iter()
                .filter(|(k, _)| k.ends_with("/roles"))
                .flat_map(|(_, v)| crate::auth::string_list(Some(v)))
                .collect(),
        }
    }
}

/// How a userinfo answer names the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserinfoShape {
    /// OpenID Connect claims (`sub`, `email`, `name`, `picture`, …).
    Oidc,
    /// GitHub's `/user`: `id`, `login`, `name`, `email`, `avatar_url`.
    GitHub,
}

impl std::fmt::Debug for ProxyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyProvider")
            .field("auth_endpoint", &self.auth_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}
