//! The upstream identity backend (the OAuth proxy): the identity provider's settings, its token
//! endpoint, and the upstream tokens kept encrypted at rest. The consent page is in
//! `consent.rs`, the redirect to the provider and its answer in `callback.rs`.

use std::time::Duration;

use actix_web::http::header;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::backend::UpstreamAuth;
use super::identity::Upstream;
use super::params::unix_now;
use super::{AuthServer, REFRESH_TTL};
use crate::store::{Space, StoreError};

/// The upstream tokens of a grant (stored encrypted).
#[derive(Serialize, Deserialize)]
pub(crate) struct UpstreamTokens {
    pub(super) access_token: String,
    pub(super) refresh_token: Option<String>,
    /// Seconds since the epoch; `None` when the upstream did not say.
    pub(super) expires_at: Option<u64>,
}

/// The token endpoint's answer, JSON or (GitHub) form-encoded.
#[derive(Deserialize)]
pub(super) struct TokenAnswer {
    pub(super) access_token: Option<String>,
    pub(super) refresh_token: Option<String>,
    pub(super) id_token: Option<String>,
    pub(super) expires_in: Option<Value>,
    pub(super) scope: Option<String>,
    pub(super) error: Option<String>,
    pub(super) error_description: Option<String>,
}

impl AuthServer {
    /// The upstream, when this is the OAuth proxy.
    pub(super) fn upstream(&self) -> Option<&Upstream> {
        match &self.identity {
            super::Identity::Upstream(u) => Some(u),
            super::Identity::Dev(_) => None,
        }
    }

