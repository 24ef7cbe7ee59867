//! `GET /oauth/authorize`: the authorization request, checked, then handed to the identity
//! backend; and the code that ends it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;

use super::pages::{consent_page, error_page, page};
use super::params::{is_b64url, parse_params, random_token, redirect_with};
use super::register::redirect_uri_matches;
use super::responses::not_started;
use super::state::{AuthRequest, Client, Code, User, code_key, txn_handle, txn_key};
use super::{AuthServer, CODE_TTL, MAX_CODES, MAX_PENDING, PENDING_TTL};
use crate::store::Space;

impl AuthServer {
    /// `GET /oauth/authorize`: checks the request, then shows the sign-in page (or approves
    /// at once with auto-approve).
    pub(super) async fn authorize(&self, req: &HttpRequest, _body: &Bytes) -> HttpResponse {
        let Some(issuer) = self.issuer() else {
            return not_started();
        };
        let params = match parse_params(req.query_string().as_bytes()) {
            Ok(p) => p,
            Err(msg) => return error_page(self.look(), StatusCode::BAD_REQUEST, &msg),
        };
        let get = |k: &str| params.get(k).map(String::as_str);
        // Until the client and its redirect URI are known, errors go to the user, never to a
        // redirect (RFC 6749 §4.1.2.1).
        let Some(client_id) = get("client_id") else {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "the request has no client_id; register the client first (POST /oauth/register)",
            );
        };
        let (redirect_uri, redirect_given, client_name) = {
            let client: Client = match self.find_client(client_id).await {
                Ok(Some(c)) => c,
                Err(Ok(why)) => {
                    return error_page(self.look(), StatusCode::BAD_REQUEST, &why);
                }
                Ok(None) => {
                    return error_page(
                        self.look(),
                        StatusCode::BAD_REQUEST,
                        "unknown client_id: this authorization server does not know the client \
                         (its registration may have been lost); register again",
                    );
                }
                Err(Err(e)) => {
                    return error_page(
                        self.look(),
                        StatusCode::SERVICE_UNAVAILABLE,
                        &e.to_string(),
                    );
                }
            };
            let redirect = match get("redirect_uri") {
                Some(r)
                    if client
                        .redirect_uris
                        .iter()
                        .any(|u| redirect_uri_matches(u, r)) =>
                {
                    (r.to_owned(), true)
                }
                Some(r) => {
                    return error_page(
                        self.look(),
                        StatusCode::BAD_REQUEST,
                        &format!("redirect_uri `{r}` is not one this client registered"),
                    );
                }
                None if client.redirect_uris.len() == 1 => (client.redirect_uris[0].clone(), false),
                None => {
                    return error_page(
                        self.look(),
                        StatusCode::BAD_REQUEST,
                        "the client registered several redirect URIs; name one with redirect_uri",
                    );
                }
            };
            (redirect.0, redirect.1, client.name.clone())
        };
        let state = get("state").map(str::to_owned);
        let fail = |code: &str, msg: &str| {
            redirect_with(
                &redirect_uri,
                &[("error", code), ("error_description", msg)],
                state.as_deref(),
                issuer,
            )
        };
        if get("response_type") != Some("code") {
            return fail(
                "unsupported_response_type",
                "response_type must be `code` (the authorization code flow)",
            );
        }
        let Some(challenge) = get("code_challenge") else {
            return fail(
                "invalid_request",
                "PKCE is required: send code_challenge and code_challenge_method=S256",
            );
        };
        if get("code_challenge_method") != Some("S256") {
            return fail(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted)",
            );
        }
        if challenge.len() != 43 || !challenge.bytes().all(is_b64url) {
            return fail(
                "invalid_request",
                "code_challenge must be the 43-character base64url SHA-256 of the code verifier",
            );
        }
        if let Err(msg) = self.check_resource(get("resource")) {
            return fail("invalid_target", &msg);
        }
        let scopes = match self.requested_scopes(get("scope")) {
            Ok(s) => s,
            Err(msg) => return fail("invalid_scope", &msg),
        };
        let request = AuthRequest {
            client_id: client_id.to_owned(),
            redirect_uri,
            redirect_given,
            challenge: challenge.to_owned(),
            scopes,
            state,
        };
        let Some(dev) = self.dev() else {
            let name = client_name.as_deref().unwrap_or(client_id).to_owned();
            return self.proxy_authorize(req, request, &name).await;
        };
        if dev.auto_approve {
            return self.grant(request, self.default_user()).await;
        }
        let request_id = txn_handle(client_id);
        let Some(key) = txn_key("signin", &request_id) else {
            return error_page(
                self.look(),
                StatusCode::BAD_REQUEST,
                "the client id is malformed",
            );
        };
        let page_html = consent_page(
            self.look(),
            self.paths().authorize,
            &request_id,
            client_name.as_deref().unwrap_or(client_id),
            &request.redirect_uri,
            &request.scopes,
            &dev.user,
        );
        if let Err(e) = self
            .save_per_client(
                Space::Transactions,
                &key,
                &request,
                Some(PENDING_TTL),
                MAX_PENDING,
            )
            .await
        {
            return error_page(self.look(), StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
        }
        page(self.look(), StatusCode::OK, &page_html)
    }

    /// Issues a code for `request`, approved by `user`, and redirects to the client.
    pub(super) async fn grant(&self, request: AuthRequest, user: User) -> HttpResponse {
        let issuer = self.issuer().unwrap_or_default();
        let code = random_token(32);
        let location = redirect_with(
            &request.redirect_uri,
            &[("code", &code)],
            request.state.as_deref(),
            issuer,
        );
        let grant = Code {
            request,
            user,
            resource: self.resource_url().to_owned(),
        };
        if let Err(e) = self
            .save_per_client(
                Space::Codes,
                &code_key(&grant.request.client_id, &code),
                &grant,
                Some(CODE_TTL),
                MAX_CODES,
            )
            .await
        {
            return error_page(self.look(), StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
        }
        location
    }

    /// A `resource` parameter (RFC 8707), when given, must name this server.
    pub(super) fn check_resource(&self, asked: Option<&str>) -> Result<(), String> {
        let ours = self.resource.get().map(String::as_str);
        match (asked, ours) {
            (None, _) => Ok(()),
            (Some(_), None) => Err("this server's resource is not known yet".into()),
            (Some(asked), Some(ours)) => same_resource(asked, ours),
        }
    }

    /// The scopes asked for: each must be one this server knows; none asked means the
    /// baseline.
    pub(super) fn requested_scopes(&self, scope: Option<&str>) -> Result<Vec<String>, String> {
        let supported = self.supported_scopes();
        let mut out: Vec<String> = Vec::new();
        for s in scope.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
            if !supported.iter().any(|x| x == s) {
                return Err(format!(
                    "unknown scope `{s}`; this server knows: {}",
                    supported.join(" ")
                ));
            }
            if !out.iter().any(|x| x == s) {
                out.push(s.to_owned());
            }
        }
        if out.is_empty() {
            out = self.baseline.get().cloned().unwrap_or_default();
        }
        Ok(out)
    }
}

