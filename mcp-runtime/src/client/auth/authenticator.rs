//! How a client proves who it is, in general: the [`Authenticator`] trait, and no credentials
//! or a static bearer token.

use futures_util::future::BoxFuture;

use super::challenge::Challenge;
use super::secret::Secret;
use crate::client::ClientError;

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
