//! The server's `WWW-Authenticate` challenges, read.

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
