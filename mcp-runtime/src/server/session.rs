//! MCP sessions: an optional layer over the stateless core.
//!
//! A session remembers the negotiated protocol version, the client's log level, the requests
//! in flight (for `notifications/cancelled`) and the open GET streams. Sessions expire after
//! an idle timeout and their number is bounded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::extract::LogLevel;

/// No `logging/setLevel` yet: every message is sent.
const LEVEL_UNSET: u8 = u8::MAX;

/// One MCP session.
pub struct Session {
    id: Arc<str>,
    protocol_version: &'static str,
    log_level: AtomicU8,
    last_seen: AtomicU64,
    inflight: Mutex<HashMap<String, CancellationToken>>,
    streams: Mutex<Vec<mpsc::UnboundedSender<Bytes>>>,
    closed: CancellationToken,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("protocol_version", &self.protocol_version)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The session id (the `Mcp-Session-Id` header).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The protocol version negotiated at `initialize`.
    pub fn protocol_version(&self) -> &'static str {
        self.protocol_version
    }

    pub(crate) fn log_level(&self) -> LogLevel {
        LogLevel::from_u8(self.log_level.load(Ordering::Relaxed)).unwrap_or(LogLevel::Debug)
    }

    pub(crate) fn set_log_level(&self, level: LogLevel) {
        self.log_level.store(level as u8, Ordering::Relaxed);
    }

    fn touch(&self, now: u64) {
        self.last_seen.store(now, Ordering::Relaxed);
    }

    /// Registers a request in flight; the guard unregisters it when dropped.
    pub(crate) fn begin_request(
        self: &Arc<Self>,
        id_key: String,
    ) -> (CancellationToken, InflightGuard) {
        // A plain token (not a child of `closed`): no tree lock per request; `close` cancels
        // whatever is still in flight.
        let token = CancellationToken::new();
        lock(&self.inflight).insert(id_key.clone(), token.clone());
        if self.closed.is_cancelled() {
            token.cancel();
        }
        (
            token,
            InflightGuard {
                session: self.clone(),
                key: id_key,
            },
        )
    }

    /// Cancels a request in flight (`notifications/cancelled`); false if none matched.
    pub(crate) fn cancel_request(&self, id_key: &str) -> bool {
        match lock(&self.inflight).remove(id_key) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Opens a server-to-client stream (GET); messages go to the most recent open one.
    pub(crate) fn open_stream(&self) -> mpsc::UnboundedReceiver<Bytes> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut streams = lock(&self.streams);
        streams.retain(|s| !s.is_closed());
        streams.push(tx);
        rx
    }

    /// Sends a server-initiated message on one open GET stream; false if none is open.
    pub fn send_to_stream(&self, message: Bytes) -> bool {
        let mut streams = lock(&self.streams);
        streams.retain(|s| !s.is_closed());
        streams.last().is_some_and(|s| s.send(message).is_ok())
    }

    /// Resolves when the session is deleted or expires.
    pub(crate) fn closed(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.closed.cancelled()
    }

    fn close(&self) {
        self.closed.cancel();
        for token in lock(&self.inflight).values() {
            token.cancel();
        }
        lock(&self.streams).clear();
    }
}

/// Removes a request from its session's in-flight table when the call ends.
pub(crate) struct InflightGuard {
    session: Arc<Session>,
    key: String,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        lock(&self.session.inflight).remove(&self.key);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the maps inconsistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    #[error("the server has reached its limit of {0} sessions; try again later")]
    Full(usize),
    #[error("no secure random source is available for session ids: {0}")]
    Random(getrandom::Error),
}

/// All live sessions.
pub(crate) struct Sessions {
    map: RwLock<HashMap<Arc<str>, Arc<Session>>>,
    idle_timeout: Duration,
    max: usize,
    epoch: Instant,
    last_sweep: AtomicU64,
}

impl Sessions {
    pub(crate) fn new(idle_timeout: Duration, max: usize) -> Self {
        Sessions {
            map: RwLock::new(HashMap::new()),
            idle_timeout,
            max,
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_secs()
    }

    pub(crate) fn create(
        &self,
        protocol_version: &'static str,
    ) -> Result<Arc<Session>, SessionError> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(SessionError::Random)?;
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let now = self.now();
        self.sweep(now);
        let session = Arc::new(Session {
            id: id.into(),
            protocol_version,
            log_level: AtomicU8::new(LEVEL_UNSET),
            last_seen: AtomicU64::new(now),
            inflight: Mutex::new(HashMap::new()),
            streams: Mutex::new(Vec::new()),
            closed: CancellationToken::new(),
        });
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.max {
            return Err(SessionError::Full(self.max));
        }
        map.insert(session.id.clone(), session.clone());
        Ok(session)
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = self
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()?;
        let now = self.now();
        if now.saturating_sub(session.last_seen.load(Ordering::Relaxed))
            > self.idle_timeout.as_secs()
        {
            self.remove(id);
            return None;
        }
        session.touch(now);
        Some(session)
    }

    pub(crate) fn remove(&self, id: &str) -> bool {
        let removed = self
            .map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        match removed {
            Some(s) => {
                s.close();
                true
            }
            None => false,
        }
    }

    /// Drops idle sessions, at most once a minute.
    fn sweep(&self, now: u64) {
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now < last + 60
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let idle = self.idle_timeout.as_secs();
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, s| {
            let keep = now.saturating_sub(s.last_seen.load(Ordering::Relaxed)) <= idle;
            if !keep {
                s.close();
            }
            keep
        });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bounded_and_removable() {
        let sessions = Sessions::new(Duration::from_secs(60), 2);
        let a = sessions.create("2025-11-25").expect("first");
        let _b = sessions.create("2025-11-25").expect("second");
        let err = sessions
            .create("2025-11-25")
            .expect_err("third is over the limit");
        assert_eq!(
            err.to_string(),
            "the server has reached its limit of 2 sessions; try again later"
        );
        assert_eq!(a.id().len(), 32);
        assert!(sessions.remove(a.id()));
        assert!(!sessions.remove(a.id()));
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn cancel_reaches_the_request_token() {
        let sessions = Sessions::new(Duration::from_secs(60), 10);
        let s = sessions.create("2025-06-18").expect("session");
        let (token, guard) = s.begin_request("1".into());
        assert!(s.cancel_request("1"));
        assert!(token.is_cancelled());
        drop(guard);
        assert!(!s.cancel_request("1"));
    }
}
