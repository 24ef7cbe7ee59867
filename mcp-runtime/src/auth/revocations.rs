//! Grants revoked by the authorization server that issued this server's tokens (the embedded
//! one: `oauth = "dev"` and the OAuth proxy). Its access tokens name their grant in `sid`; a
//! replayed code or refresh token revokes the grant, and every token of it is refused from
//! then on, cached or not.
//!
//! The set is read on every authenticated request, so reading it is one atomic load (and, only
//! while some grant is revoked, one claim lookup and one hash lookup). The authorization
//! server fills it: at once for what this replica revokes, and from the shared store every
//! few seconds for what other replicas revoke.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};

/// The revoked grants (`sid` values) this process knows of.
#[derive(Default)]
pub(crate) struct Revocations {
    set: arc_swap::ArcSwap<HashSet<String>>,
}

impl Revocations {
    /// Whether the token with these claims belongs to a revoked grant.
    pub(crate) fn revoked(&self, claims: &Map<String, Value>) -> bool {
        let set = self.set.load();
        !set.is_empty()
            && claims
                .get("sid")
                .and_then(Value::as_str)
                .is_some_and(|sid| set.contains(sid))
    }

    /// Adds one grant (revoked by this replica).
    pub(crate) fn insert(&self, grant: &str) {
        self.set.rcu(|set| {
            let mut next = HashSet::clone(set);
            next.insert(grant.to_owned());
            Arc::new(next)
        });
    }

    /// Adds the grants revoked anywhere (read from the shared store); the ones this replica
    /// revoked since stay.
    pub(crate) fn merge(&self, grants: HashSet<String>) {
        if grants.iter().all(|g| self.set.load().contains(g)) {
            return;
        }
        self.set.rcu(|set| {
            let mut next = HashSet::clone(set);
            next.extend(grants.iter().cloned());
            Arc::new(next)
        });
    }

    /// How many grants are known to be revoked.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set.load().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_token_of_a_revoked_grant_is_revoked() {
        let r = Revocations::default();
        let claims = |v: Value| v.as_object().cloned().expect("object");
        assert!(!r.revoked(&claims(json!({"sid": "g1"}))));
        r.insert("g1");
        assert!(r.revoked(&claims(json!({"sid": "g1"}))));
        assert!(!r.revoked(&claims(json!({"sid": "g2"}))));
        assert!(
            !r.revoked(&claims(json!({"sub": "g1"}))),
            "only `sid` names a grant"
        );
        assert!(!r.revoked(&claims(json!({"sid": ["g1"]}))));
        r.merge(["g2".to_owned(), "g1".to_owned()].into());
        assert!(r.revoked(&claims(json!({"sid": "g2"}))));
        assert_eq!(r.len(), 2);
    }
}
