//! The transports: stdio (`stdio`), and the HTTP side: Streamable HTTP on actix-web (POST, GET streams, DELETE),
//! `Host`/`Origin` checks and CORS, the request span and metrics, SSE bodies, and the OAuth
//! glue of the endpoint (authentication and discovery documents; the answers themselves are
//! built by `crate::auth::http`).

mod common;
pub(crate) mod http;
#[cfg(feature = "oauth")]
pub(crate) mod http_auth;
#[cfg(not(feature = "oauth"))]
#[path = "http_auth_off.rs"]
pub(crate) mod http_auth;
pub(crate) mod modern;
pub(crate) mod observe;
pub(crate) mod origin;
pub(crate) mod respond;
pub(crate) mod stdio;
pub(crate) mod stream;
