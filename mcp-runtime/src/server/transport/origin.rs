//! Who may call the endpoint from where: DNS-rebinding protection (the `Host` and `Origin`
//! checks) and CORS for browser clients.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};

use super::common::{Refusal, header_str, refusal, server};
use crate::server::Inner;
use crate::server::jsonrpc::code;

/// The host name of a `Host` header or an origin's authority, without the port.
pub(crate) fn host_name(authority: &str) -> &str {
    if authority.starts_with('[') {
        // `[v6]` or `[v6]:port`; without the closing bracket the whole value stays (and
        // matches no allowed host).
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// DNS-rebinding protection: the `Host` and `Origin` headers must name this server.
pub(crate) fn check_origin(req: &HttpRequest, inner: &Inner) -> Result<(), Refusal> {
    let cfg = &inner.http;
    let host = header_str(req.headers(), &header::HOST)
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    let hosts = &cfg.allowed_hosts;
    let name = host_name(host);
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(name)) {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            code::INVALID_REQUEST,
            format!(
                "Host `{host}` is not allowed (DNS-rebinding protection); set MCP_URL to the \
                 public URL, or allow the host with `allowed_hosts` or MCP_ALLOWED_HOSTS"
            ),
        ));
    }
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    if cfg.allowed_origins.iter().any(|o| o == origin) {
        return Ok(());
    }
    let allowed = origin
        .split_once("://")
        .is_some_and(|(_, a)| hosts.iter().any(|h| h.eq_ignore_ascii_case(host_name(a))));
    if allowed {
        Ok(())
    } else {
        Err(refusal(
            StatusCode::FORBIDDEN,
            code::INVALID_REQUEST,
            format!(
                "Origin `{origin}` is not allowed (DNS-rebinding protection); allow it with \
                 `allowed_origins` or MCP_ALLOWED_ORIGINS"
            ),
        ))
    }
}

/// The request's `Origin`, when it is one the endpoint accepts (for CORS).
pub(crate) fn cors_origin(req: &HttpRequest) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    let inner = server(req)?;
    check_origin(req, inner).ok()?;
    Some(origin.clone())
}

/// CORS for an accepted origin: the headers browser clients must read are exposed
/// (`WWW-Authenticate` to find the authorization server, `Mcp-Session-Id` to continue).
pub(crate) fn add_cors(
    h: &mut actix_web::http::header::HeaderMap,
    origin: HeaderValue,
    preflight: bool,
) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version"),
    );
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_drop_ports() {
        assert_eq!(host_name("localhost:3000"), "localhost");
        assert_eq!(host_name("[::1]:8080"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        // Malformed values never panic.
        assert_eq!(host_name("[::1"), "[::1");
        assert_eq!(host_name("["), "[");
        assert_eq!(host_name(""), "");
    }
}
