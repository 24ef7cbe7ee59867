//! Machine clients registered by the operator (OAuth 2.1 §4.2, the client-credentials grant):
//! a service that calls the MCP server with no user behind it authenticates with a secret
//! (`client_secret_basic`, `client_secret_post`) or a signed JWT assertion (`private_key_jwt`,
//! RFC 7523 §2.2), and gets an access token for this server's resource with the scopes it was
//! given. Dynamically registered clients never can: they have no operator vouching for them.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::params::sha256;
use crate::auth::jwks::JwksCache;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub(super) const JWT_BEARER_ASSERTION: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// An assertion may be valid for at most this long (its `jti` is remembered that long).
pub(super) const MAX_ASSERTION_LIFETIME: u64 = 300;
/// The signing algorithms accepted in client assertions: asymmetric only (a shared-secret
/// assertion would be a client secret by another name), each only with a key of its kind.
pub(super) const ASSERTION_ALGORITHMS: [crate::auth::Algorithm; 8] = {
    use crate::auth::Algorithm::*;
    [RS256, RS384, RS512, PS256, PS384, PS512, ES256, EdDSA]
};
/// A secret shorter than this is refused: a machine's secret is generated, never typed.
const MIN_SECRET_LEN: usize = 32;

/// A machine-to-machine client the operator registers with the authorization server (the
/// development server or the OAuth proxy): it gets access tokens with the client-credentials
/// grant, for this server's resource, with at most the scopes given here.
///
/// ```
/// use mcp_runtime::providers::{DevProvider, ServiceClient};
///
/// let reporter = ServiceClient::with_secret("nightly-report", "7dN0cQm1vQ9sWc3kzJx2pLr8aT5yHe6u")
///     .expect("a long enough secret")
///     .scopes(["reports:read"]);
/// let provider = DevProvider::new().service_client(reporter);
/// # let _ = provider;
/// ```
///
/// From the environment, `MCP_OAUTH_CLIENTS` holds a JSON array of the same (or the path of a
/// file holding it): `[{"client_id": "nightly-report", "client_secret": "…", "scope":
/// "reports:read"}]`, with `jwks` (a JSON Web Key Set) or `public_key_pem` in place of
/// `client_secret` for `private_key_jwt`.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceClient {
    pub(super) id: String,
    pub(super) credential: Credential,
    pub(super) scopes: Vec<String>,
    pub(super) name: Option<String>,
}

/// How a service client proves who it is.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum Credential {
    /// Base64url SHA-256 of its secret (the secret itself is not kept).
    SecretHash(String),
    /// Its public keys, as a JWKS document: it signs assertions with the private halves.
    Jwks(String),
}

impl std::fmt::Debug for ServiceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceClient")
            .field("id", &self.id)
            .field(
                "credential",
                &match self.credential {
                    Credential::SecretHash(_) => "client secret",
                    Credential::Jwks(_) => "public keys (private_key_jwt)",
                },
            )
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Why a service client's definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service client `{client_id}`: {reason}")]
pub struct ServiceClientError {
    /// The client it is about.
    pub client_id: String,
    /// What is wrong, and what to do.
    pub reason: String,
}

fn refuse(id: &str, reason: impl Into<String>) -> ServiceClientError {
    ServiceClientError {
        client_id: id.to_owned(),
        reason: reason.into(),
    }
}

fn check_id(id: &str) -> Result<(), ServiceClientError> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
    {
        return Err(refuse(
            id,
            "a client id is 1 to 128 letters, digits, `.`, `_`, `-` or `@`",
        ));
    }
    Ok(())
}

impl ServiceClient {
    /// A client that authenticates with `secret` (`client_secret_basic` or
    /// `client_secret_post`). Only its hash is kept. The secret must be at least 32
    /// characters: generate it (`openssl rand -base64 32`).
    pub fn with_secret(
        id: impl Into<String>,
        secret: impl AsRef<str>,
    ) -> Result<Self, ServiceClientError> {
        let id = id.into();
        check_id(&id)?;
        let secret = secret.as_ref();
        if secret.chars().count() < MIN_SECRET_LEN {
            return Err(refuse(
                &id,
                format!(
                    "the client secret is shorter than {MIN_SECRET_LEN} characters; generate one \
                     (`openssl rand -base64 32`)"
                ),
            ));
        }
        Ok(ServiceClient {
            credential: Credential::SecretHash(super::params::hashed(secret)),
            id,
            scopes: Vec::new(),
            name: None,
        })
    }

