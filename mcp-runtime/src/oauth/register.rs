//! `POST /oauth/register`: dynamic client registration (RFC 7591).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use serde_json::{Value, json};

use super::params::{has_media_type, random_token, unix_now};
use super::responses::{no_store, oauth_error};
use super::state::{Client, hashed, unavailable};
use super::{AuthServer, MAX_UNUSED_CLIENTS};
use crate::auth::is_scope_token;
use crate::store::Space;

impl AuthServer {
    /// RFC 7591 dynamic client registration.
    pub(super) async fn register(&self, req: &HttpRequest, body: &Bytes) -> HttpResponse {
        if !has_media_type(req, "application/json") {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                "send the client metadata as JSON with Content-Type: application/json",
            );
        }
        let meta: Value = match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => Value::Object(m),
            Ok(_) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_metadata",
                    "the client metadata must be a JSON object",
                );
            }
            Err(e) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_metadata",
                    &format!("the client metadata is not valid JSON: {e}"),
                );
            }
        };
        let registration = match check_client_metadata(&meta) {
            Ok(r) => r,
            Err((code, msg)) => return oauth_error(StatusCode::BAD_REQUEST, code, &msg),
        };
        let client_id = random_token(24);
        let secret = registration.confidential.then(|| random_token(32));
        let mut out = json!({
            "client_id": client_id,
            "client_id_issued_at": unix_now(),
            "redirect_uris": registration.redirect_uris,
            "grant_types": registration.grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": registration.auth_method,
        });
        if let Some(name) = &registration.name {
            out["client_name"] = Value::String(name.clone());
        }
        if let Some(scope) = meta.get("scope").and_then(Value::as_str) {
            out["scope"] = Value::String(scope.to_owned());
        }
        if let Some(secret) = &secret {
            out["client_secret"] = Value::String(secret.clone());
            out["client_secret_expires_at"] = Value::from(0);
        }
        let client = Client {
            name: registration.name,
            secret_hash: secret.as_deref().map(hashed),
            redirect_uris: registration.redirect_uris,
            refresh: registration
                .grant_types
                .iter()
                .any(|g| g == "refresh_token"),
        };
        // Kept apart until a sign-in completes, and only for a while: a flood of
        // registrations evicts the oldest unused ones and never locks a newcomer out.
        if let Err(e) = self
            .save_bounded(
                Space::Clients,
                &format!("new/{client_id}"),
                &client,
                Some(self.unused_client_ttl),
                MAX_UNUSED_CLIENTS,
            )
            .await
        {
            return unavailable(&e);
        }
        no_store(HttpResponse::Created())
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .content_type("application/json")
            .body(out.to_string())
    }
}

pub(super) struct Registration {
    pub(super) redirect_uris: Vec<String>,
    pub(super) grant_types: Vec<String>,
    pub(super) auth_method: String,
    pub(super) confidential: bool,
    pub(super) name: Option<String>,
}

/// Checks RFC 7591 client metadata; errors are `(error code, description)`.
pub(super) fn check_client_metadata(meta: &Value) -> Result<Registration, (&'static str, String)> {
    let bad = |msg: String| ("invalid_client_metadata", msg);
    let strings = |key: &str| -> Result<Option<Vec<String>>, (&'static str, String)> {
        match meta.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad(format!("`{key}` must be an array of strings")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(bad(format!("`{key}` must be an array of strings"))),
        }
    };
    let redirect_uris = strings("redirect_uris")?.unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err((
            "invalid_redirect_uri",
            "`redirect_uris` is required: the code flow redirects to one of them".into(),
        ));
    }
    if redirect_uris.len() > 10 {
        return Err((
            "invalid_redirect_uri",
            "register at most 10 redirect URIs".into(),
        ));
    }
    for uri in &redirect_uris {
        check_redirect_uri(uri).map_err(|msg| ("invalid_redirect_uri", msg))?;
    }
    let grant_types = strings("grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]);
    for g in &grant_types {
        if g != "authorization_code" && g != "refresh_token" {
            return Err(bad(format!(
                "grant type `{g}` is not supported; use authorization_code and refresh_token"
            )));
        }
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(bad("`grant_types` must include authorization_code".into()));
    }
    if let Some(types) = strings("response_types")?
        && types.iter().any(|t| t != "code")
    {
        return Err(bad("only response type `code` is supported".into()));
    }
    let auth_method = match meta.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => "client_secret_basic",
        Some(Value::String(m)) => match m.as_str() {
            "none" => "none",
            "client_secret_basic" => "client_secret_basic",
            "client_secret_post" => "client_secret_post",
            other => {
                return Err(bad(format!(
                    "token_endpoint_auth_method `{other}` is not supported; use none, client_secret_basic or client_secret_post"
                )));
            }
        },
        Some(_) => return Err(bad("`token_endpoint_auth_method` must be a string".into())),
    };
    let name = match meta.get("client_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if n.chars().count() <= 200 => Some(n.clone()),
        Some(_) => {
            return Err(bad(
                "`client_name` must be a string of at most 200 characters".into(),
            ));
        }
    };
    if let Some(scope) = meta.get("scope") {
        let ok = scope
            .as_str()
            .is_some_and(|s| s.split(' ').filter(|x| !x.is_empty()).all(is_scope_token));
        if !ok {
            return Err(bad(
                "`scope` must be a space-separated list of scopes".into()
            ));
        }
    }
    Ok(Registration {
        redirect_uris,
        grant_types,
        confidential: auth_method != "none",
        auth_method: auth_method.to_owned(),
        name,
    })
}

