//! The token endpoint: the authorization-code, refresh-token and client-credentials grants,
//! with the client's authentication (`client_secret_basic`, `client_secret_post`,
//! `private_key_jwt` or `none`).

use serde::Deserialize;
use serde_json::Value;

use super::secret::Secret;
use crate::client::ClientError;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenAuthMethod {
    /// HTTP Basic with the client id and secret.
    ClientSecretBasic,
    /// The id and secret in the form.
    ClientSecretPost,
    /// A public client: the id only (PKCE protects the code).
    None,
    /// A JWT signed with the client's private key (RFC 7523 §2.2): no secret is sent.
    PrivateKeyJwt,
}

impl TokenAuthMethod {
    /// From its RFC 7591 name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client_secret_basic" => Some(TokenAuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(TokenAuthMethod::ClientSecretPost),
            "none" => Some(TokenAuthMethod::None),
            "private_key_jwt" => Some(TokenAuthMethod::PrivateKeyJwt),
            _ => None,
        }
    }
}

/// The client, as the token endpoint sees it.
#[derive(Debug, Clone)]
pub(crate) struct ClientCreds {
    pub(crate) client_id: String,
    pub(crate) secret: Option<Secret>,
    pub(crate) method: TokenAuthMethod,
    /// Its private key, for `private_key_jwt`.
    pub(crate) key: Option<std::sync::Arc<super::assertion::ClientKey>>,
    /// The authorization server's issuer (the audience of its assertions).
    pub(crate) audience: String,
}

/// A successful token answer.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<Value>,
    #[serde(default)]
    pub(crate) refresh_token: Option<String>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
}

impl TokenAnswer {
    /// `expires_in` as seconds (some servers send a string), at most a year: a server
    /// cannot make the client compute past the end of time.
    pub(crate) fn expires_in(&self) -> Option<u64> {
        let secs = match self.expires_in.as_ref()? {
            Value::Number(n) => n.as_u64()?,
            Value::String(s) => s.parse().ok()?,
            _ => return None,
        };
        Some(secs.min(super::guard::MAX_EXPIRES_IN))
    }
}

/// A refused or failed token request.
#[derive(Debug)]
pub(crate) struct TokenFailure {
    /// The OAuth `error` code, when the server sent one (`invalid_grant`, `invalid_client`).
    pub(crate) error: Option<String>,
    pub(crate) message: String,
    /// The HTTP error, when the endpoint could not be reached.
    pub(crate) source: Option<crate::model::BoxError>,
}

impl From<TokenFailure> for ClientError {
    fn from(f: TokenFailure) -> Self {
        ClientError::Auth {
            message: f.message,
            source: f.source,
        }
    }
}

/// `rb` with the client's authentication: Basic, or `client_id` (and `client_secret`) in
/// `form`.
fn authenticated(
    mut rb: reqwest::RequestBuilder,
    creds: &ClientCreds,
    form: &mut Vec<(&str, String)>,
) -> Result<reqwest::RequestBuilder, String> {
    rb = rb.header("accept", "application/json");
    if creds.method == TokenAuthMethod::PrivateKeyJwt {
        let key = creds.key.as_ref().ok_or_else(|| {
            "private_key_jwt needs the client's private key (`client_key`)".to_owned()
        })?;
        let assertion = key
            .assertion(&creds.client_id, &creds.audience)
            .map_err(|e| e.to_string())?;
        form.push((
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
        ));
        form.push(("client_assertion", assertion));
        return Ok(rb);
    }
    match (creds.method, &creds.secret) {
        (TokenAuthMethod::ClientSecretBasic, Some(secret)) => {
            // RFC 6749 §2.3.1: both form-urlencoded before the Basic encoding.
            let id: String =
                url::form_urlencoded::byte_serialize(creds.client_id.as_bytes()).collect();
            let pw: String =
                url::form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect();
            rb = rb.basic_auth(id, Some(pw));
        }
        (TokenAuthMethod::ClientSecretPost, Some(secret)) => {
            form.push(("client_id", creds.client_id.clone()));
            form.push(("client_secret", secret.expose().to_owned()));
        }
        // No client at all (an assertion grant without one): nothing to add.
        _ if creds.client_id.is_empty() => {}
        _ => form.push(("client_id", creds.client_id.clone())),
    }
    Ok(rb)
}

/// Revokes `token` at `endpoint` (RFC 7009) as `creds`; `hint` is `refresh_token` or
/// `access_token`. Any 200 is a success (the server answers 200 for tokens it does not know).
pub(crate) async fn revoke(
    http: &reqwest::Client,
    endpoint: &str,
    creds: &ClientCreds,
    token: &str,
    hint: &str,
) -> Result<(), String> {
    let mut form = vec![
        ("token", token.to_owned()),
        ("token_type_hint", hint.to_owned()),
    ];
    let rb = authenticated(http.post(endpoint), creds, &mut form)?;
    let resp = rb
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("the revocation endpoint {endpoint} is unreachable ({e})"))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body: Value = super::guard::bounded_json(resp, super::guard::MAX_ANSWER)
        .await
        .unwrap_or(Value::Null);
    Err(format!(
        "the revocation endpoint {endpoint} answered {}{}",
        status.as_u16(),
        body.get("error")
            .and_then(Value::as_str)
            .map(|e| format!(" ({})", super::guard::printable(e)))
            .unwrap_or_default()
    ))
}

