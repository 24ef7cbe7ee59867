//! Where a request came from: its session, version and caller, and whether notifications can
//! reach the client.

use std::sync::Arc;

use super::session::Session;

/// Where a request came from and whether notifications can reach the client.
pub(crate) struct RequestScope {
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) version: &'static str,
    /// Whether the response can carry notifications (an SSE stream).
    pub(crate) notifies: bool,
    /// The authenticated caller, on a server with OAuth.
    pub(crate) auth: Option<crate::auth::Auth>,
    /// A 2026-07-28 request's `_meta` (no session: everything the request needs is here).
    pub(crate) meta: Option<super::modern::RequestMeta>,
}
