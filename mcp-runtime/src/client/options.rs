//! The options of one request.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Options of one request.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Give up (and tell the server, `notifications/cancelled`) after this long.
    pub timeout: Option<Duration>,
    /// Ask for progress notifications (they reach [`ClientHandler::progress`](crate::client::ClientHandler::progress)).
    pub progress: bool,
    /// Cancel the request when this token is cancelled.
    pub cancel: Option<CancellationToken>,
}

impl CallOptions {
    /// A timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Progress notifications.
    pub fn progress(mut self, yes: bool) -> Self {
        self.progress = yes;
        self
    }

    /// A cancellation token.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}
