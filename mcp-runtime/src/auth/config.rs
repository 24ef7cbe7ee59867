//! `OAuth`: how a server authenticates its callers, given to `McpServerBuilder::oauth`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value};

use super::guard::{Gate, UserMapper};
use super::metadata::ResourceMetadata;
use super::scope::ScopeRefusal;
use super::{TokenVerifier, UserInfo};

/// The OAuth configuration of a server: the token verifier, the authorization servers that
/// issue its tokens, and how refusals look.
///
/// ```
/// use std::sync::Arc;
/// use mcp_runtime::auth::{OAuth, jwks::JwksCache, verifier::JwtVerifier};
///
/// let jwks = Arc::new(JwksCache::new("https://auth.example.com/.well-known/jwks.json", reqwest::Client::new()));
/// let oauth = OAuth::new(JwtVerifier::jwks(jwks).issuer("https://auth.example.com"), "https://auth.example.com")
///     .scopes_supported(["openid", "profile", "email"])
///     .resource("https://mcp.example.com/mcp");
/// ```
pub struct OAuth {
    pub(crate) verifier: Arc<dyn TokenVerifier>,
    pub(crate) authorization_servers: Vec<String>,
    pub(crate) scopes_supported: Vec<String>,
    pub(crate) baseline_scopes: Vec<String>,
    pub(crate) resource: Option<String>,
    pub(crate) resource_documentation: Option<String>,
    pub(crate) map_user: UserMapper,
    pub(crate) scope_refusal: ScopeRefusal,
    pub(crate) cache_capacity: usize,
    pub(crate) cache_ttl: Duration,
    /// Served at `/.well-known/oauth-authorization-server` (mcp-use's direct mode).
    pub(crate) as_metadata: Option<Value>,
    pub(crate) relay: Option<Arc<super::relay::MetadataRelay>>,
    pub(crate) userinfo: Option<super::userinfo::UserInfoEnricher>,
    pub(crate) hide_tools: bool,
    /// Whether DPoP proofs must carry a server nonce.
    pub(crate) dpop_nonces: bool,
    /// Whether only DPoP-bound tokens are accepted.
    pub(crate) dpop_required: bool,
    pub(crate) hierarchy: super::scope::ScopeHierarchy,
    /// The embedded development authorization server (`oauth = "dev"`).
    #[cfg(feature = "authorization-server")]
    pub(crate) embedded: Option<Arc<dyn super::embedded::EmbeddedIssuer>>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("verifier", &self.verifier.describe())
            .field("authorization_servers", &self.authorization_servers)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    /// Tokens verified by `verifier`, issued by the authorization server `issuer`.
    pub fn new(verifier: impl TokenVerifier, issuer: impl Into<String>) -> Self {
        OAuth {
            verifier: Arc::new(verifier),
            authorization_servers: vec![issuer.into()],
            scopes_supported: Vec::new(),
            baseline_scopes: Vec::new(),
            resource: None,
            resource_documentation: None,
            map_user: Arc::new(UserInfo::from_claims),
            scope_refusal: ScopeRefusal::default(),
            cache_capacity: 10_000,
            cache_ttl: Duration::from_secs(300),
            as_metadata: None,
            relay: None,
            userinfo: None,
            hide_tools: false,
            dpop_nonces: false,
            dpop_required: false,
            hierarchy: super::scope::ScopeHierarchy::new(),
            #[cfg(feature = "authorization-server")]
            embedded: None,
        }
    }

