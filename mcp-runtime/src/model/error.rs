//! What the crate's errors share: the boxed cause they carry, and a way to print a whole chain.
//!
//! An error of this crate says in its own message what failed and keeps the underlying error
//! (an I/O, HTTP or Redis error) as its [`source`](std::error::Error::source), not as text: a
//! caller can downcast it (the HTTP client is re-exported as `mcp_runtime::reqwest`) and a
//! report prints each cause once. [`Report`] prints the chain on one line.

use std::error::Error;
use std::fmt;

/// The cause an error carries: any error that can cross threads.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// Prints an error and its causes on one line, `outer: cause: cause`, each once.
///
/// ```
/// # #[cfg(feature = "server")] {
/// use mcp_runtime::model::Report;
/// use mcp_runtime::store::StoreError;
///
/// let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
/// let e = StoreError::with_source("/var/lib/mcp/store.redb", io);
/// assert_eq!(
///     Report(&e).to_string(),
///     "/var/lib/mcp/store.redb: permission denied"
/// );
/// # }
/// ```
#[derive(Clone, Copy)]
pub struct Report<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut last = self.0.to_string();
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            // A wrapper that already prints its cause (or a transparent one) adds nothing.
            if !text.is_empty() && !last.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            next = cause.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("says it: {0}")]
    struct Says(#[source] std::io::Error);

    #[test]
    fn a_report_prints_each_cause_once() {
        let io = || std::io::Error::other("disk full");
        assert_eq!(Report(&Outer(io())).to_string(), "outer: disk full");
        assert_eq!(Report(&Says(io())).to_string(), "says it: disk full");
        assert_eq!(Report(&io()).to_string(), "disk full");
    }
}