/// A redirect URI: absolute, no fragment; `https`, `http` on a loopback host (RFC 8252 §7.3),
/// or a private-use scheme of a native app (RFC 8252 §7.1).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(uri)
        .map_err(|e| format!("redirect URI `{uri}` is not an absolute URL ({e})"))?;
    if url.fragment().is_some() {
        return Err(format!("redirect URI `{uri}` must not have a fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => match url.host_str() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(()),
            _ => Err(format!(
                "redirect URI `{uri}` uses plain http on a non-loopback host; use https"
            )),
        },
        "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => {
            Err(format!("redirect URI `{uri}` has a forbidden scheme"))
        }
        _ => Ok(()),
    }
}

/// Whether a redirect URI matches a registered one: exactly, or, for loopback `http` URIs, on
/// any port (RFC 8252 §7.3: native apps take an ephemeral port).
pub fn redirect_uri_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Ok(r), Ok(g)) = (url::Url::parse(registered), url::Url::parse(given)) else {
        return false;
    };
    let loopback = |u: &url::Url| u.scheme() == "http" && crate::config::is_loopback_host(u);
    loopback(&r)
        && loopback(&g)
        && r.host() == g.host()
        && r.path() == g.path()
        && r.query() == g.query()
        && r.username().is_empty()
        && r.password().is_none()
        && g.username().is_empty()
        && g.password().is_none()
        && g.fragment().is_none()
}

#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing {
    //! The registration checks, for `fuzz/`.
    pub use super::{check_redirect_uri, redirect_uri_matches};

    /// RFC 7591 metadata checked as `/register` checks it: the accepted redirect URIs, or the
    /// error code and description.
    pub fn client_metadata(
        meta: &serde_json::Value,
    ) -> Result<Vec<String>, (&'static str, String)> {
        super::check_client_metadata(meta).map(|r| r.redirect_uris)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_on_any_port() {
        assert!(redirect_uri_matches(
            "https://a.example/cb",
            "https://a.example/cb"
        ));
        assert!(!redirect_uri_matches(
            "https://a.example/cb",
            "https://a.example:444/cb"
        ));
        assert!(redirect_uri_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:53123/cb"
        ));
        assert!(redirect_uri_matches(
            "http://127.0.0.1:33418/",
            "http://127.0.0.1:40000/"
        ));
        assert!(redirect_uri_matches(
            "http://localhost/callback",
            "http://localhost:9/callback"
        ));
        assert!(!redirect_uri_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:5/other"
        ));
        assert!(!redirect_uri_matches(
            "http://localhost/cb",
            "http://127.0.0.1:5/cb"
        ));
        assert!(!redirect_uri_matches(
            "http://127.0.0.1/cb",
            "http://u@127.0.0.1:5/cb"
        ));
        // A registered URI with credentials in it matches only itself (the fuzz target's
        // property: a match differs from the registered URI by the port alone).
        assert!(!redirect_uri_matches(
            "http://:pw@127.0.0.1/cb",
            "http://127.0.0.1:5/cb"
        ));
        assert!(!redirect_uri_matches("cursor://a/cb", "cursor://a/cb2"));
    }

    #[test]
    fn redirect_uris_follow_rfc_8252() {
        assert!(check_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:6274/oauth/callback").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/cb").is_ok());
        assert!(check_redirect_uri("http://evil.example.com/cb").is_err());
        assert!(check_redirect_uri("https://a/cb#frag").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
        assert!(check_redirect_uri("/relative").is_err());
    }
}
