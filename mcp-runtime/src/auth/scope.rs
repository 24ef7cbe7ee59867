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

/// Why a caller may not use an item (a tool; later resources and prompts).
#[cfg(feature = "oauth")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denied {
    /// HTTP 403 with a step-up challenge for `scopes`: the item's, and before 2026-07-28
    /// those already granted too.
    StepUp {
        /// The scopes to ask for.
        scopes: Vec<String>,
        /// What is missing.
        message: String,
    },
    /// A tool error saying what is missing (`ScopeRefusal::ToolError`).
    ToolError(String),
}

/// The scope guard of an item that needs all of `all` and one of `any`: `Ok` for a caller who
/// has them, else the refusal `refusal` asks for. `item` names it in the message
/// (`` tool `deploy` ``). The challenge names what the operation needs; with `accumulate`
/// (revisions before 2026-07-28, whose clients replace their scopes) the scopes already
/// granted too. From 2026-07-28 (SEP-2350) the client accumulates, and the server names only
/// what this operation needs (RFC 6750 §3.1).
#[cfg(feature = "oauth")]
pub(crate) fn guard(
    refusal: super::ScopeRefusal,
    caller: Option<&super::AuthData>,
    item: &str,
    all: &[&str],
    any: &[&str],
    accumulate: bool,
) -> Result<(), Denied> {
    let missing = match caller {
        Some(a) => a.require_scope(all).and(a.require_any_scope(any)),
        None => Ok(()),
    };
    let Err(missing) = missing else {
        return Ok(());
    };
    let message = format!("{item}: {missing}");
    Err(match refusal {
        super::ScopeRefusal::Forbidden => {
            let mut scopes: Vec<String> = match caller {
                Some(a) if accumulate => a.scopes.clone(),
                _ => Vec::new(),
            };
            for s in all.iter().chain(any.iter().take(1)) {
                if !scopes.iter().any(|w| w == s) {
                    scopes.push((*s).to_owned());
                }
            }
            Denied::StepUp { scopes, message }
        }
        super::ScopeRefusal::ToolError => Denied::ToolError(message),
    })
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
