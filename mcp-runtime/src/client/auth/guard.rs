//! What the client refuses of a server it does not control: OAuth URLs that are not https
//! (loopback excepted), bodies past a bound, durations that overflow, and control characters in
//! text that reaches a terminal.

use serde_json::Value;

use crate::client::ClientError;

/// The largest metadata document read (protected resource, authorization server).
pub(crate) const MAX_METADATA: usize = 256 * 1024;
/// The largest registration or token answer read.
pub(crate) const MAX_ANSWER: usize = 64 * 1024;
/// The longest lifetime a token answer may claim (a year): `expires_in` beyond it is capped.
pub(crate) const MAX_EXPIRES_IN: u64 = 366 * 24 * 3600;

/// An OAuth URL the client will use (`what` names it in the error): absolute, `https`, or
/// `http` on a loopback host (OAuth 2.1 §1.5, the MCP authorization spec); no other scheme,
/// so no `javascript:` or `file:` URL reaches the browser or the token endpoint.
pub(crate) fn check_url(what: &str, url: &str) -> Result<url::Url, ClientError> {
    let parsed = url::Url::parse(url).map_err(|e| {
        ClientError::auth(format!(
            "the {what} `{}` is not a URL ({e})",
            printable(url)
        ))
    })?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err(ClientError::auth(format!(
            "the {what} `{}` is plain http on a host that is not loopback: refusing it (every \
             OAuth URL must be https, except on this machine)",
            printable(url)
        ))),
        other => Err(ClientError::auth(format!(
            "the {what} `{}` has scheme `{}`: refusing it (OAuth URLs are https)",
            printable(url),
            printable(other)
        ))),
    }
}

/// A response's body as JSON, read up to `max` bytes: a larger body is an error, never read
/// whole.
pub(crate) async fn bounded_json(mut resp: reqwest::Response, max: usize) -> Result<Value, String> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("the answer is larger than {max} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|_| "the answer broke off".to_owned())?
    {
        if body.len() + chunk.len() > max {
            return Err(format!("the answer is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| "the answer is not JSON".to_owned())
}

/// `text` without control characters (escape sequences, bells, carriage returns), each shown
/// as `\u{..}`: what a server wrote cannot drive the terminal it is printed to. Newlines and
/// tabs stay.
pub fn printable(text: &str) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_urls_are_https_or_loopback() {
        for ok in [
            "https://as.example/authorize",
            "http://127.0.0.1:3000/token",
            "http://localhost/x",
            "http://[::1]:8/y",
            "http://127.5.6.7/z",
        ] {
            assert!(check_url("endpoint", ok).is_ok(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http://as.example/token",
            "http://10.0.0.1/token",
            "data:text/html,x",
            "ftp://as.example/",
            "/relative",
        ] {
            let e = check_url("endpoint", bad).expect_err(bad).to_string();
            assert!(
                e.contains("refusing") || e.contains("not a URL"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("plain text\nline two"), "plain text\nline two");
        assert_eq!(
            printable("a\u{1b}[2J\u{1b}]0;pwned\u{7}b\r"),
            "a\\u{1b}[2J\\u{1b}]0;pwned\\u{7}b\\u{d}"
        );
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m", "C1 controls too");
    }
}