    /// A client that signs JWT assertions (`private_key_jwt`, RFC 7523) with the private
    /// halves of the keys in `jwks` (a JSON Web Key Set: RSA, P-256 or Ed25519 public keys).
    pub fn with_jwks(id: impl Into<String>, jwks: &str) -> Result<Self, ServiceClientError> {
        let id = id.into();
        check_id(&id)?;
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(jwks)
            .map_err(|e| refuse(&id, format!("`jwks` is not a JSON Web Key Set ({e})")))?;
        if set.keys.is_empty() {
            return Err(refuse(&id, "`jwks` has no keys"));
        }
        for key in &set.keys {
            if matches!(
                key.algorithm,
                jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_)
            ) {
                return Err(refuse(
                    &id,
                    "`jwks` holds a symmetric (`oct`) key; private_key_jwt needs public keys \
                     (RSA, EC P-256 or Ed25519)",
                ));
            }
            crate::auth::jws::PublicKey::from_jwk(key)
                .map_err(|e| refuse(&id, format!("a key in `jwks` is unusable: {e}")))?;
        }
        Ok(ServiceClient {
            credential: Credential::Jwks(jwks.to_owned()),
            id,
            scopes: Vec::new(),
            name: None,
        })
    }

    /// A client that signs JWT assertions with the private half of `pem`, a public key in PEM
    /// (`-----BEGIN PUBLIC KEY-----`, EC P-256 or Ed25519; give an RSA key as a JWKS with
    /// [`with_jwks`](Self::with_jwks)).
    pub fn with_public_key_pem(
        id: impl Into<String>,
        pem: &str,
    ) -> Result<Self, ServiceClientError> {
        let id = id.into();
        let jwk = pem_to_jwk(pem).map_err(|e| refuse(&id, e))?;
        Self::with_jwks(id, &serde_json::json!({ "keys": [jwk] }).to_string())
    }

    /// The scopes it may be given (default: none beyond what every token carries). A token
    /// request naming others is refused with `invalid_scope`; one naming none gets them all.
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A name for logs and the tokens' `name` claim.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Its client id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether it authenticates with signed assertions.
    pub(super) fn uses_keys(&self) -> bool {
        matches!(self.credential, Credential::Jwks(_))
    }

    /// Reads `MCP_OAUTH_CLIENTS`: a JSON array, or the path of a file holding one.
    pub(crate) fn list_from_env(value: &str) -> Result<Vec<ServiceClient>, String> {
        let text = if value.trim_start().starts_with('[') {
            value.to_owned()
        } else {
            std::fs::read_to_string(value.trim()).map_err(|e| {
                format!(
                    "`{}` is neither a JSON array of clients nor a readable file ({e})",
                    value.trim()
                )
            })?
        };
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            client_id: String,
            #[serde(default)]
            client_secret: Option<String>,
            #[serde(default)]
            jwks: Option<Value>,
            #[serde(default)]
            public_key_pem: Option<String>,
            #[serde(default)]
            scope: Option<String>,
            #[serde(default)]
            client_name: Option<String>,
        }
        let entries: Vec<Entry> = serde_json::from_str(&text).map_err(|e| {
            format!(
                "not a JSON array of clients ({e}); write [{{\"client_id\": \"…\", \
                 \"client_secret\": \"…\", \"scope\": \"…\"}}] (or `jwks` / `public_key_pem` \
                 in place of `client_secret`)"
            )
        })?;
        let mut out: Vec<ServiceClient> = Vec::new();
        for e in entries {
            let client = match (e.client_secret, e.jwks, e.public_key_pem) {
                (Some(secret), None, None) => ServiceClient::with_secret(&e.client_id, secret),
                (None, Some(jwks), None) => {
                    ServiceClient::with_jwks(&e.client_id, &jwks.to_string())
                }
                (None, None, Some(pem)) => ServiceClient::with_public_key_pem(&e.client_id, &pem),
                _ => Err(refuse(
                    &e.client_id,
                    "give exactly one of `client_secret`, `jwks` and `public_key_pem`",
                )),
            }
            .map_err(|e| e.to_string())?;
            if out.iter().any(|c| c.id == client.id) {
                return Err(format!("client `{}` is listed twice", client.id));
            }
            let mut client = client.scopes(
                e.scope
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned),
            );
            client.name = e.client_name;
            out.push(client);
        }
        Ok(out)
    }
}

