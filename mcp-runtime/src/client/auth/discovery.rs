//! Finding the authorization server, in the order the MCP authorization spec gives: the 401
//! challenge's `resource_metadata`, then the path-suffixed and root protected-resource
//! documents (RFC 9728); the authorization server's metadata path-inserted (RFC 8414), then
//! OpenID Connect discovery; without any protected-resource document, the 2025-03-26
//! fallbacks (the MCP server's origin, its metadata or the default endpoints).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::challenge::Challenge;
use super::guard::{MAX_METADATA, bounded_json, check_url, printable};
use crate::client::ClientError;

/// An authorization server's metadata (RFC 8414, or OpenID Connect discovery): what a client
/// needs of it. Give one in the configuration (`oauth_provider`) to skip its discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthServerMetadata {
    /// Its issuer identifier.
    pub issuer: String,
    /// Where users are sent to sign in (empty at a server for machines only).
    #[serde(default)]
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// Where tokens are revoked (RFC 7009), if offered: sign-out calls it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// Dynamic client registration (RFC 7591), if offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// The scopes it knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// PKCE methods: must contain `S256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// How clients may authenticate at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The grants it offers (RFC 8414 default: authorization code and implicit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// Whether a URL may serve as client id (Client ID Metadata Documents).
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
    /// Whether authorization responses carry `iss` (RFC 9207).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl AuthServerMetadata {
    /// Endpoints given by hand (`issuer`, `authorize`, `token`).
    pub fn new(issuer: &str, authorization_endpoint: &str, token_endpoint: &str) -> Self {
        AuthServerMetadata {
            issuer: issuer.to_owned(),
            authorization_endpoint: authorization_endpoint.to_owned(),
            token_endpoint: token_endpoint.to_owned(),
            code_challenge_methods_supported: Some(vec!["S256".into()]),
            ..Default::default()
        }
    }
}

/// What discovery found.
#[derive(Debug, Clone)]
pub(crate) struct Discovered {
    /// The resource to name at authorize and at token (RFC 8707).
    pub(crate) resource: String,
    /// The protected resource's `scopes_supported`.
    pub(crate) resource_scopes: Option<Vec<String>>,
    /// The authorization server.
    pub(crate) metadata: AuthServerMetadata,
}

/// Discovers the authorization server of the MCP server at `mcp_url`.
pub(crate) async fn discover(
    http: &reqwest::Client,
    mcp_url: &str,
    challenge: &Challenge,
    configured: Option<&AuthServerMetadata>,
    log: &(dyn Fn(&str) + Sync),
) -> Result<Discovered, ClientError> {
    let url = url::Url::parse(mcp_url)
        .map_err(|e| ClientError::Config(format!("`{mcp_url}` is not a URL: {e}")))?;
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    let mut candidates = Vec::new();
    if let Some(rm) = &challenge.resource_metadata {
        candidates.push(rm.clone());
    }
    if !path.is_empty() {
        candidates.push(format!(
            "{origin}/.well-known/oauth-protected-resource{path}"
        ));
    }
    candidates.push(format!("{origin}/.well-known/oauth-protected-resource"));
    let mut prm = None;
    for c in &candidates {
        log(&format!("protected resource metadata: GET {c}"));
        if let Some(doc) = get_json(http, c).await
            && doc
                .get("authorization_servers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        {
            prm = Some(doc);
            break;
        }
    }
    let Some(prm) = prm else {
        // 2025-03-26: the MCP server's origin is the authorization server.
        log(
            "no protected resource metadata: the MCP server's origin is the authorization server (2025-03-26)",
        );
        let metadata = match configured {
            Some(m) => m.clone(),
            None => legacy_metadata(http, &origin, log).await?,
        };
        check_metadata(&metadata)?;
        return Ok(Discovered {
            resource: mcp_url.to_owned(),
            resource_scopes: None,
            metadata,
        });
    };
    // RFC 9728 §2: `resource` is required; a document without it is not one for this server.
    let resource = match prm.get("resource").and_then(Value::as_str) {
        Some(r) => {
            check_resource(r, &url)?;
            r.to_owned()
        }
        None => {
            return Err(ClientError::auth(
                "the protected resource metadata has no `resource` (RFC 9728 requires it): \
                 refusing to ask for tokens without knowing which resource they are for",
            ));
        }
    };
    let resource_scopes = prm.get("scopes_supported").and_then(|v| {
        v.as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
    });
    let metadata = match configured {
        Some(m) => m.clone(),
        None => {
            let issuer = prm["authorization_servers"][0]
                .as_str()
                .ok_or_else(|| ClientError::auth("`authorization_servers` holds no URL"))?
                .to_owned();
            check_url("authorization server", &issuer)?;
            as_metadata(http, &issuer, log).await?
        }
    };
    check_metadata(&metadata)?;
    Ok(Discovered {
        resource,
        resource_scopes,
        metadata,
    })
}

/// What every authorization server's metadata must give, however it was found: https
/// endpoints (loopback excepted).
fn check_metadata(m: &AuthServerMetadata) -> Result<(), ClientError> {
    check_url("issuer", &m.issuer)?;
    if !m.authorization_endpoint.is_empty() {
        check_url("authorization endpoint", &m.authorization_endpoint)?;
    }
    check_url("token endpoint", &m.token_endpoint)?;
    if let Some(r) = &m.registration_endpoint {
        check_url("registration endpoint", r)?;
    }
    Ok(())
}

