//! The OAuth proxy's consent page: per client and browser, CSRF-protected by a SameSite=Strict
//! cookie bound to a server-side transaction, remembered in a MAC'd `__Host-` cookie.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::identity::Upstream;
use super::pages::{error_page, page};
use super::params::{random_token, redirect_with};
use super::responses::{cookie, not_started, set_cookie};
use super::state::{AuthRequest, txn_handle, txn_key};
use super::{AuthServer, MAX_PENDING, PENDING_TTL};
use crate::store::Space;

/// The cookie that binds a consent form to the browser that was shown it.
const CSRF_COOKIE: &str = "__Host-mcp-csrf";
/// The cookie that remembers which clients this browser approved.
const CONSENT_COOKIE: &str = "__Host-mcp-consent";
/// At most this many approvals are remembered per browser.
const MAX_REMEMBERED: usize = 20;

/// A consent form waiting for the user's answer.
#[derive(Serialize, Deserialize)]
struct ConsentTxn {
    request: AuthRequest,
    csrf: String,
    client_name: String,
}

impl Upstream {
    fn mac(&self, client_id: &str) -> String {
        let tag = hmac::sign(&self.consent_key, client_id.as_bytes());
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
    }

    /// The clients this browser approved, from its consent cookie (entries with a bad MAC are
    /// ignored).
    fn approved(&self, req: &HttpRequest) -> Vec<String> {
        let Some(value) = cookie(req, CONSENT_COOKIE) else {
            return Vec::new();
        };
        value
            .split('.')
            .filter_map(|entry| {
                let (id, mac) = entry.split_once('~')?;
                aws_lc_rs::constant_time::verify_slices_are_equal(
                    mac.as_bytes(),
                    self.mac(id).as_bytes(),
                )
                .is_ok()
                .then(|| id.to_owned())
            })
            .collect()
    }

    fn consent_cookie(&self, mut clients: Vec<String>, client_id: &str) -> String {
        clients.retain(|c| c != client_id);
        clients.push(client_id.to_owned());
        let skip = clients.len().saturating_sub(MAX_REMEMBERED);
        let value: Vec<String> = clients
            .iter()
            .skip(skip)
            .map(|c| format!("{c}~{}", self.mac(c)))
            .collect();
        format!(
            "{CONSENT_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=2592000",
            value.join(".")
        )
    }
}

impl AuthServer {
    /// After the authorization request is checked: the consent page, or (approved before in
    /// this browser, or auto-approve) straight to the upstream.
    pub(super) async fn proxy_authorize(
        &self,
        req: &HttpRequest,
        request: AuthRequest,
        client_name: &str,
    ) -> HttpResponse {
        let Some(up) = self.upstream() else {
            return not_started();
        };
        if up.config.auto_approve || up.approved(req).contains(&request.client_id) {
            return self.to_upstream(request).await;
        }
        let txn_id = txn_handle(&request.client_id);
        let Some(key) = txn_key("consent", &txn_id) else {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "the client id is malformed",
            );
        };
        let csrf = random_token(24);
        let html = self.look().proxy_consent_page(
            (self.paths().authorize, &txn_id, &csrf),
            client_name,
            &request.redirect_uri,
            &request.scopes,
            &up.config.auth_endpoint,
        );
        let txn = ConsentTxn {
            request,
            csrf: csrf.clone(),
            client_name: client_name.to_owned(),
        };
        if let Err(e) = self
            .save_per_client(
                Space::Transactions,
                &key,
                &txn,
                Some(PENDING_TTL),
                MAX_PENDING,
            )
            .await
        {
            return error_page(self.look(), StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
        }
        let mut resp = page(self.look(), StatusCode::OK, &html);
        set_cookie(
            &mut resp,
            &format!(
                "{CSRF_COOKIE}={csrf}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=600"
            ),
        );
        resp
    }

    /// `POST /authorize`: the consent form's answer. The form must come with the cookie set
    /// when it was shown (SameSite=Strict), and its token must match both.
    pub(super) async fn proxy_consent(
        &self,
        req: &HttpRequest,
        params: &HashMap<String, String>,
        issuer: &str,
    ) -> HttpResponse {
        let Some(up) = self.upstream() else {
            return not_started();
        };
        let Some(key) = params.get("request").and_then(|h| txn_key("consent", h)) else {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "the consent form has no request id, or a malformed one",
            );
        };
        let txn: ConsentTxn = match self.take(Space::Transactions, &key).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                return error_page(
                    self.look(),
                    StatusCode::BAD_REQUEST,
                    "this consent request has expired or was already answered; start again from the client",
                );
            }
            Err(e) => {
                return error_page(self.look(), StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
            }
        };
        let form_csrf = params.get("csrf").map(String::as_str).unwrap_or("");
        let cookie_csrf = cookie(req, CSRF_COOKIE);
        let same = |a: &str, b: &str| {
            aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
        };
        if !(cookie_csrf.as_deref().is_some_and(|c| same(c, &txn.csrf))
            && same(form_csrf, &txn.csrf))
        {
            return error_page(
                self.look(),
                StatusCode::FORBIDDEN,
                "the consent form's security token is missing or wrong (was it posted from another \
                 site, or with cookies off?); start again from the client",
            );
        }
        if params.get("decision").map(String::as_str) != Some("approve") {
            return redirect_with(
                &txn.request.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the user denied the request"),
                ],
                txn.request.state.as_deref(),
                issuer,
            );
        }
        tracing::debug!(target: "mcp_runtime::auth", client = %txn.client_name, "consent given");
        let cookie = up.consent_cookie(up.approved(req), &txn.request.client_id);
        let mut resp = self.to_upstream(txn.request).await;
        set_cookie(&mut resp, &cookie);
        resp
    }
}
