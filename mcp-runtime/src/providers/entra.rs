//! Microsoft Entra ID, behind the OAuth proxy (Entra has no dynamic client registration for
//! MCP clients): `MCP_USE_OAUTH_ENTRA_TENANT_ID`, `MCP_USE_OAUTH_ENTRA_CLIENT_ID` and
//! `MCP_USE_OAUTH_ENTRA_CLIENT_SECRET`.

use super::preset::{base_override, required};
use super::proxy::ProxyProvider;
use super::{ProviderError, env};
use crate::auth::OAuth;

/// Entra ID sign-in through the OAuth proxy, with the v2.0 endpoints. Who signed in comes from
/// the ID token (`aud` = the client id; `oid`, `tid`, `preferred_username`, `name`, `email`).
/// With `MCP_USE_OAUTH_ENTRA_API_SCOPE` (e.g. `api://mcp/admin`, a scope your app registration
/// exposes), Entra issues an access token for that API, whose `scp` and app `roles` grant the
/// client's scopes (`admin` for `api://mcp/admin`); set `accessTokenAcceptedVersion` to 2 in
/// the API's manifest so that it is a v2.0 token. The RFC 8707 `resource` parameter is never
/// sent: Entra rejects it.
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | tenant | `MCP_USE_OAUTH_ENTRA_TENANT_ID` | required: a tenant id, a domain, `organizations` or `common` |
/// | client id | `MCP_USE_OAUTH_ENTRA_CLIENT_ID` | required |
/// | client secret | `MCP_USE_OAUTH_ENTRA_CLIENT_SECRET` | required |
/// | API scopes | `MCP_USE_OAUTH_ENTRA_API_SCOPE` (space-separated) | none |
/// | tenants whose claims grant scopes (multi-tenant) | `MCP_USE_OAUTH_ENTRA_ALLOWED_TENANTS` (tenant ids, comma- or space-separated) | none |
/// | login host | `MCP_USE_OAUTH_ENTRA_BASE_URL` | `https://login.microsoftonline.com` (a loopback URL points it at a fixture) |
///
/// With a tenant id, tokens must come from that tenant's issuer; with a domain,
/// `organizations` or `common`, each token must carry its own tenant's issuer
/// (`…/<tid>/v2.0`). Users of any tenant then sign in, but the administrator of each tenant
/// controls its users' `scp`, `roles` and other claims: only users of the tenants listed in
/// `MCP_USE_OAUTH_ENTRA_ALLOWED_TENANTS` get scopes from them (or from scope grants); others
/// get identity scopes only. Also read: `MCP_USE_OAUTH_SCOPE_GRANTS`,
/// `MCP_USE_OAUTH_PROXY_AUTO_APPROVE`, `MCP_STORE_ENCRYPTION_KEY`, `MCP_STORE_URL`. In the
/// Entra admin center: an app registration with a "Web" redirect URI
/// `<your server's origin>/oauth/callback` and a client secret.
#[derive(Debug, Clone, Default)]
pub struct EntraProvider {
    /// The tenant: its id, a verified domain, `organizations` or `common`.
    pub tenant_id: Option<String>,
    /// The app registration's client id.
    pub client_id: Option<String>,
    /// Its client secret.
    pub client_secret: Option<String>,
    /// Scopes of your API to ask for (`api://<app>/<scope>`).
    pub api_scopes: Vec<String>,
    /// Replaces `https://login.microsoftonline.com` (for tests against a fixture).
    pub base_url: Option<String>,
    /// For a multi-tenant app (`organizations`, `common` or a domain): the tenant ids whose
    /// users' claims may grant scopes.
    pub allowed_tenants: Vec<String>,
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl EntraProvider {
    /// An app registration in a tenant; unset settings come from the environment.
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        EntraProvider {
            tenant_id: Some(tenant_id.into()),
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            ..Default::default()
        }
    }

