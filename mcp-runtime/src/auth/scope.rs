//! Scopes: RFC 6749 §3.3 syntax and where tokens carry them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// What a server does when a caller lacks a tool's scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ScopeRefusal {
    /// HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`, so that
    /// the client can step up (MCP 2025-11-25). The default.
    #[default]
    Forbidden,
    /// A tool execution error (`isError: true`), as mcp-use answers.
    ToolError,
    /// A tool execution error whose `_meta["mcp/www_authenticate"]` carries the
    /// `WWW-Authenticate` challenge (the missing token's or the missing scopes'), for hosted
    /// clients that start a sign-in from a tool result rather than from an HTTP 401 or 403
    /// (ChatGPT's apps). Resources and prompts still answer 401/403.
    ToolChallenge,
}

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

/// Which scopes imply which: a broader scope grants the narrower ones it names (the MCP
/// authorization specification, 2026-07-28: servers account for scope hierarchies when deciding
/// whether a token suffices). Implication is transitive and declared, never guessed from the
/// names: without a hierarchy every scope stands alone.
///
/// ```
/// use mcp_runtime::auth::scope::ScopeHierarchy;
///
/// let h = ScopeHierarchy::new()
///     .implies("admin", ["files:write", "users:read"])
///     .implies("files:write", ["files:read"]);
/// assert_eq!(h.implied_by(["admin"]), ["files:read", "files:write", "users:read"]);
/// assert!(h.implied_by(["files:read"]).is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeHierarchy {
    /// Each broader scope and the narrower ones it names directly.
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl ScopeHierarchy {
    /// No scope implies another.
    pub fn new() -> Self {
        Self::default()
    }

    /// `broader` implies each of `narrower` (and whatever they imply in turn).
    pub fn implies<I, S>(mut self, broader: impl Into<String>, narrower: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let broader = broader.into();
        let entry = self.edges.entry(broader.clone()).or_default();
        entry.extend(narrower.into_iter().map(Into::into));
        entry.remove(&broader);
        self
    }

    /// Whether no scope implies another.
    pub fn is_empty(&self) -> bool {
        self.edges.values().all(BTreeSet::is_empty)
    }

    /// Every scope `granted` implies, directly or through others, that is not in `granted`
    /// itself; sorted.
    pub fn implied_by<'a>(&self, granted: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let granted: BTreeSet<&str> = granted.into_iter().collect();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut todo: Vec<&str> = granted.iter().copied().collect();
        while let Some(scope) = todo.pop() {
            for narrower in self.edges.get(scope).into_iter().flatten() {
                if seen.insert(narrower) {
                    todo.push(narrower);
                }
            }
        }
        seen.into_iter()
            .filter(|s| !granted.contains(s))
            .map(str::to_owned)
            .collect()
    }

    /// What is wrong with it: a name that is not an RFC 6749 scope-token.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn problems(&self) -> Vec<String> {
        let names = self
            .edges
            .iter()
            .flat_map(|(b, n)| std::iter::once(b).chain(n.iter()));
        let bad: BTreeSet<&String> = names.filter(|s| !is_scope_token(s)).collect();
        bad.into_iter()
            .map(|s| format!("the scope hierarchy names {s:?}, which is not a valid scope (RFC 6749 §3.3: printable ASCII without spaces, `\"` or `\\`)"))
            .collect()
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
    /// A tool error carrying the challenge (`ScopeRefusal::ToolChallenge`): `anonymous` when
    /// no token was sent (the challenge of a 401), else insufficient scope.
    ToolChallenge {
        /// The scopes to ask for.
        scopes: Vec<String>,
        /// What is missing.
        message: String,
        /// Whether the caller sent no token.
        anonymous: bool,
    },
}

/// The scope guard of an item that needs all of `all` and one of `any`: `Ok` for a caller who
/// has them, else the refusal `refusal` asks for. `item` names it in the message
/// (`` tool `deploy` ``). The challenge names what the operation needs; with `accumulate`
/// (revisions before 2026-07-28, whose clients replace their scopes) the scopes already
/// granted too. From 2026-07-28 (SEP-2350) the client accumulates, and the server names only
/// what this operation needs (RFC 6750 §3.1).
///
/// Without a caller (a request with no token, admitted because the server has public items),
/// only a `public` item passes; any other is refused for `all` and the first of `any`, and
/// the transport answers 401 with that challenge.
#[cfg(feature = "oauth")]
pub(crate) fn guard(
    refusal: ScopeRefusal,
    caller: Option<&super::AuthData>,
    item: &dyn std::fmt::Display,
    all: &[&str],
    any: &[&str],
    accumulate: bool,
    public: bool,
) -> Result<(), Denied> {
    let message = match caller {
        Some(a) => match a.require_scope(all).and(a.require_any_scope(any)) {
            Ok(()) => return Ok(()),
            Err(missing) => format!("{item}: {missing}"),
        },
        None if public => return Ok(()),
        None => format!("{item} needs a signed-in caller: send an access token"),
    };
    Err(match refusal {
        ScopeRefusal::Forbidden => {
            let mut scopes: Vec<String> = match caller {
                Some(a) if accumulate => a.scopes.clone(),
                _ => Vec::new(),
            };
            for s in all.iter().chain(any.iter().take(1)) {
                // A scope the caller holds through the hierarchy is not asked for again.
                let held = accumulate && caller.is_some_and(|a| a.has_scope(s));
                if !held && !scopes.iter().any(|w| w == s) {
                    scopes.push((*s).to_owned());
                }
            }
            Denied::StepUp { scopes, message }
        }
        ScopeRefusal::ToolError => Denied::ToolError(message),
        ScopeRefusal::ToolChallenge => Denied::ToolChallenge {
            scopes: all
                .iter()
                .chain(any.iter().take(1))
                .map(|s| (*s).to_owned())
                .collect(),
            message,
            anonymous: caller.is_none(),
        },
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
    fn hierarchies_are_transitive_declared_and_checked() {
        let h = ScopeHierarchy::new()
            .implies("admin", ["write"])
            .implies("write", ["read", "write"])
            .implies("read", ["admin"]);
        // Transitive, a cycle ends, and what is granted is not repeated.
        assert_eq!(h.implied_by(["write"]), ["admin", "read"]);
        assert_eq!(h.implied_by(["admin", "read"]), ["write"]);
        assert!(ScopeHierarchy::new().is_empty());
        assert!(ScopeHierarchy::new().implies("a", ["a"]).is_empty());
        assert!(
            ScopeHierarchy::new()
                .implies("x", ["y"])
                .implied_by(["y"])
                .is_empty()
        );
        assert!(h.problems().is_empty());
        let bad = ScopeHierarchy::new()
            .implies("ok", ["two words", "fine"])
            .implies("also", ["two words"])
            .problems();
        assert_eq!(bad.len(), 1, "each bad name once: {bad:?}");
        assert!(bad[0].contains("\"two words\""), "{bad:?}");
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
