//! Keycloak (mcp-use's `oauthKeycloakProvider`): `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL` and
//! `MCP_USE_OAUTH_KEYCLOAK_REALM`.

use std::sync::Arc;

use super::ProviderError;
use super::preset::{self, Assembly, claim_at, extend_unique};
use crate::auth::{OAuth, UserInfo, string_list};

/// Keycloak: tokens from `<server>/realms/<realm>`, keys at
/// `<issuer>/protocol/openid-connect/certs`.
///
/// | setting | variable | default |
/// | --- | --- | --- |
/// | server | `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL` | required, e.g. `https://auth.example.com` |
/// | realm | `MCP_USE_OAUTH_KEYCLOAK_REALM` | required |
/// | client | `MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID` | none: no client roles |
/// | audience | `MCP_USE_OAUTH_KEYCLOAK_AUDIENCE` | none: tokens must be bound to this server |
/// | scopes | `MCP_USE_OAUTH_KEYCLOAK_SCOPES` | `openid profile email` |
/// | verification | `MCP_USE_OAUTH_KEYCLOAK_VERIFY_JWT` | `true` |
///
/// Realm roles (`realm_access.roles`) become roles; the client's roles
/// (`resource_access.<client>.roles`) become roles and permissions, so `has_scope` sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeycloakProvider {
    /// The server's base URL.
    pub server_url: Option<String>,
    /// The realm.
    pub realm: Option<String>,
    /// The client whose roles to read.
    pub client_id: Option<String>,
    /// The `aud` tokens must carry.
    pub audience: Option<String>,
    /// Scopes advertised in the metadata.
    pub scopes: Option<Vec<String>>,
    /// `false` turns signature checks off (development only).
    pub verify_jwt: Option<bool>,
}

impl KeycloakProvider {
    /// A server and realm; unset settings come from the environment.
    pub fn new(server_url: impl Into<String>, realm: impl Into<String>) -> Self {
        KeycloakProvider {
            server_url: Some(server_url.into()),
            realm: Some(realm.into()),
            ..Default::default()
        }
    }

    /// Everything from `MCP_USE_OAUTH_KEYCLOAK_*`.
    pub fn from_env() -> Result<Self, ProviderError> {
        Self::default().resolve()
    }

    /// The client whose roles become permissions.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Fills unset settings from the environment and checks them; errors name the variable.
    pub fn resolve(mut self) -> Result<Self, ProviderError> {
        let server = preset::required(
            self.server_url.take(),
            "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
            "set it to your Keycloak server's URL, e.g. https://auth.example.com",
        )?;
        self.server_url = Some(super::check_url(
            "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
            server.trim_end_matches('/'),
        )?);
        let realm = preset::required(
            self.realm.take(),
            "MCP_USE_OAUTH_KEYCLOAK_REALM",
            "set it to the realm's name, e.g. mcp",
        )?;
        if realm.is_empty() || realm.contains(['/', '?', '#', ' ']) {
            return Err(ProviderError::Invalid {
                var: "MCP_USE_OAUTH_KEYCLOAK_REALM",
                reason: format!("`{realm}` is not a realm name"),
            });
        }
        self.realm = Some(realm);
        if self.client_id.is_none() {
            self.client_id = super::env("MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID");
        }
        if self.audience.is_none() {
            self.audience = super::env("MCP_USE_OAUTH_KEYCLOAK_AUDIENCE");
        }
        if self.scopes.is_none() {
            self.scopes = preset::scopes_from("MCP_USE_OAUTH_KEYCLOAK_SCOPES")?;
        }
        if self.verify_jwt.is_none() {
            self.verify_jwt = Some(preset::verify_jwt("MCP_USE_OAUTH_KEYCLOAK_VERIFY_JWT")?);
        }
        Ok(self)
    }

    /// The server's OAuth configuration.
    pub fn into_oauth(self, client: reqwest::Client) -> Result<OAuth, ProviderError> {
        let p = self.resolve()?;
        let issuer = format!(
            "{}/realms/{}",
            p.server_url.unwrap_or_default(),
            p.realm.unwrap_or_default()
        );
        let client_id = p.client_id;
        let mut a = Assembly::new(
            issuer.clone(),
            format!("{issuer}/protocol/openid-connect/certs"),
            Arc::new(move |claims| {
                let mut user = UserInfo::from_claims(claims);
                extend_unique(
                    &mut user.roles,
                    string_list(claim_at(claims, &["realm_access", "roles"])),
                );
                if let Some(c) = &client_id {
                    let client_roles =
                        string_list(claim_at(claims, &["resource_access", c, "roles"]));
                    extend_unique(&mut user.roles, client_roles.clone());
                    extend_unique(&mut user.permissions, client_roles);
                }
                user
            }),
        );
        a.audience = p.audience;
        a.scopes = p
            .scopes
            .unwrap_or_else(|| ["openid", "profile", "email"].map(String::from).to_vec());
        a.verify_jwt = p.verify_jwt.unwrap_or(true);
        a.userinfo = Some(format!("{issuer}/protocol/openid-connect/userinfo"));
        Ok(a.into_oauth(client))
    }
}
