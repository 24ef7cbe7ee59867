//! Error accumulation: every mistake is reported, each at its smallest span.

use proc_macro2::{Span, TokenStream};
use std::fmt::Display;

/// Collects errors so that all of them are reported together.
#[derive(Default)]
pub(crate) struct Diag {
    errors: Option<syn::Error>,
}

impl Diag {
    pub(crate) fn error(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.errors {
            Some(e) => e.combine(err),
            None => self.errors = Some(err),
        }
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.errors.is_some()
    }

    pub(crate) fn into_tokens(self) -> TokenStream {
        self.errors
            .map(|e| e.to_compile_error())
            .unwrap_or_default()
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "unknown key `x`; expected one of: a, b (did you mean `a`?)"
pub(crate) fn unknown_key(key: &str, known: &[&str]) -> String {
    let mut msg = format!("unknown key `{key}`; expected one of: {}", known.join(", "));
    if let Some(m) = did_you_mean(key, known) {
        msg.push_str(&format!("\n\n  help: did you mean `{m}`?"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(
            did_you_mean("descripton", &["name", "description"]),
            Some("description")
        );
        assert_eq!(
            did_you_mean("readonly", &["read_only", "title"]),
            Some("read_only")
        );
        assert_eq!(did_you_mean("zzz", &["name", "title"]), None);
    }
}