/// What a sign-in through the browser needs besides: an authorization endpoint, and PKCE
/// with S256.
pub(crate) fn check_for_browser(m: &AuthServerMetadata) -> Result<(), ClientError> {
    if m.authorization_endpoint.is_empty() {
        return Err(ClientError::auth(format!(
            "the authorization server {} has no authorization endpoint: users cannot sign in \
             there (a machine client uses the client-credentials grant)",
            printable(&m.issuer)
        )));
    }
    let pkce = m
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|m| m.iter().any(|x| x == "S256"));
    if !pkce {
        return Err(ClientError::auth(format!(
            "the authorization server {} does not advertise PKCE with S256 \
             (code_challenge_methods_supported): refusing to sign in without it",
            printable(&m.issuer)
        )));
    }
    Ok(())
}

/// RFC 8414 §3.3: metadata looked up for `expected` must name it as its issuer, or its
/// endpoints could be anyone's (a mix-up: an honest issuer's name beside an attacker's token
/// endpoint). A trailing `/` is not a difference.
fn check_issuer(found: &str, expected: &str, at: &str) -> Result<(), ClientError> {
    if found.trim_end_matches('/') == expected.trim_end_matches('/') {
        return Ok(());
    }
    Err(ClientError::auth(format!(
        "the authorization server metadata at {at} names issuer `{}`, not `{expected}`: \
         refusing it (RFC 8414 §3.3)",
        printable(found)
    )))
}

/// RFC 9728 §3.3 and the MCP spec: the document's `resource` must be this server (its origin,
/// and a prefix of its path), or its tokens would be for another resource.
fn check_resource(resource: &str, mcp: &url::Url) -> Result<(), ClientError> {
    let bad = || {
        ClientError::auth(format!(
            "the protected resource metadata is for `{resource}`, not for {mcp}: refusing to \
             ask for tokens for another resource"
        ))
    };
    let r = url::Url::parse(resource).map_err(|_| bad())?;
    if r.origin() != mcp.origin() {
        return Err(bad());
    }
    let rp = r.path().trim_end_matches('/');
    let mp = mcp.path().trim_end_matches('/');
    if mp == rp || mp.starts_with(&format!("{rp}/")) || rp.is_empty() {
        Ok(())
    } else {
        Err(bad())
    }
}

/// RFC 8414 path-inserted, then OpenID Connect (path-inserted, then path-appended).
pub(super) async fn as_metadata(
    http: &reqwest::Client,
    issuer: &str,
    log: &(dyn Fn(&str) + Sync),
) -> Result<AuthServerMetadata, ClientError> {
    let u = url::Url::parse(issuer).map_err(|_| {
        ClientError::auth(format!("the authorization server `{issuer}` is not a URL"))
    })?;
    let origin = u.origin().ascii_serialization();
    let path = u.path().trim_end_matches('/');
    let candidates = if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    };
    for c in &candidates {
        log(&format!("authorization server metadata: GET {c}"));
        let Some(doc) = get_json(http, c).await else {
            continue;
        };
        let Ok(m) = serde_json::from_value::<AuthServerMetadata>(doc) else {
            continue;
        };
        // RFC 8414 §3.3: the issuer must be the one the document was looked up for.
        check_issuer(&m.issuer, issuer, c)?;
        return Ok(m);
    }
    Err(ClientError::auth(format!(
        "no authorization server metadata for {issuer} (tried {})",
        candidates.join(", ")
    )))
}

/// 2025-03-26: the origin's RFC 8414 document (whose issuer must be on that origin), else the
/// default endpoints.
async fn legacy_metadata(
    http: &reqwest::Client,
    origin: &str,
    log: &(dyn Fn(&str) + Sync),
) -> Result<AuthServerMetadata, ClientError> {
    let url = format!("{origin}/.well-known/oauth-authorization-server");
    log(&format!("authorization server metadata: GET {url}"));
    if let Some(doc) = get_json(http, &url).await
        && let Ok(m) = serde_json::from_value::<AuthServerMetadata>(doc)
    {
        // 2025-03-26: the authorization server is the MCP server's origin, so the issuer must
        // be on it (servers of that revision put a path after it, e.g. `/oauth`, which the
        // conformance suite's back-compat scenario does). An issuer elsewhere is a mix-up: an
        // honest issuer's name beside the attacker's endpoints.
        let same_origin =
            url::Url::parse(&m.issuer).is_ok_and(|i| i.origin().ascii_serialization() == origin);
        if !same_origin {
            check_issuer(&m.issuer, origin, &url)?;
        }
        return Ok(m);
    }
    log("no metadata: the default endpoints /authorize, /token and /register (2025-03-26)");
    Ok(AuthServerMetadata {
        issuer: origin.to_owned(),
        authorization_endpoint: format!("{origin}/authorize"),
        token_endpoint: format!("{origin}/token"),
        registration_endpoint: Some(format!("{origin}/register")),
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        ..Default::default()
    })
}

/// A JSON object at `url`, or `None` (not there, not JSON, unreachable, not https off
/// loopback, larger than [`MAX_METADATA`]). Redirects are not followed.
async fn get_json(http: &reqwest::Client, url: &str) -> Option<Value> {
    check_url("metadata URL", url).ok()?;
    let resp = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let v = bounded_json(resp, MAX_METADATA).await.ok()?;
    v.is_object().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::check_resource;

    #[test]
    fn the_resource_must_be_this_server_or_a_prefix_of_it() {
        let mcp = url::Url::parse("https://h.example/api/mcp").expect("url");
        assert!(check_resource("https://h.example/api/mcp", &mcp).is_ok());
        assert!(check_resource("https://h.example/api", &mcp).is_ok());
        assert!(check_resource("https://h.example", &mcp).is_ok());
        assert!(check_resource("https://h.example/ap", &mcp).is_err());
        assert!(check_resource("https://other.example/api/mcp", &mcp).is_err());
        assert!(check_resource("http://h.example/api/mcp", &mcp).is_err());
        assert!(check_resource("not a url", &mcp).is_err());
    }
}