    /// The provider's scopes, advertised in the protected resource metadata (together with
    /// every tool's scopes).
    pub fn scopes_supported<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        scopes: I,
    ) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The scopes a client needs to connect at all, named in the 401 challenge (least
    /// privilege: tools' own scopes are asked for later, by step-up). Default: none.
    pub fn baseline_scopes<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        scopes: I,
    ) -> Self {
        self.baseline_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The canonical URL of the MCP endpoint, which tokens must name as their audience.
    /// Default: `http://<bound address><path>` when the server starts.
    pub fn resource(mut self, url: impl Into<String>) -> Self {
        self.resource = Some(url.into());
        self
    }

    /// A page documenting this resource (`resource_documentation`).
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// Maps claims to the caller's [`UserInfo`] (mcp-use's `getUserInfo`).
    pub fn user_info(
        mut self,
        f: impl Fn(&Map<String, Value>) -> UserInfo + Send + Sync + 'static,
    ) -> Self {
        self.map_user = Arc::new(f);
        self
    }

    /// The provider's RFC 8414 metadata, served at `/.well-known/oauth-authorization-server`
    /// on this server for clients that look for it beside the resource (as mcp-use does in
    /// direct mode); clients still sign in at the provider's own endpoints.
    pub fn authorization_server_metadata(mut self, metadata: Value) -> Self {
        self.as_metadata = Some(metadata);
        self
    }

    /// Relays the provider's authorization server metadata at this server's origin (direct
    /// mode; the presets do this).
    pub fn relay_metadata(mut self, relay: super::relay::MetadataRelay) -> Self {
        self.relay = Some(Arc::new(relay));
        self
    }

    /// When a token lacks the caller's email or name, asks this OpenID Connect userinfo
    /// endpoint (with the caller's token) once per subject, and caches the answer for 10
    /// minutes. Failures leave the fields empty; they never refuse the request.
    pub fn userinfo_endpoint(mut self, url: impl Into<String>, client: reqwest::Client) -> Self {
        self.userinfo = Some(super::userinfo::UserInfoEnricher::new(url, client));
        self
    }

    /// `tools/list` shows each caller only the tools its token's scopes allow (default: every
    /// tool, so that clients can discover what to step up for).
    pub fn hide_unauthorized_tools(mut self, hide: bool) -> Self {
        self.hide_tools = hide;
        self
    }

    /// Requires DPoP proofs to carry a nonce of this server's (RFC 9449 §9): a proof without
    /// a recent one is answered 401 `use_dpop_nonce` with a `DPoP-Nonce` header, and the
    /// client makes it again. Nonces change every five minutes and are this process's own (a
    /// replica's nonce makes the client ask another replica for its own). Default: off.
    pub fn dpop_nonces(mut self, yes: bool) -> Self {
        self.dpop_nonces = yes;
        self
    }

    /// Accepts DPoP-bound tokens only (RFC 9449): a bearer token is refused with the DPoP
    /// challenge, and the protected-resource metadata says `dpop_bound_access_tokens_required:
    /// true`. Default: off (bearer tokens work, bound ones need their proofs).
    pub fn require_dpop(mut self, yes: bool) -> Self {
        self.dpop_required = yes;
        self
    }

    /// Scopes that imply others (a broader scope grants the narrower ones): a token with
    /// `admin` passes a guard for a scope `admin` implies. Expanded once per verified token;
    /// an invalid scope name is a build error.
    ///
    /// ```
    /// # use mcp_runtime::auth::{OAuth, scope::ScopeHierarchy, verifier::JwtVerifier};
    /// let oauth = OAuth::new(JwtVerifier::hs256("secret"), "https://auth.example.com")
    ///     .scope_hierarchy(ScopeHierarchy::new().implies("admin", ["files:read", "files:write"]));
    /// ```
    pub fn scope_hierarchy(mut self, hierarchy: super::scope::ScopeHierarchy) -> Self {
        self.hierarchy = hierarchy;
        self
    }

    /// What a caller lacking a tool's scopes gets (default: 403 with a step-up challenge).
    pub fn scope_refusal(mut self, refusal: ScopeRefusal) -> Self {
        self.scope_refusal = refusal;
        self
    }

    /// Size and lifetime of the verified-token cache (default 10 000 tokens, 5 minutes; an
    /// entry never outlives its token). Capacity 0 verifies every request.
    pub fn token_cache(mut self, capacity: usize, ttl: Duration) -> Self {
        self.cache_capacity = capacity;
        self.cache_ttl = ttl;
        self
    }
}

/// What `#[mcp_server(oauth = make_oauth)]` and [`McpServerBuilder::oauth_from`] accept: an
/// [`OAuth`], or a `Result` whose error says what is wrong (reported when the server is built).
///
/// [`McpServerBuilder::oauth_from`]: crate::McpServerBuilder::oauth_from
pub trait IntoOAuth {
    /// The configuration, or what is wrong with it.
    fn try_into_oauth(self) -> Result<OAuth, String>;
}

impl IntoOAuth for OAuth {
    fn try_into_oauth(self) -> Result<OAuth, String> {
        Ok(self)
    }
}

impl<E: std::fmt::Display> IntoOAuth for Result<OAuth, E> {
    fn try_into_oauth(self) -> Result<OAuth, String> {
        self.map_err(|e| e.to_string())
    }
}

