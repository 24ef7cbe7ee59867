//! The development identity backend: the sign-in page's answer (`POST /oauth/authorize`).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;

use super::AuthServer;
use super::pages::error_page;
use super::params::{parse_params, redirect_with};
use super::responses::not_started;
use super::state::{AuthRequest, User, txn_key};
use crate::store::Space;

impl AuthServer {
    /// `POST /oauth/authorize`: the sign-in page's answer.
    pub(super) async fn consent(&self, req: &HttpRequest, body: &Bytes) -> HttpResponse {
        let Some(issuer) = self.issuer() else {
            return not_started();
        };
        // The form is only ever posted from the page this server served.
        if let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            && origin != "null"
            && origin != issuer
        {
            return error_page(
                self.look(),
                StatusCode::FORBIDDEN,
                "the sign-in form was posted from another site",
            );
        }
        let params = match parse_params(body) {
            Ok(p) => p,
            Err(msg) => return error_page(self.look(), StatusCode::BAD_REQUEST, &msg),
        };
        let Some(dev) = self.dev() else {
            return self.proxy_consent(req, &params, issuer).await;
        };
        let taken = match params.get("request").and_then(|h| txn_key("signin", h)) {
            Some(key) => self.take::<AuthRequest>(Space::Transactions, &key).await,
            None => Ok(None),
        };
        let pending = match taken {
            Ok(p) => p,
            Err(e) => {
                return error_page(self.look(), StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
            }
        };
        let Some(pending) = pending else {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "this sign-in request has expired or was already answered; start again from the client",
            );
        };
        if params.get("decision").map(String::as_str) != Some("approve") {
            return redirect_with(
                &pending.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the user denied the request"),
                ],
                pending.state.as_deref(),
                issuer,
            );
        }
        let username = params
            .get("username")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .unwrap_or(&dev.user);
        if !valid_username(username) {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "a user name is 1 to 64 letters, digits, `.`, `_`, `-` or `@`; go back and try again",
            );
        }
        let user = if username == dev.user {
            self.default_user()
        } else {
            User {
                sub: username.to_owned(),
                name: Some(username.to_owned()),
                email: Some(if username.contains('@') {
                    username.to_owned()
                } else {
                    format!("{username}@localhost")
                }),
                extra: serde_json::Map::new(),
                grant: None,
            }
        };
        self.grant(pending, user).await
    }

    pub(super) fn default_user(&self) -> User {
        let dev = self.dev().cloned().unwrap_or_default();
        User {
            sub: dev.user.clone(),
            name: Some(dev.name.clone()),
            email: Some(dev.email.clone()),
            extra: serde_json::Map::new(),
            grant: None,
        }
    }
}

pub(crate) fn valid_username(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}