    /// A request to the upstream token endpoint, authenticated as this server's client;
    /// reads JSON or (GitHub) form-encoded answers, and says what went wrong otherwise.
    pub(super) async fn upstream_token_request(
        &self,
        up: &Upstream,
        mut form: Vec<(&str, &str)>,
    ) -> Result<TokenAnswer, UpstreamFailure> {
        let down = |message: String| UpstreamFailure {
            refused: false,
            message,
        };
        let mut rb = up
            .http
            .post(&up.config.token_endpoint)
            .header(header::ACCEPT.as_str(), "application/json");
        let secret = up
            .config
            .client_secret
            .as_ref()
            .map(|s| s.expose().to_owned());
        match (&secret, up.config.token_auth) {
            (Some(secret), UpstreamAuth::ClientSecretBasic) => {
                rb = rb.basic_auth(&up.config.client_id, Some(secret));
            }
            (Some(secret), UpstreamAuth::ClientSecretPost) => {
                form.push(("client_id", &up.config.client_id));
                form.push(("client_secret", secret));
            }
            (None, _) => form.push(("client_id", &up.config.client_id)),
        }
        let resp = crate::auth::outgoing::send(rb.form(&form))
            .await
            .map_err(|e| {
                down(format!(
                    "the identity provider's token endpoint is unreachable ({})",
                    reqwest_reason(&e)
                ))
            })?;
        let status = resp.status();
        let form_encoded = resp
            .headers()
            .get(header::CONTENT_TYPE.as_str())
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body = resp.bytes().await.map_err(|e| {
            down(format!(
                "the identity provider's token answer broke off ({})",
                reqwest_reason(&e)
            ))
        })?;
        let parsed: Result<TokenAnswer, String> = if form_encoded {
            serde_urlencoded::from_bytes(&body)
                .map_err(|e| format!("the identity provider's token answer is malformed ({e})"))
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| format!("the identity provider's token answer is not JSON ({e})"))
        };
        let answer = match parsed {
            Ok(a) => a,
            Err(_) if !status.is_success() => {
                return Err(down(format!(
                    "the identity provider's token endpoint answered {status}"
                )));
            }
            Err(e) => return Err(down(e)),
        };
        if let Some(error) = &answer.error {
            return Err(UpstreamFailure {
                refused: true,
                message: format!(
                    "the identity provider refused the code: {error}{}",
                    answer
                        .error_description
                        .as_ref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default()
                ),
            });
        }
        if !status.is_success() {
            return Err(down(format!(
                "the identity provider's token endpoint answered {status}"
            )));
        }
        Ok(answer)
    }

    /// Saves a grant's upstream tokens, sealed with AES-256-GCM.
    pub(super) async fn save_upstream(
        &self,
        up: &Upstream,
        grant: &str,
        tokens: &UpstreamTokens,
    ) -> Result<(), StoreError> {
        let plain = serde_json::to_vec(tokens)
            .map_err(|e| StoreError::with_source("the upstream tokens do not serialize", e))?;
        let sealed = up
            .seal(grant, &plain)
            .ok_or_else(|| StoreError::new("encrypting the upstream tokens failed"))?;
        self.store
            .put(
                Space::UpstreamTokens,
                &self.ns_key(grant),
                sealed,
                Some(REFRESH_TTL),
            )
            .await
    }

    /// A grant's upstream tokens, unsealed.
    pub(super) async fn load_upstream(
        &self,
        up: &Upstream,
        grant: &str,
    ) -> Result<Option<UpstreamTokens>, StoreError> {
        let Some(sealed) = self
            .store
            .get(Space::UpstreamTokens, &self.ns_key(grant))
            .await?
        else {
            return Ok(None);
        };
        // Sealed with another process's key (no MCP_STORE_ENCRYPTION_KEY), or for another
        // grant: as if absent.
        Ok(up
            .open(grant, &sealed)
            .and_then(|plain| serde_json::from_slice(&plain).ok()))
    }

    /// Whether clients get the upstream's own access tokens (pass-through mode).
    pub(super) fn pass_through(&self) -> bool {
        self.upstream().is_some_and(|u| u.config.pass_through)
    }

    /// Pass-through: the grant's upstream access token and its remaining lifetime (this
    /// server's access-token lifetime when the upstream did not say).
    pub(super) async fn pass_through_token(
        &self,
        grant: &str,
    ) -> Result<Option<(String, u64)>, StoreError> {
        let Some(up) = self.upstream() else {
            return Ok(None);
        };
        Ok(self.load_upstream(up, grant).await?.map(|t| {
            let left = t
                .expires_at
                .map_or(self.access_ttl.as_secs(), |e| e.saturating_sub(unix_now()));
            (t.access_token, left)
        }))
    }

    /// The upstream access token of a grant, for tools (`Auth::upstream_token`).
    pub(crate) async fn upstream_access_token(
        &self,
        grant: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some(up) = self.upstream() else {
            return Ok(None);
        };
        Ok(self.load_upstream(up, grant).await?.map(|t| t.access_token))
    }

    /// When a client refreshes: refreshes the upstream tokens of its grant if they expire
    /// within a minute and the upstream gave a refresh token. Failures are logged; the grant
    /// keeps what it had.
    pub(super) async fn refresh_upstream(&self, grant: &str) {
        let Some(up) = self.upstream() else { return };
        let Ok(Some(tokens)) = self.load_upstream(up, grant).await else {
            return;
        };
        let (Some(refresh), Some(expires_at)) = (&tokens.refresh_token, tokens.expires_at) else {
            return;
        };
        if expires_at > unix_now() + 60 {
            return;
        }
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        if up.config.forward_resource
            && let Some(r) = self.resource.get()
        {
            form.push(("resource", r));
        }
        match self.upstream_token_request(up, form).await {
            Ok(answer) => {
                let Some(access_token) = answer.access_token else {
                    return;
                };
                let renewed = UpstreamTokens {
                    access_token,
                    refresh_token: answer
                        .refresh_token
                        .or_else(|| tokens.refresh_token.clone()),
                    expires_at: expires_at_from(answer.expires_in.as_ref()),
                };
                if let Err(e) = self.save_upstream(up, grant, &renewed).await {
                    tracing::warn!(target: "mcp_runtime::auth", "saving refreshed upstream tokens failed: {e}");
                }
            }
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::auth", "refreshing upstream tokens failed: {e}")
            }
        }
    }
}

/// A failed request to the upstream token endpoint.
pub(super) struct UpstreamFailure {
    /// The provider answered with an OAuth error (the code or refresh token was refused);
    /// otherwise it was unreachable, slow or failing.
    pub(super) refused: bool,
    pub(super) message: String,
}

impl std::fmt::Display for UpstreamFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub(super) fn expires_at(expires_in: Option<&Value>) -> Option<u64> {
    expires_at_from(expires_in)
}

/// `expires_in` (a number, or a string of one, as some providers send) as an absolute time.
pub(super) fn expires_at_from(expires_in: Option<&Value>) -> Option<u64> {
    let secs = match expires_in? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some(unix_now() + secs.min(Duration::from_secs(366 * 24 * 3600).as_secs()))
}

/// A reqwest error without its URL (which may carry a query worth keeping out of pages).
pub(super) fn reqwest_reason(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused or failed"
    } else if e.is_decode() || e.is_body() {
        "unreadable answer"
    } else {
        "request failed"
    }
}
