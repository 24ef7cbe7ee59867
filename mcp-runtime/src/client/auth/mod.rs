//! How a client proves who it is: nothing, a static bearer token, fixed headers, OAuth
//! ([`OAuth`]: discovery, registration, PKCE, refresh, step-up), or anything else through the
//! [`Authenticator`] trait.

mod assertion;
mod browser;
mod callback;
mod discovery;
mod dpop;
mod flow;
mod grants;
mod guard;
mod identity;
mod pkce;
mod register;
pub mod store;
mod token;

use futures_util::future::BoxFuture;

pub use assertion::ClientKey;
pub use browser::Opener;
pub use callback::CallbackConfig;
pub use discovery::AuthServerMetadata;
pub use flow::{Grant, OAuth, OAuthConfig};
pub use grants::{AssertionSource, EnterpriseGrant};
pub use guard::printable;
pub use store::{FileTokenStore, MemoryTokenStore, Registration, StoredTokens, TokenStore};
pub use token::TokenAuthMethod;

use super::ClientError;

/// A secret string (a token, a client secret) whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3, RFC 9728 §5.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Challenge {
    /// `invalid_token`, `insufficient_scope`, ...
    pub error: Option<String>,
    /// What the server says is wrong.
    pub error_description: Option<String>,
    /// The scopes the server asks for.
    pub scope: Option<String>,
    /// Where its protected-resource metadata is (RFC 9728).
    pub resource_metadata: Option<String>,
    /// The server's `DPoP-Nonce` (RFC 9449 §9), when it sent one.
    pub dpop_nonce: Option<String>,
}

impl Challenge {
    /// The Bearer (or DPoP, RFC 9449 §7.1) challenge among a `WWW-Authenticate` value's
    /// challenges, if any.
    pub fn parse(header: &str) -> Option<Challenge> {
        let mut rest = header.trim();
        // Several challenges may be listed: find the Bearer one.
        loop {
            let (scheme, after) = split_token(rest);
            if scheme.is_empty() {
                return None;
            }
            let (params, next) = auth_params(after);
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop") {
                let mut c = Challenge::default();
                for (k, v) in params {
                    match k.to_ascii_lowercase().as_str() {
                        "error" => c.error = Some(v),
                        "error_description" => c.error_description = Some(v),
                        "scope" => c.scope = Some(v),
                        "resource_metadata" => c.resource_metadata = Some(v),
                        _ => {}
                    }
                }
                return Some(c);
            }
            rest = next;
        }
    }
}

/// The leading token of `s` (up to a space, `,` or `=`), and what follows it.
fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches([' ', ',']);
    let end = s.find([' ', ',', '=']).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// The `k=v` / `k="v"` pairs after a scheme, up to the next scheme; and the rest.
fn auth_params(mut s: &str) -> (Vec<(String, String)>, &str) {
    let mut out = Vec::new();
    loop {
        let trimmed = s.trim_start_matches([' ', ',']);
        let (key, after) = split_token(trimmed);
        let after_ws = after.trim_start();
        if key.is_empty() || !after_ws.starts_with('=') {
            // The next scheme (or the end).
            return (out, trimmed);
        }
        let value_part = after_ws[1..].trim_start();
        let (value, next) = if let Some(q) = value_part.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, e)) = chars.next() {
                            v.push(e);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            (v, &q[end.min(q.len())..])
        } else {
            let end = value_part.find([',', ' ']).unwrap_or(value_part.len());
            (value_part[..end].to_owned(), &value_part[end..])
        };
        out.push((key.to_owned(), value));
        s = next;
    }
}

/// Adds credentials to a client's requests and reacts to the server's refusals.
///
/// Implement it for any scheme the built-in ones do not cover (API keys in a query, signed
/// requests, a token from a vault): [`headers`](Self::headers) is asked before every request.
pub trait Authenticator: Send + Sync + 'static {
    /// The headers to send with the next request.
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, ClientError>>;

    /// The headers of a request with this HTTP `method` to `url` (what a proof of possession,
    /// DPoP, signs); by default [`headers`](Self::headers).
    fn request_headers<'a>(
        &'a self,
        _method: &'a str,
        _url: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, ClientError>> {
        self.headers()
    }

    /// The server answered 401 with this challenge: `Ok(true)` if the request should be sent
    /// again (new credentials were obtained).
    fn unauthorized<'a>(
        &'a self,
        _challenge: &'a Challenge,
    ) -> BoxFuture<'a, Result<bool, ClientError>> {
        Box::pin(async { Ok(false) })
    }

    /// The server answered 403 `insufficient_scope` with this challenge: `Ok(true)` if the
    /// request should be sent again (a token with more scopes was obtained).
    fn forbidden<'a>(
        &'a self,
        _challenge: &'a Challenge,
    ) -> BoxFuture<'a, Result<bool, ClientError>> {
        Box::pin(async { Ok(false) })
    }
}

/// No credentials.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Authenticator for NoAuth {
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, ClientError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A static bearer token (an API key): `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct BearerToken(pub Secret);

impl BearerToken {
    /// This token.
    pub fn new(token: impl Into<String>) -> Self {
        BearerToken(Secret::new(token))
    }
}

impl Authenticator for BearerToken {
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, ClientError>> {
        let h = vec![(
            "authorization".to_owned(),
            format!("Bearer {}", self.0.expose()),
        )];
        Box::pin(async move { Ok(h) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_parsed_among_others() {
        let c = Challenge::parse(
            r#"Basic realm="x", Bearer error="insufficient_scope", scope="a b", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", error_description="needs \"b\"""#,
        )
        .expect("bearer");
        assert_eq!(c.error.as_deref(), Some("insufficient_scope"));
        assert_eq!(c.scope.as_deref(), Some("a b"));
        assert_eq!(
            c.resource_metadata.as_deref(),
            Some("https://h/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(c.error_description.as_deref(), Some("needs \"b\""));
        let bare = Challenge::parse("Bearer").expect("bearer");
        assert_eq!(bare, Challenge::default());
        let unquoted = Challenge::parse("bearer error=invalid_token, scope=x").expect("bearer");
        assert_eq!(unquoted.error.as_deref(), Some("invalid_token"));
        assert_eq!(unquoted.scope.as_deref(), Some("x"));
        assert!(Challenge::parse(r#"Basic realm="x""#).is_none());
        assert!(Challenge::parse("").is_none());
    }
}
