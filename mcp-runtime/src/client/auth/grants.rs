//! The grants a client uses without a browser: its own credentials (client credentials), a JWT
//! its platform gave it (workload identity federation, the RFC 7523 JWT-bearer grant), and a
//! company's identity provider vouching for the user (enterprise-managed authorization: an
//! RFC 8693 token exchange at the identity provider for an ID-JAG, then the JWT-bearer grant).

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::secret::Secret;
use crate::client::ClientError;

/// The JWT-bearer grant type (RFC 7523 §2.1).
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
const ID_JAG_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

type Fetch = dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync;

/// Where a JWT the client presents comes from: fixed, a file read at each use (a platform
/// that rotates it, such as a Kubernetes projected service-account token), or a function
/// (a cloud metadata endpoint, a vault).
#[derive(Clone)]
pub struct AssertionSource(Arc<Fetch>);

impl std::fmt::Debug for AssertionSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AssertionSource(<redacted>)")
    }
}

impl AssertionSource {
    /// This JWT, every time.
    pub fn fixed(jwt: impl Into<String>) -> Self {
        let jwt = Secret::new(jwt);
        AssertionSource(Arc::new(move || {
            let jwt = jwt.expose().to_owned();
            Box::pin(async move { Ok(jwt) })
        }))
    }

    /// The JWT in `path`, read anew at each use (surrounding whitespace trimmed).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        AssertionSource(Arc::new(move || {
            let path = path.clone();
            Box::pin(async move {
                let text = tokio::fs::read_to_string(&path)
                    .await
                    .map_err(|e| format!("cannot read the JWT in {}: {e}", path.display()))?;
                let jwt = text.trim().to_owned();
                if jwt.is_empty() {
                    return Err(format!("{} is empty: no JWT to present", path.display()));
                }
                Ok(jwt)
            })
        }))
    }

    /// The JWT `f` returns, asked at each use.
    pub fn from_fn<F, Fut>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        AssertionSource(Arc::new(move || Box::pin(f())))
    }

    pub(crate) async fn get(&self) -> Result<String, ClientError> {
        (self.0)()
            .await
            .map_err(|e| ClientError::auth(format!("no assertion to present: {e}")))
    }
}

/// Enterprise-managed authorization (the MCP extension built on the Identity Assertion
/// Authorization Grant): the company's identity provider, where the user is signed in
/// already, exchanges their ID token for an ID-JAG naming the MCP server's authorization
/// server (RFC 8693); that authorization server takes it as a JWT-bearer grant. No browser,
/// no consent page: the company's policy at its identity provider decides.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnterpriseGrant {
    /// The identity provider's token endpoint (https, or loopback http).
    pub idp_token_endpoint: String,
    /// This client's id at the identity provider.
    pub idp_client_id: String,
    /// Its secret there, if it is a confidential client (sent with HTTP Basic).
    pub idp_client_secret: Option<Secret>,
    /// The user's ID token from the identity provider.
    pub id_token: AssertionSource,
}

impl EnterpriseGrant {
    /// The grant through `idp_token_endpoint` as `idp_client_id`, presenting `id_token`.
    pub fn new(
        idp_token_endpoint: impl Into<String>,
        idp_client_id: impl Into<String>,
        id_token: AssertionSource,
    ) -> Self {
        EnterpriseGrant {
            idp_token_endpoint: idp_token_endpoint.into(),
            idp_client_id: idp_client_id.into(),
            idp_client_secret: None,
            id_token,
        }
    }

    /// The client's secret at the identity provider.
    pub fn idp_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.idp_client_secret = Some(Secret::new(secret));
        self
    }

    /// RFC 8693 at the identity provider: the ID token for an ID-JAG for `audience` (the
    /// authorization server's issuer) and `resource` (the MCP server).
    pub(crate) async fn id_jag(
        &self,
        http: &reqwest::Client,
        audience: &str,
        resource: &str,
        scope: Option<&str>,
    ) -> Result<String, ClientError> {
        super::guard::check_url("identity provider token endpoint", &self.idp_token_endpoint)?;
        let id_token = self.id_token.get().await?;
        let mut form = vec![
            ("grant_type", TOKEN_EXCHANGE.to_owned()),
            ("requested_token_type", ID_JAG_TYPE.to_owned()),
            ("subject_token", id_token),
            ("subject_token_type", ID_TOKEN_TYPE.to_owned()),
            ("audience", audience.to_owned()),
            ("resource", resource.to_owned()),
        ];
        if let Some(s) = scope {
            form.push(("scope", s.to_owned()));
        }
        let mut rb = http
            .post(&self.idp_token_endpoint)
            .header("accept", "application/json");
        match &self.idp_client_secret {
            Some(secret) => {
                let id: String =
                    url::form_urlencoded::byte_serialize(self.idp_client_id.as_bytes()).collect();
                let pw: String =
                    url::form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect();
                rb = rb.basic_auth(id, Some(pw));
            }
            None => form.push(("client_id", self.idp_client_id.clone())),
        }
        let endpoint = &self.idp_token_endpoint;
        let resp = rb.form(&form).send().await.map_err(|e| {
            ClientError::http(
                format!("the identity provider's token endpoint {endpoint} is unreachable"),
                e,
            )
        })?;
        let status = resp.status();
        let body = super::guard::bounded_json(resp, super::guard::MAX_ANSWER)
            .await
            .unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(ClientError::auth(format!(
                "the identity provider refused the token exchange ({}{})",
                body.get("error")
                    .and_then(Value::as_str)
                    .map(super::guard::printable)
                    .unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
                body.get("error_description")
                    .and_then(Value::as_str)
                    .map(|d| format!(": {}", super::guard::printable(d)))
                    .unwrap_or_default()
            )));
        }
        if body.get("issued_token_type").and_then(Value::as_str) != Some(ID_JAG_TYPE) {
            return Err(ClientError::auth(format!(
                "the identity provider issued a `{}`, not an ID-JAG ({ID_JAG_TYPE})",
                body.get("issued_token_type")
                    .and_then(Value::as_str)
                    .map(super::guard::printable)
                    .unwrap_or_else(|| "token of no stated type".into())
            )));
        }
        body.get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ClientError::auth("the identity provider's answer has no ID-JAG"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn assertions_come_from_where_they_are_said_to() {
        assert_eq!(
            AssertionSource::fixed("a.b.c").get().await.expect("fixed"),
            "a.b.c"
        );
        let dir = std::env::temp_dir().join(format!("mcp-wif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("token");
        std::fs::write(&file, "one.two.three\n").expect("write");
        let source = AssertionSource::file(&file);
        assert_eq!(source.get().await.expect("file"), "one.two.three");
        // Rotated on disk: the next use reads the new one.
        std::fs::write(&file, "four.five.six").expect("write");
        assert_eq!(source.get().await.expect("file"), "four.five.six");
        std::fs::write(&file, "  \n").expect("write");
        let e = source.get().await.expect_err("empty");
        assert!(e.to_string().contains("is empty"), "{e}");
        let e = AssertionSource::file(dir.join("missing"))
            .get()
            .await
            .expect_err("missing");
        assert!(e.to_string().contains("cannot read the JWT"), "{e}");
        assert_eq!(
            format!("{:?}", AssertionSource::fixed("secret.jwt.here")),
            "AssertionSource(<redacted>)"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
