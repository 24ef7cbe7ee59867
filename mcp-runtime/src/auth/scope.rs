//! Scopes: RFC 6749 §3.3 syntax and where tokens carry them.

use serde_json::{Map, Value};

/// Whether `s` is a valid RFC 6749 §3.3 `scope-token`: one or more of `%x21 / %x23-5B / %x5D-7E`
/// (printable ASCII except space, `"` and `\`).
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// The scopes a token grants: `scope` (space-separated, RFC 8693 / RFC 9068) or `scp` (an array
/// or a string, as Azure AD and Okta write it).
pub fn scopes_from_claims(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(v) => super::string_list(Some(v)),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scope_token_syntax() {
        for ok in ["admin", "read:docs", "https://api.example.com/x", "a!#[]^~"] {
            assert!(is_scope_token(ok), "{ok}");
        }
        for bad in ["", "two words", "quo\"te", "back\\slash", "tab\t", "é"] {
            assert!(!is_scope_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn scopes_from_scope_or_scp() {
        let c = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            scopes_from_claims(&c(json!({"scope": "a b  c"}))),
            ["a", "b", "c"]
        );
        assert_eq!(
            scopes_from_claims(&c(json!({"scp": ["x", "y"]}))),
            ["x", "y"]
        );
        assert_eq!(scopes_from_claims(&c(json!({"scp": "x y"}))), ["x", "y"]);
        assert!(scopes_from_claims(&c(json!({}))).is_empty());
    }
}