/// Whether the `resource` a client asked for names this server's (RFC 8707, and the MCP
/// authorization specification's canonical server URI). The rule:
///
/// - it must be an absolute URI without a fragment (RFC 8707 §2);
/// - scheme and host compare case-insensitively and a default port equals no port (as URL
///   parsing normalizes them);
/// - the path compares exactly, except that one trailing `/` is ignored (`…/mcp/` names
///   `…/mcp`, as hosted clients send it);
/// - a query names another resource (RFC 8707 lets a query distinguish resources), so one that
///   this server's URI does not have is refused, saying which to ask for.
///
/// Tokens are always issued for the canonical URI, whatever variant was asked for.
pub(crate) fn same_resource(asked: &str, ours: &str) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "resource `{asked}` {why}; this server issues tokens only for resource {ours}"
        ))
    };
    let Ok(a) = url::Url::parse(asked) else {
        return refuse("is not an absolute URI (RFC 8707)");
    };
    let Ok(o) = url::Url::parse(ours) else {
        return refuse("cannot be compared");
    };
    if a.fragment().is_some() {
        return refuse("has a fragment, which a resource indicator must not have (RFC 8707)");
    }
    if a.scheme() != o.scheme()
        || a.host() != o.host()
        || a.port_or_known_default() != o.port_or_known_default()
        || !a.username().is_empty()
        || a.password().is_some()
    {
        return refuse("names another server");
    }
    let trim = |p: &str| p.strip_suffix('/').unwrap_or(p).to_owned();
    if trim(a.path()) != trim(o.path()) {
        return refuse("names another path");
    }
    if a.query() != o.query() {
        return refuse(
            "has a query that this server's resource does not have (a query names another resource)",
        );
    }
    Ok(())
}

#[cfg(test)]
mod resource_tests {
    use super::same_resource;

    #[test]
    fn resource_variants_follow_the_documented_rule() {
        let ours = "https://mcp.example.com/mcp";
        for same in [
            "https://mcp.example.com/mcp",
            "https://mcp.example.com/mcp/",
            "HTTPS://MCP.Example.COM/mcp",
            "https://mcp.example.com:443/mcp",
        ] {
            assert_eq!(same_resource(same, ours), Ok(()), "{same}");
        }
        for (other, why) in [
            ("https://mcp.example.com/mcp?tenant=a", "has a query"),
            ("https://mcp.example.com/mcp#x", "has a fragment"),
            ("https://mcp.example.com/MCP", "another path"),
            ("https://mcp.example.com/mcp//", "another path"),
            ("https://mcp.example.com:8443/mcp", "another server"),
            ("http://mcp.example.com/mcp", "another server"),
            ("https://user@mcp.example.com/mcp", "another server"),
            ("/mcp", "not an absolute URI"),
        ] {
            let e = same_resource(other, ours).expect_err(other);
            assert!(e.contains(why) && e.ends_with(ours), "{other}: {e}");
        }
    }
}
