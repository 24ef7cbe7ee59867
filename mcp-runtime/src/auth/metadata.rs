//! OAuth 2.0 Protected Resource Metadata (RFC 9728).

use serde::Serialize;

/// The document served at `/.well-known/oauth-protected-resource` and at the path-suffixed
/// form for the MCP endpoint (`/.well-known/oauth-protected-resource/mcp`).
///
/// `#[non_exhaustive]`: build it with [`ResourceMetadata::new`] and set the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ResourceMetadata {
    /// The canonical URL of the MCP endpoint (RFC 8707 resource indicator).
    pub resource: String,
    /// Issuer URLs of the authorization servers that issue tokens for it.
    pub authorization_servers: Vec<String>,
    /// How tokens may be sent: only in the `Authorization` header.
    pub bearer_methods_supported: Vec<&'static str>,
    /// Every scope this server understands: the provider's and every tool's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// Human-readable documentation about this resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    /// A name for the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// The algorithms of the DPoP proofs it checks (RFC 9449): a token bound to a key is
    /// accepted as `Authorization: DPoP` with a proof, from any issuer.
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
    /// Whether only DPoP-bound tokens are accepted (no: bearer tokens work too).
    pub dpop_bound_access_tokens_required: bool,
}

impl ResourceMetadata {
    /// The metadata for `resource`, issued by `authorization_servers`.
    pub fn new(resource: impl Into<String>, authorization_servers: Vec<String>) -> Self {
        ResourceMetadata {
            resource: resource.into(),
            authorization_servers,
            bearer_methods_supported: vec!["header"],
            scopes_supported: Vec::new(),
            resource_documentation: None,
            resource_name: None,
            dpop_signing_alg_values_supported: super::dpop::DPOP_ALGORITHMS.to_vec(),
            dpop_bound_access_tokens_required: false,
        }
    }

    /// The path-suffixed well-known URL for a resource URL (RFC 9728 §3.1):
    /// `https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`.
    pub fn well_known_url(resource: &str) -> String {
        let (origin, path) = split_origin(resource);
        let path = if path == "/" { "" } else { path };
        format!("{origin}/.well-known/oauth-protected-resource{path}")
    }
}

/// A URL's origin and the rest: `https://h:1/a/b` → (`https://h:1`, `/a/b`). A string
/// without `://` is all origin.
pub(crate) fn split_origin(url: &str) -> (&str, &str) {
    let Some(i) = url.find("://") else {
        return (url, "");
    };
    let start = i + 3;
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |j| start + j);
    (&url[..end], &url[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_urls_insert_the_path() {
        assert_eq!(
            ResourceMetadata::well_known_url("http://127.0.0.1:3000/mcp"),
            "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            ResourceMetadata::well_known_url("https://api.example.com"),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn origins_split_from_paths() {
        assert_eq!(
            split_origin("http://127.0.0.1:3000/mcp"),
            ("http://127.0.0.1:3000", "/mcp")
        );
        assert_eq!(split_origin("https://a.example"), ("https://a.example", ""));
        assert_eq!(
            split_origin("https://k/realms/x"),
            ("https://k", "/realms/x")
        );
        assert_eq!(split_origin("no-scheme"), ("no-scheme", ""));
    }

    #[test]
    fn serializes_as_rfc_9728() {
        let mut m = ResourceMetadata::new("https://a/mcp", vec!["https://issuer".into()]);
        m.scopes_supported = vec!["openid".into(), "admin".into()];
        let v = serde_json::to_value(&m).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"resource":"https://a/mcp","authorization_servers":["https://issuer"],
                "bearer_methods_supported":["header"],"scopes_supported":["openid","admin"],
                "dpop_signing_alg_values_supported":["ES256","ES384","RS256","PS256","EdDSA","RS384"],
                "dpop_bound_access_tokens_required":false})
        );
    }
}