/// The server's authentication state, built from [`OAuth`].
pub(crate) struct AuthState {
    pub(crate) gate: Gate,
    pub(crate) resource: OnceLock<String>,
    pub(crate) authorization_servers: Vec<String>,
    pub(crate) scopes_supported: Vec<String>,
    pub(crate) baseline_scopes: Vec<String>,
    pub(crate) resource_documentation: Option<String>,
    pub(crate) scope_refusal: ScopeRefusal,
    #[cfg(feature = "authorization-server")]
    pub(crate) embedded: Option<Arc<dyn super::embedded::EmbeddedIssuer>>,
    /// The authorization server metadata served beside the resource, serialized once.
    pub(crate) as_metadata: Option<bytes::Bytes>,
    pub(crate) relay: Option<Arc<super::relay::MetadataRelay>>,
    pub(crate) hide_tools: bool,
}

impl AuthState {
    pub(crate) fn new(oauth: OAuth, tool_scopes: &[&str]) -> Self {
        let resource = OnceLock::new();
        if let Some(r) = oauth.resource {
            let _ = resource.set(r);
        }
        let mut scopes = oauth.scopes_supported;
        for s in tool_scopes {
            if !scopes.iter().any(|x| x == s) {
                scopes.push((*s).to_owned());
            }
        }
        #[cfg(feature = "authorization-server")]
        if let Some(dev) = &oauth.embedded {
            dev.set_scopes(&scopes, &oauth.baseline_scopes);
            if let Some(r) = resource.get() {
                dev.set_resource(r);
            }
        }
        let gate = Gate::new(
            oauth.verifier,
            oauth.map_user,
            oauth.cache_capacity,
            oauth.cache_ttl,
        )
        .with_userinfo(oauth.userinfo)
        .with_hierarchy(oauth.hierarchy)
        .with_dpop_required(oauth.dpop_required)
        .with_dpop_nonces(if oauth.dpop_nonces {
            match super::dpop::Nonces::new() {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::error!(target: "mcp_runtime::auth", "{e}");
                    None
                }
            }
        } else {
            None
        });
        #[cfg(feature = "authorization-server")]
        let gate = gate
            .with_revocations(oauth.embedded.as_ref().map(|d| d.revocations()))
            .with_upstream(oauth.embedded.clone());
        AuthState {
            gate,
            resource,
            authorization_servers: oauth.authorization_servers,
            scopes_supported: scopes,
            baseline_scopes: oauth.baseline_scopes,
            resource_documentation: oauth.resource_documentation,
            scope_refusal: oauth.scope_refusal,
            #[cfg(feature = "authorization-server")]
            embedded: oauth.embedded,
            hide_tools: oauth.hide_tools,
            relay: oauth.relay,
            as_metadata: oauth.as_metadata.map(|m| bytes::Bytes::from(m.to_string())),
        }
    }

    /// The issuers of this server's tokens (the embedded server's once it knows its address).
    pub(crate) fn authorization_servers(&self) -> Vec<String> {
        #[cfg(feature = "authorization-server")]
        if let Some(dev) = &self.embedded {
            return dev.issuer().map(str::to_owned).into_iter().collect();
        }
        self.authorization_servers.clone()
    }

    /// The canonical resource URL (set at start-up if not configured).
    pub(crate) fn resource(&self) -> &str {
        self.resource.get().map_or("", String::as_str)
    }

    /// The tool result of `ScopeRefusal::ToolChallenge`: an error whose
    /// `_meta["mcp/www_authenticate"]` holds the challenge a 401 (`anonymous`) or a 403 would
    /// carry: the scopes to ask for (with the baseline for a sign-in) and where this server's
    /// metadata is.
    pub(crate) fn tool_challenge(
        &self,
        scopes: &[String],
        message: &str,
        anonymous: bool,
    ) -> crate::result::CallToolResult {
        let mut wanted: Vec<String> = Vec::new();
        let baseline = if anonymous {
            self.baseline_scopes.as_slice()
        } else {
            &[]
        };
        for s in baseline.iter().chain(scopes) {
            if !wanted.contains(s) {
                wanted.push(s.clone());
            }
        }
        let metadata = crate::auth::metadata::ResourceMetadata::well_known_url(self.resource());
        let challenge = super::guard::challenge(
            (!anonymous).then_some("insufficient_scope"),
            Some(message),
            &wanted,
            Some(&metadata),
        );
        crate::result::CallToolResult::error(message).with_meta(
            "mcp/www_authenticate",
            serde_json::Value::Array(vec![challenge.into()]),
        )
    }

    pub(crate) fn metadata(&self) -> ResourceMetadata {
        let mut m = ResourceMetadata::new(self.resource(), self.authorization_servers());
        m.scopes_supported = self.scopes_supported.clone();
        m.dpop_bound_access_tokens_required = self.gate.dpop_required();
        m.resource_documentation = self.resource_documentation.clone();
        m
    }
}
