//! What every identity-provider preset shares: reading its variables, its base URL (with the
//! loopback override tests use), and turning its settings into an [`OAuth`].

use std::sync::Arc;

use crate::auth::Algorithm;
use serde_json::{Map, Value};

use super::{ProviderError, check_url, env};
use crate::auth::jwks::JwksCache;
use crate::auth::relay::MetadataRelay;
use crate::auth::verifier::{JwtVerifier, dangerous::UnverifiedJwt};
use crate::auth::{OAuth, UserInfo, string_list};

/// A required variable, or the error that names it.
pub(crate) fn required(
    current: Option<String>,
    var: &'static str,
    hint: &'static str,
) -> Result<String, ProviderError> {
    current
        .or_else(|| env(var))
        .ok_or(ProviderError::Missing { var, hint })
}

/// A provider's base URL replaced (tests point a preset at a local fixture): checked, without
/// a trailing slash; `None` when neither the setting nor the variable is set.
#[cfg_attr(not(feature = "authorization-server"), allow(dead_code))]
pub(crate) fn base_override(
    current: Option<String>,
    var: &'static str,
) -> Result<Option<String>, ProviderError> {
    current
        .or_else(|| env(var))
        .map(|b| check_url(var, &b).map(|u| u.trim_end_matches('/').to_owned()))
        .transpose()
}

/// A host name or a URL: `auth.example.com` means `https://auth.example.com`; a full URL is
/// taken as it is (`https://…`, or `http://` on a loopback host: how tests point a preset at a
/// local fixture).
pub(crate) fn host_or_url(var: &'static str, value: &str) -> Result<String, ProviderError> {
    let value = value.trim().trim_end_matches('/');
    if value.contains("://") {
        return check_url(var, value);
    }
    if value.is_empty() || value.contains(['/', ' ', '?', '#']) {
        return Err(ProviderError::Invalid {
            var,
            reason: format!("`{value}` is not a host name; write e.g. my-tenant.us.auth0.com"),
        });
    }
    check_url(var, &format!("https://{value}"))
}

/// `MCP_USE_OAUTH_<P>_VERIFY_JWT`: `false` turns verification off (development only; refused
/// in release builds unless forced).
pub(crate) fn verify_jwt(var: &'static str) -> Result<bool, ProviderError> {
    match env(var).map(|v| v.to_ascii_lowercase()) {
        None => Ok(true),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) if v == "false" || v == "0" => Ok(false),
        Some(v) => Err(ProviderError::Invalid {
            var,
            reason: format!("`{v}` is not a boolean; write true or false"),
        }),
    }
}

/// A space- or comma-separated scope list from `var`, each a valid scope-token.
pub(crate) fn scopes_from(var: &'static str) -> Result<Option<Vec<String>>, ProviderError> {
    let Some(raw) = env(var) else {
        return Ok(None);
    };
    let scopes: Vec<String> = raw
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !crate::auth::is_scope_token(s)) {
        return Err(ProviderError::Invalid {
            var,
            reason: format!("`{bad}` is not a valid scope"),
        });
    }
    Ok(Some(scopes))
}

pub(crate) type Mapper = Arc<dyn Fn(&Map<String, Value>) -> UserInfo + Send + Sync>;

/// A preset, resolved: everything needed to verify its tokens and describe it.
pub(crate) struct Assembly {
    pub(crate) issuer: String,
    pub(crate) jwks_url: String,
    /// `None`: tokens must be bound to this server (`aud` or `resource`, RFC 8707).
    pub(crate) audience: Option<String>,
    pub(crate) hs256_secret: Option<String>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) scopes: Vec<String>,
    pub(crate) baseline: Vec<String>,
    pub(crate) map_user: Mapper,
    pub(crate) opaque_hint: Option<String>,
    pub(crate) verify_jwt: bool,
    /// The provider's userinfo endpoint: asked when a token lacks the email or name.
    pub(crate) userinfo: Option<String>,
}

impl Assembly {
    pub(crate) fn new(issuer: String, jwks_url: String, map_user: Mapper) -> Self {
        Assembly {
            issuer,
            jwks_url,
            audience: None,
            hs256_secret: None,
            algorithms: vec![Algorithm::RS256, Algorithm::ES256],
            scopes: Vec::new(),
            baseline: Vec::new(),
            map_user,
            opaque_hint: None,
            verify_jwt: true,
            userinfo: None,
        }
    }

    pub(crate) fn into_oauth(self, client: reqwest::Client) -> OAuth {
        let relay = MetadataRelay::new(self.issuer.clone(), client.clone(), false);
        let oauth = if self.verify_jwt {
            let jwks = Arc::new(JwksCache::new(self.jwks_url, client.clone()));
            let mut v = match &self.hs256_secret {
                Some(secret) => JwtVerifier::jwks_and_hs256(jwks, secret.as_bytes()),
                None => JwtVerifier::jwks(jwks).algorithms(self.algorithms),
            }
            .issuer(self.issuer.clone());
            if let Some(aud) = self.audience {
                v = v.audience(aud);
            }
            if let Some(hint) = self.opaque_hint {
                v = v.opaque_token_hint(hint);
            }
            OAuth::new(v, self.issuer)
        } else {
            OAuth::new(UnverifiedJwt, self.issuer)
        };
        let map = self.map_user;
        let oauth = match self.userinfo {
            Some(url) => oauth.userinfo_endpoint(url, client),
            None => oauth,
        };
        oauth
            .scopes_supported(self.scopes)
            .baseline_scopes(self.baseline)
            .user_info(move |c| map(c))
            .relay_metadata(relay)
    }
}

/// A string claim.
pub(crate) fn claim_str(claims: &Map<String, Value>, key: &str) -> Option<String> {
    claims.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A claim at a path of object keys (`realm_access.roles`).
pub(crate) fn claim_at<'a>(claims: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut v = claims.get(*first)?;
    for k in rest {
        v = v.get(*k)?;
    }
    Some(v)
}

/// Appends the items of `more` not already in `to`.
pub(crate) fn extend_unique(to: &mut Vec<String>, more: impl IntoIterator<Item = String>) {
    for m in more {
        if !to.contains(&m) {
            to.push(m);
        }
    }
}

/// Roles from a claim that is a list, or a single role string.
pub(crate) fn roles_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.contains(' ') => vec![s.clone()],
        other => string_list(other),
    }
}
