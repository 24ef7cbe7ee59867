//! `POST /oauth/token`: the authorization-code and refresh-token grants, and client
//! authentication.

use std::collections::HashMap;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use serde_json::{Value, json};

use super::params::{is_b64url, parse_params, pct_decode, random_token, sha256, unix_now};
use super::responses::{client_error, no_store, not_started, oauth_error, token_error};
use super::state::Refresh;
use super::{AuthServer, MAX_REFRESH, REFRESH_TTL};

impl AuthServer {
    /// `POST /oauth/token`.
    pub(super) fn token(&self, req: &HttpRequest, body: &Bytes) -> HttpResponse {
        let Some(issuer) = self.issuer() else {
            return not_started();
        };
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !is_form {
            return token_error(
                "invalid_request",
                "send the token request as application/x-www-form-urlencoded",
            );
        }
        let params = match parse_params(body) {
            Ok(p) => p,
            Err(msg) => return token_error("invalid_request", &msg),
        };
        let client_id = match self.authenticate_client(req, &params) {
            Ok(id) => id,
            Err(resp) => return *resp,
        };
        let get = |k: &str| params.get(k).map(String::as_str);
        if let Err(msg) = self.check_resource(get("resource")) {
            return token_error("invalid_target", &msg);
        }
        let (scopes, user, family) = match get("grant_type") {
            Some("authorization_code") => {
                let Some(code) = get("code") else {
                    return token_error("invalid_request", "the request has no `code`");
                };
                let Some(verifier) = get("code_verifier") else {
                    return token_error(
                        "invalid_request",
                        "PKCE is required: send the code_verifier",
                    );
                };
                let Some(grant) = self.store().codes.remove(code) else {
                    return token_error(
                        "invalid_grant",
                        "the authorization code is unknown, expired or already used",
                    );
                };
                if grant.expires <= Instant::now() {
                    return token_error("invalid_grant", "the authorization code has expired");
                }
                if grant.request.client_id != client_id {
                    return token_error(
                        "invalid_grant",
                        "the authorization code was issued to another client",
                    );
                }
                match get("redirect_uri") {
                    Some(r) if r != grant.request.redirect_uri => {
                        return token_error(
                            "invalid_grant",
                            "redirect_uri differs from the authorization request's",
                        );
                    }
                    None if grant.request.redirect_given => {
                        return token_error(
                            "invalid_request",
                            "redirect_uri is required: the authorization request named one",
                        );
                    }
                    _ => {}
                }
                if !(43..=128).contains(&verifier.len())
                    || !verifier
                        .bytes()
                        .all(|b| is_b64url(b) || b == b'.' || b == b'~')
                {
                    return token_error(
                        "invalid_grant",
                        "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
                    );
                }
                if URL_SAFE_NO_PAD.encode(sha256(verifier)) != grant.request.challenge {
                    return token_error(
                        "invalid_grant",
                        "code_verifier does not match the code_challenge (PKCE)",
                    );
                }
                let family = {
                    let mut store = self.store();
                    store.families += 1;
                    store.families
                };
                (grant.request.scopes, grant.user, family)
            }
            Some("refresh_token") => {
                let Some(token) = get("refresh_token") else {
                    return token_error("invalid_request", "the request has no `refresh_token`");
                };
                let hash = sha256(token);
                let mut store = self.store();
                let Some(old) = store.refresh.get(&hash) else {
                    if let Some(family) = store.spent.get(&hash).copied() {
                        // A spent refresh token came back: someone holds a copy. Revoke the
                        // whole family.
                        store.refresh.retain(|_, r| r.family != family);
                        tracing::warn!(target: "mcp_runtime::auth", "a refresh token was used twice; its family is revoked");
                    }
                    return token_error(
                        "invalid_grant",
                        "the refresh token is unknown, expired, revoked or already used",
                    );
                };
                if old.client_id != client_id {
                    return token_error(
                        "invalid_grant",
                        "the refresh token was issued to another client",
                    );
                }
                if old.expires <= Instant::now() {
                    return token_error("invalid_grant", "the refresh token has expired");
                }
                let scopes = match get("scope") {
                    None => old.scopes.clone(),
                    Some(s) => {
                        let asked: Vec<String> = s
                            .split(' ')
                            .filter(|x| !x.is_empty())
                            .map(str::to_owned)
                            .collect();
                        if let Some(extra) = asked.iter().find(|x| !old.scopes.contains(x)) {
                            return token_error(
                                "invalid_scope",
                                &format!(
                                    "scope `{extra}` was not granted; ask for it with a new authorization request"
                                ),
                            );
                        }
                        asked
                    }
                };
                // Rotation: this refresh token is spent now.
                let Some(old) = store.refresh.remove(&hash) else {
                    return token_error("invalid_grant", "the refresh token is unknown");
                };
                if store.spent.len() >= MAX_REFRESH {
                    store.spent.clear();
                }
                store.spent.insert(hash, old.family);
                (scopes, old.user, old.family)
            }
            Some(other) => {
                return token_error(
                    "unsupported_grant_type",
                    &format!(
                        "grant_type `{other}` is not supported; use authorization_code or refresh_token"
                    ),
                );
            }
            None => return token_error("invalid_request", "the request has no grant_type"),
        };
        let resource = self.resource.get().cloned().unwrap_or_default();
        let now = unix_now();
        let ttl = self.config.access_ttl.as_secs();
        let claims = json!({
            "iss": issuer,
            "sub": user.sub,
            "aud": resource,
            "client_id": client_id,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": random_token(16),
            "scope": scopes.join(" "),
            "name": user.name,
            "email": user.email,
            "preferred_username": user.sub,
        });
        let Some(access_token) = self.sign(&claims) else {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "signing the access token failed",
            );
        };
        let mut out = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": scopes.join(" "),
        });
        let wants_refresh = self
            .store()
            .clients
            .get(&client_id)
            .is_some_and(|c| c.refresh);
        if wants_refresh {
            let refresh = random_token(32);
            let mut store = self.store();
            store.purge(Instant::now());
            if store.refresh.len() < MAX_REFRESH {
                store.refresh.insert(
                    sha256(&refresh),
                    Refresh {
                        client_id: client_id.clone(),
                        scopes: scopes.clone(),
                        user,
                        family,
                        expires: Instant::now() + REFRESH_TTL,
                    },
                );
                out["refresh_token"] = Value::String(refresh);
            }
        }
        no_store(HttpResponse::Ok())
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .content_type("application/json")
            .body(out.to_string())
    }

    /// Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
    /// `client_secret_post`, or a public client naming its `client_id`.
    pub(super) fn authenticate_client(
        &self,
        req: &HttpRequest,
        params: &HashMap<String, String>,
    ) -> Result<String, Box<HttpResponse>> {
        let basic = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
            });
        let (id, secret, via_basic) = match basic {
            Some(b64) => {
                let decoded = STANDARD
                    .decode(b64)
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .and_then(|s| {
                        s.split_once(':')
                            .map(|(a, b)| (pct_decode(a), pct_decode(b)))
                    });
                let Some((id, secret)) = decoded else {
                    return Err(Box::new(client_error(
                        true,
                        "the Basic credentials are malformed",
                    )));
                };
                (id, Some(secret), true)
            }
            None => match params.get("client_id") {
                Some(id) => (id.clone(), params.get("client_secret").cloned(), false),
                None => {
                    return Err(Box::new(client_error(
                        false,
                        "the request has no client_id (and no Basic credentials)",
                    )));
                }
            },
        };
        let store = self.store();
        let Some(client) = store.clients.get(&id) else {
            return Err(Box::new(client_error(
                via_basic,
                "unknown client_id: the development server forgets clients when it restarts; register again",
            )));
        };
        match (&client.secret_hash, secret) {
            (None, None) => Ok(id),
            (Some(hash), Some(secret)) => {
                if aws_lc_rs::constant_time::verify_slices_are_equal(hash, &sha256(&secret)).is_ok()
                {
                    Ok(id)
                } else {
                    Err(Box::new(client_error(
                        via_basic,
                        "the client secret is wrong",
                    )))
                }
            }
            (Some(_), None) => Err(Box::new(client_error(
                via_basic,
                "this client registered with a secret: authenticate with it",
            ))),
            (None, Some(_)) => Err(Box::new(client_error(
                via_basic,
                "this is a public client (token_endpoint_auth_method none): send no secret",
            ))),
        }
    }
}