    /// The proxy's settings for Entra; each missing or malformed variable is named.
    pub fn into_proxy(self) -> Result<ProxyProvider, ProviderError> {
        let tenant = required(
            self.tenant_id,
            "MCP_USE_OAUTH_ENTRA_TENANT_ID",
            "set it to your directory (tenant) id, a verified domain, `organizations` or `common`",
        )?;
        if tenant.is_empty()
            || !tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
        {
            return Err(ProviderError::Invalid {
                var: "MCP_USE_OAUTH_ENTRA_TENANT_ID",
                reason: format!(
                    "`{tenant}` is not a tenant; write its id (a GUID), a domain, `organizations` or `common`"
                ),
            });
        }
        let client_id = required(
            self.client_id,
            "MCP_USE_OAUTH_ENTRA_CLIENT_ID",
            "set it to the app registration's application (client) id",
        )?;
        let secret = required(
            self.client_secret,
            "MCP_USE_OAUTH_ENTRA_CLIENT_SECRET",
            "set it to a client secret of the app registration (Certificates & secrets)",
        )?;
        let mut api_scopes = self.api_scopes;
        if api_scopes.is_empty()
            && let Some(v) = env("MCP_USE_OAUTH_ENTRA_API_SCOPE")
        {
            api_scopes = v.split_whitespace().map(str::to_owned).collect();
        }
        if let Some(bad) = api_scopes
            .iter()
            .find(|s| !s.contains("://") || !crate::auth::is_scope_token(s))
        {
            return Err(ProviderError::Invalid {
                var: "MCP_USE_OAUTH_ENTRA_API_SCOPE",
                reason: format!("`{bad}` is not an API scope; write e.g. api://mcp/admin"),
            });
        }
        let base = base_override(self.base_url, "MCP_USE_OAUTH_ENTRA_BASE_URL")?
            .unwrap_or_else(|| "https://login.microsoftonline.com".to_owned());
        let root = format!("{base}/{tenant}");
        let mut p = ProxyProvider::new(
            format!("{root}/oauth2/v2.0/authorize"),
            format!("{root}/oauth2/v2.0/token"),
            format!("{root}/v2.0"),
            client_id,
        )
        .client_secret(secret)
        .jwks_url(format!("{root}/discovery/v2.0/keys"));
        let mut scopes: Vec<String> = ["openid", "profile", "email", "offline_access"]
            .map(String::from)
            .to_vec();
        // The API's access token: its audience is the scope's resource part.
        if let Some(first) = api_scopes.first()
            && let Some((resource, _)) = first.rsplit_once('/')
        {
            p = p.audience(resource);
        }
        scopes.extend(api_scopes);
        p = p.scopes(scopes);
        if !is_guid(&tenant) {
            p.tenant_issuer = Some(format!("{base}/{{tid}}/v2.0"));
            let mut allowed = self.allowed_tenants;
            if allowed.is_empty()
                && let Some(v) = env("MCP_USE_OAUTH_ENTRA_ALLOWED_TENANTS")
            {
                allowed = v
                    .split([',', ' '])
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            if let Some(bad) = allowed.iter().find(|t| !is_guid(t)) {
                return Err(ProviderError::Invalid {
                    var: "MCP_USE_OAUTH_ENTRA_ALLOWED_TENANTS",
                    reason: format!(
                        "`{bad}` is not a tenant id; list directory (tenant) ids, the GUIDs in `tid`"
                    ),
                });
            }
            if allowed.is_empty() {
                tracing::warn!(
                    target: "mcp_runtime::auth",
                    "Entra tenant `{tenant}` admits users of other tenants, and no \
                     MCP_USE_OAUTH_ENTRA_ALLOWED_TENANTS is set: their `scp`, `roles` and scope \
                     grants give no scopes (identity scopes only)"
                );
            }
            p.allowed_tenants = allowed;
        }
        // Entra refuses scopes it does not know, and the `resource` parameter.
        p.forward_client_scopes = false;
        p.forward_resource = false;
        p.common_from_env("entra")
    }

    /// The server's OAuth configuration: the OAuth proxy in front of Entra ID.
    pub fn into_oauth(self) -> Result<OAuth, ProviderError> {
        let proxy = self.into_proxy()?.resolve()?;
        tracing::info!(target: "mcp_runtime::auth", "Microsoft Entra ID sign-in through the OAuth proxy");
        proxy.into_oauth()
    }
}

#[cfg(test)]
mod tests {
    use super::is_guid;

    #[test]
    fn tenant_ids_are_guids() {
        assert!(is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
        assert!(!is_guid("organizations"));
        assert!(!is_guid("72f988bf-86f1-41af-91ab-2d7cd011db4"));
    }
}