/// A client's DPoP key and the authorization server's latest nonce for it.
pub(crate) struct Dpop<'a> {
    pub(crate) key: &'a super::dpop::DpopKey,
    pub(crate) nonce: &'a std::sync::Mutex<Option<String>>,
}

/// POSTs `form` to the token endpoint as `creds`; with `dpop`, a proof with it (for a
/// DPoP-bound token), again once with the server's nonce when it asks for one (RFC 9449 §8).
pub(crate) async fn request(
    http: &reqwest::Client,
    endpoint: &str,
    creds: &ClientCreds,
    form: Vec<(&str, String)>,
    dpop: Option<&Dpop<'_>>,
) -> Result<TokenAnswer, TokenFailure> {
    let mut retried = false;
    loop {
        let proof = match dpop {
            Some(d) => {
                let nonce = d
                    .nonce
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                Some(
                    d.key
                        .proof("POST", endpoint, None, nonce.as_deref())
                        .map_err(|e| TokenFailure {
                            error: None,
                            message: e.to_string(),
                            source: None,
                        })?,
                )
            }
            None => None,
        };
        let (outcome, nonce) = request_once(http, endpoint, creds, form.clone(), proof).await;
        if let (Some(d), Some(n)) = (dpop, &nonce) {
            *d.nonce
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(n.clone());
        }
        match outcome {
            Err(f)
                if !retried
                    && dpop.is_some()
                    && nonce.is_some()
                    && f.error.as_deref() == Some("use_dpop_nonce") =>
            {
                retried = true;
            }
            other => return other,
        }
    }
}

/// One token request; with the server's `DPoP-Nonce`, if it sent one.
async fn request_once(
    http: &reqwest::Client,
    endpoint: &str,
    creds: &ClientCreds,
    mut form: Vec<(&str, String)>,
    proof: Option<String>,
) -> (Result<TokenAnswer, TokenFailure>, Option<String>) {
    let dpop = proof.is_some();
    let mut rb = match authenticated(http.post(endpoint), creds, &mut form) {
        Ok(rb) => rb,
        Err(message) => {
            return (
                Err(TokenFailure {
                    error: None,
                    message,
                    source: None,
                }),
                None,
            );
        }
    };
    if let Some(p) = proof {
        rb = rb.header("dpop", p);
    }
    let sent = rb.form(&form).send().await;
    let nonce = sent.as_ref().ok().and_then(|r| {
        r.headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    (answer_of(sent, endpoint, dpop).await, nonce)
}

async fn answer_of(
    sent: reqwest::Result<reqwest::Response>,
    endpoint: &str,
    dpop: bool,
) -> Result<TokenAnswer, TokenFailure> {
    let resp = sent.map_err(|e| TokenFailure {
        error: None,
        message: format!(
            "the token endpoint {endpoint} is unreachable ({})",
            if e.is_timeout() {
                "timed out"
            } else {
                "connection failed"
            }
        ),
        source: Some(e.into()),
    })?;
    let status = resp.status();
    let body: Value = match super::guard::bounded_json(resp, super::guard::MAX_ANSWER).await {
        Ok(v) => v,
        Err(why) if why.contains("larger") => {
            return Err(TokenFailure {
                error: None,
                message: format!("the token endpoint {endpoint} answered too much: {why}"),
                source: None,
            });
        }
        Err(_) => Value::Null,
    };
    if status.is_success()
        && let Ok(answer) = serde_json::from_value::<TokenAnswer>(body.clone())
    {
        let understood =
            |t: &str| t.eq_ignore_ascii_case("bearer") || (dpop && t.eq_ignore_ascii_case("dpop"));
        if answer.token_type.as_deref().is_some_and(|t| !understood(t)) {
            return Err(TokenFailure {
                error: None,
                message: format!(
                    "the token endpoint issued a `{}` token; this client sends bearer tokens{}",
                    answer.token_type.as_deref().unwrap_or_default(),
                    if dpop {
                        " and DPoP-bound ones"
                    } else {
                        " only"
                    }
                ),
                source: None,
            });
        }
        return Ok(answer);
    }
    let error = body
        .get("error")
        .and_then(Value::as_str)
        .map(super::guard::printable);
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| format!(": {}", super::guard::printable(d)))
        .unwrap_or_default();
    Err(TokenFailure {
        message: match &error {
            Some(e) => format!("the token endpoint refused ({e}{description})"),
            None => format!("the token endpoint answered HTTP {status} without a token"),
        },
        error,
        source: None,
    })
}