/// A public key in PEM (SubjectPublicKeyInfo), P-256 or Ed25519, as a JWK.
fn pem_to_jwk(pem: &str) -> Result<Value, String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    if !pem.contains("-----BEGIN PUBLIC KEY-----") {
        return Err(
            "`public_key_pem` is not a PEM public key (`-----BEGIN PUBLIC KEY-----`)".into(),
        );
    }
    let der = STANDARD
        .decode(body)
        .map_err(|_| "`public_key_pem` is not valid base64 inside its PEM lines".to_owned())?;
    // The fixed SubjectPublicKeyInfo prefixes of the two key kinds (RFC 5480, RFC 8410).
    const P256: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    const ED25519: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    if let Some(point) = der.strip_prefix(&P256[..])
        && point.len() == 65
        && point[0] == 0x04
    {
        return Ok(serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        }));
    }
    if let Some(x) = der.strip_prefix(&ED25519[..])
        && x.len() == 32
    {
        return Ok(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(x),
        }));
    }
    Err(
        "`public_key_pem` is neither an EC P-256 nor an Ed25519 public key; give an RSA key as \
         `jwks`"
            .into(),
    )
}

/// The service clients of one authorization server, with their keys parsed once.
#[derive(Default)]
pub(super) struct Services {
    by_id: HashMap<String, Service>,
}

pub(super) struct Service {
    pub(super) client: ServiceClient,
    /// Its keys, for assertions.
    pub(super) keys: Option<Arc<JwksCache>>,
}

impl Services {
    pub(super) fn new(list: &[ServiceClient]) -> Result<Self, String> {
        let mut by_id = HashMap::new();
        for c in list {
            let keys = match &c.credential {
                Credential::Jwks(jwks) => Some(Arc::new(
                    JwksCache::fixed(jwks.as_bytes())
                        .map_err(|e| format!("service client `{}`: `jwks` ({e})", c.id))?,
                )),
                Credential::SecretHash(_) => None,
            };
            if by_id
                .insert(
                    c.id.clone(),
                    Service {
                        client: c.clone(),
                        keys,
                    },
                )
                .is_some()
            {
                return Err(format!("service client `{}` is registered twice", c.id));
            }
        }
        Ok(Services { by_id })
    }

    pub(super) fn get(&self, id: &str) -> Option<&Service> {
        self.by_id.get(id)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub(super) fn any_keys(&self) -> bool {
        self.by_id.values().any(|s| s.client.uses_keys())
    }
}

/// The store key of an assertion's `jti`: hashed, so that any text is a safe key.
pub(super) fn assertion_key(client_id: &str, jti: &str) -> String {
    use base64::Engine as _;
    let digest = sha256(format!("{client_id}\n{jti}"));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..18])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_checked() {
        let e = ServiceClient::with_secret("svc", "short").expect_err("short secret");
        assert!(e.to_string().contains("shorter than 32"), "{e}");
        let e = ServiceClient::with_secret("has space", "x".repeat(40)).expect_err("id");
        assert!(e.to_string().contains("1 to 128 letters"), "{e}");
        let e = ServiceClient::with_jwks("svc", r#"{"keys":[{"kty":"oct","k":"AAAA"}]}"#)
            .expect_err("oct");
        assert!(e.to_string().contains("symmetric"), "{e}");
        let e = ServiceClient::with_jwks("svc", "{}").expect_err("not a set");
        assert!(e.to_string().contains("JSON Web Key Set"), "{e}");
        let e = ServiceClient::with_public_key_pem("svc", "nope").expect_err("pem");
        assert!(e.to_string().contains("BEGIN PUBLIC KEY"), "{e}");
        // A P-256 key in PEM becomes an ES256 JWK.
        let pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECEhValHKQQUPJ0IGMh0+aTpn9QBO\n1RLANz9Wfl6EiVlnu14s2YkWJXa48hT08KnmBz0vDZ/s9spwSl83xRRHxw==\n-----END PUBLIC KEY-----\n";
        let c = ServiceClient::with_public_key_pem("svc", pem).expect("p-256");
        assert!(c.uses_keys());
        let ed = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAjCK6BRB8tfDvXQpxnDpZvUDiUsw02y4ZyrCgmfp+ijw=\n-----END PUBLIC KEY-----";
        assert!(ServiceClient::with_public_key_pem("svc", ed).is_ok());
        let list = ServiceClient::list_from_env(
            r#"[{"client_id":"a","client_secret":"0123456789abcdef0123456789abcdef","scope":"x y"}]"#,
        )
        .expect("list");
        assert_eq!(list[0].scopes, ["x", "y"]);
        let e = ServiceClient::list_from_env(
            r#"[{"client_id":"a","client_secret":"0123456789abcdef0123456789abcdef","jwks":{}}]"#,
        )
        .expect_err("two credentials");
        assert!(e.contains("exactly one"), "{e}");
        let e = ServiceClient::list_from_env("/nonexistent/clients.json").expect_err("file");
        assert!(e.contains("neither a JSON array"), "{e}");
        let e = ServiceClient::list_from_env(r#"[{"client_id":"a","secret":"x"}]"#)
            .expect_err("unknown field");
        assert!(e.contains("unknown field"), "{e}");
    }
}
