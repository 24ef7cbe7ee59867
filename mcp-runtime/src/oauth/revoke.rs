//! Token revocation (RFC 7009) at `/revoke` (the proxy) or `/oauth/revoke` (the dev server):
//! a client revokes a refresh token or an access token it was issued, and with it the whole
//! grant, on every replica (the grant joins the revoked ones every replica reads).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;

use super::AuthServer;
use super::responses::{no_store, oauth_error, token_error};
use super::state::{Refresh, Spent, hashed, unavailable};
use crate::auth::TokenVerifier as _;
use crate::store::Space;

impl AuthServer {
    /// `POST /revoke`: `token` (and an optional `token_type_hint`), with the client's
    /// authentication as at the token endpoint. 200 for a token revoked, unknown, expired or
    /// malformed alike (RFC 7009 §2.2); 400 `unauthorized_client` for a token issued to
    /// another client (§2.1), which stays valid.
    pub(super) async fn revoke_endpoint(&self, req: &HttpRequest, body: &Bytes) -> HttpResponse {
        let (params, client_id) = match self.client_form(req, body, "revocation").await {
            Ok(form) => form,
            Err(resp) => return *resp,
        };
        let Some(token) = params.get("token").filter(|t| !t.is_empty()) else {
            return token_error("invalid_request", "the request has no `token`");
        };
        // The hint orders the look-ups; either kind is found whatever it says (§2.1).
        let refresh_first =
            params.get("token_type_hint").map(String::as_str) != Some("access_token");
        let found = if refresh_first {
            match self.refresh_grant(token).await {
                Ok(None) => self.access_grant(token).await,
                other => other,
            }
        } else {
            match self.access_grant(token).await {
                Ok(None) => self.refresh_grant(token).await,
                other => other,
            }
        };
        match found {
            Ok(None) => revoked(),
            Ok(Some((owner, _))) if owner != client_id => oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "the token was issued to another client; it is not revoked",
            ),
            Ok(Some((_, spent))) => match self.revoke(&spent).await {
                Ok(()) => {
                    tracing::info!(target: "mcp_runtime::auth", client = %client_id, "a grant was revoked at the client's request (RFC 7009)");
                    revoked()
                }
                Err(e) => unavailable(&e),
            },
            Err(e) => unavailable(&e),
        }
    }

    /// The client and grant of a live refresh token of this server.
    async fn refresh_grant(
        &self,
        token: &str,
    ) -> Result<Option<(String, Spent)>, crate::store::StoreError> {
        let hash = hashed(token);
        let refresh: Option<Refresh> = self.load(Space::RefreshTokens, &hash).await?;
        Ok(refresh
            .filter(|r| r.resource == self.resource_url())
            .map(|r| {
                (
                    r.client_id,
                    Spent {
                        family: r.family,
                        grant: r.user.grant,
                    },
                )
            }))
    }

    /// The client and grant of a valid access token this server issued (its signature, issuer,
    /// audience and expiry checked as the resource server checks them).
    async fn access_grant(
        &self,
        token: &str,
    ) -> Result<Option<(String, Spent)>, crate::store::StoreError> {
        let (Some(keys), Some(issuer)) = (self.verifier_keys.get(), self.issuer()) else {
            return Ok(None);
        };
        let resource = self.resource_url();
        let verifier = crate::auth::verifier::JwtVerifier::jwks(keys.clone())
            .algorithms([crate::auth::Algorithm::RS256])
            .issuer(issuer);
        let Ok(verified) = verifier.verify(token, resource).await else {
            return Ok(None);
        };
        let claim = |k: &str| {
            verified
                .claims
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let (Some(client), Some(family)) = (claim("client_id"), claim("sid")) else {
            return Ok(None);
        };
        Ok(Some((
            client,
            Spent {
                family,
                grant: claim("gid"),
            },
        )))
    }
}

/// 200 with no body (RFC 7009 §2.2).
fn revoked() -> HttpResponse {
    no_store(HttpResponse::Ok())
        .insert_header((actix_web::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .finish()
}
