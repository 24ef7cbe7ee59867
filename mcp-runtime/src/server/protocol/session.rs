//! MCP sessions: an optional layer over the stateless core.
//!
//! A session remembers the negotiated protocol version, the client's log level, the requests
//! in flight (for `notifications/cancelled`) and the open GET streams. Sessions expire after
//! an idle timeout and their number is bounded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::logging::LogLevel;
use crate::server::ServerKeyed;
use crate::server::outgoing::{ClientCapabilities, Outgoing};
use crate::server::protocol::replay::Replay;

/// No `logging/setLevel` yet: every message is sent.
const LEVEL_UNSET: u8 = u8::MAX;

/// A call in flight, as its session sees it: something to cancel (the call's context, which
/// `call` defines and which holds its session in turn).
pub(crate) trait InFlight: Send + Sync {
    /// Cancels the call.
    fn cancel(&self);
}

/// One MCP session.
pub struct Session {
    id: Arc<str>,
    /// The authenticated subject the session belongs to: only it may use the session. Set at
    /// creation, or by the first authenticated request on a session created without a token
    /// (on a server with public items), and never changed after.
    subject: std::sync::OnceLock<String>,
    /// Whose session it is, for the per-caller bound: the subject, else the peer address.
    caller: Arc<str>,
    /// The order sessions were made in: among sessions last used in the same second, the
    /// older goes first.
    seq: u64,
    protocol_version: &'static str,
    /// When it was made, for `mcp_server_session_duration_seconds` (feature `metrics`).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    created: Instant,
    log_level: AtomicU8,
    last_seen: AtomicU64,
    /// The calls that wait, from their first wait to their end, which removes them (and so
    /// the reference cycle through their context's session).
    inflight: Mutex<HashMap<RequestKey, Arc<dyn InFlight>>>,
    streams: Mutex<Vec<mpsc::Sender<Bytes>>>,
    /// The resource URIs the client subscribed to (`resources/subscribe`).
    subscriptions: Mutex<std::collections::HashSet<String>>,
    /// What the client declared at `initialize`.
    client: ClientCapabilities,
    /// The server's requests awaiting the client's answer.
    pub(crate) outgoing: Outgoing,
    /// How long such a request waits for its answer.
    pub(crate) request_timeout: Duration,
    /// The logs of its recent call streams, for resumption.
    pub(crate) replay: Replay,
    /// Set by `close`; read on every call, where `closed.is_cancelled()` would take a lock.
    is_closed: AtomicBool,
    closed: CancellationToken,
    /// When the shared store last confirmed the session (seconds of `Sessions`' clock; see
    /// `shared_sessions`).
    pub(crate) confirmed: AtomicU64,
}

/// The most resources one session may subscribe to (as many as a 2026-07-28 stream may
/// follow).
pub(crate) const MAX_SUBSCRIPTIONS: usize = 1000;

/// A request id as a key of the in-flight table. Ids are strings or numbers, and two ids
/// name the same request when their JSON texts are equal: `1`, `1.0` and `"1"` are three
/// different requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum RequestKey {
    Unsigned(u64),
    Negative(i64),
    /// The bits of a float: JSON has no NaN, and `0.0` and `-0.0` are written differently.
    Float(u64),
    String(String),
}

impl RequestKey {
    /// The key of an id; `None` for a value that cannot be an id.
    pub(crate) fn new(id: &Value) -> Option<Self> {
        match id {
            Value::String(s) => Some(RequestKey::String(s.clone())),
            Value::Number(n) => Some(if let Some(u) = n.as_u64() {
                RequestKey::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                RequestKey::Negative(i)
            } else {
                RequestKey::Float(n.as_f64()?.to_bits())
            }),
            _ => None,
        }
    }
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

    /// The authenticated subject (`sub`) the session is bound to, on a server with OAuth.
    pub fn subject(&self) -> Option<&str> {
        self.subject.get().map(String::as_str)
    }

    /// Binds a session created without a token to `subject`, the first caller to authenticate
    /// on it; `true` when the session is `subject`'s (now or already), `false` when it belongs
    /// to someone else.
    pub(crate) fn claim(&self, subject: &str) -> bool {
        self.subject.get_or_init(|| subject.to_owned()) == subject
    }

    /// The protocol version negotiated at `initialize`.
    pub fn protocol_version(&self) -> &'static str {
        self.protocol_version
    }

    /// What the client declared at `initialize`.
    pub(crate) fn client(&self) -> ClientCapabilities {
        self.client
    }

    pub(crate) fn log_level(&self) -> LogLevel {
        LogLevel::from_u8(self.log_level.load(Ordering::Relaxed)).unwrap_or(LogLevel::Debug)
    }

    pub(crate) fn set_log_level(&self, level: LogLevel) {
        self.log_level.store(level as u8, Ordering::Relaxed);
    }

    fn touch(&self, now: u64) {
        // Written only when it changes: every request of the session reads this line, from
        // every worker thread.
        if self.last_seen.load(Ordering::Relaxed) != now {
            self.last_seen.store(now, Ordering::Relaxed);
        }
    }

    /// Registers a call in flight, until `end_request`; `close` cancels whatever is still
    /// in flight.
    pub(crate) fn begin_request<C: InFlight + 'static>(&self, key: RequestKey, call: &Arc<C>) {
        let mut inflight = lock(&self.inflight);
        // Checked under the lock that `close` takes after setting the flag: either `close`
        // sees this call, or this call sees the flag.
        if self.is_closed.load(Ordering::Acquire) {
            call.cancel();
        }
        inflight.insert(key, call.clone());
    }

    /// Unregisters a call that ended.
    pub(crate) fn end_request(&self, key: &RequestKey) {
        lock(&self.inflight).remove(key);
    }

    /// Cancels a request in flight (`notifications/cancelled`); false if none matched.
    pub(crate) fn cancel_request(&self, id: &Value) -> bool {
        let Some(key) = RequestKey::new(id) else {
            return false;
        };
        match lock(&self.inflight).remove(&key) {
            Some(call) => {
                call.cancel();
                true
            }
            None => false,
        }
    }

    /// Opens a server-to-client stream (GET); messages go to the most recent open one.
    pub(crate) fn open_stream(&self) -> mpsc::Receiver<Bytes> {
        // Bounded like the listen streams: a client that stops reading loses its stream
        // rather than growing the server's memory.
        let (tx, rx) = mpsc::channel(crate::server::protocol::listen::QUEUE);
        let mut streams = lock(&self.streams);
        streams.retain(|s| !s.is_closed());
        streams.push(tx);
        rx
    }

    /// Sends a server-initiated message on one open GET stream; false if none is open.
    pub fn send_to_stream(&self, message: Bytes) -> bool {
        let mut streams = lock(&self.streams);
        streams.retain(|s| !s.is_closed());
        let Some(stream) = streams.last() else {
            return false;
        };
        match stream.try_send(message) {
            Ok(()) => true,
            // Its client stopped reading: the stream ends (the client opens another GET).
            Err(_) => {
                streams.pop();
                false
            }
        }
    }

    /// Subscribes the session to updates of `uri`; false (and nothing changes) when it
    /// already follows [`MAX_SUBSCRIPTIONS`] others.
    pub(crate) fn subscribe(&self, uri: &str) -> bool {
        let mut subs = lock(&self.subscriptions);
        if subs.len() >= MAX_SUBSCRIPTIONS && !subs.contains(uri) {
            return false;
        }
        subs.insert(uri.to_owned());
        true
    }

    /// Ends a subscription; whether there was one.
    pub(crate) fn unsubscribe(&self, uri: &str) -> bool {
        lock(&self.subscriptions).remove(uri)
    }

    /// Whether the session subscribed to `uri`.
    pub(crate) fn is_subscribed(&self, uri: &str) -> bool {
        lock(&self.subscriptions).contains(uri)
    }

    /// Resolves when the session is deleted or expires.
    pub(crate) fn closed(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.closed.cancelled()
    }

    fn close(&self) {
        self.is_closed.store(true, Ordering::Release);
        self.closed.cancel();
        for call in lock(&self.inflight).values() {
            call.cancel();
        }
        lock(&self.streams).clear();
        self.outgoing.close();
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
    map: RwLock<ServerKeyed<Arc<str>, Arc<Session>>>,
    idle_timeout: Duration,
    max: usize,
    /// The most sessions one caller keeps (0: no bound).
    per_caller: usize,
    request_timeout: Duration,
    epoch: Instant,
    last_sweep: AtomicU64,
    made: AtomicU64,
    /// Where ended sessions' durations are counted (feature `metrics`).
    #[cfg(feature = "metrics")]
    metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Sessions {
    pub(crate) fn new(idle_timeout: Duration, max: usize, request_timeout: Duration) -> Self {
        Sessions {
            map: RwLock::new(ServerKeyed::default()),
            idle_timeout,
            max,
            per_caller: 0,
            request_timeout,
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
            made: AtomicU64::new(0),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// Counts ended sessions' durations in `metrics` (feature `metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) fn with_metrics(mut self, metrics: Option<Arc<crate::metrics::Metrics>>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Without the `metrics` feature there is nothing to count in.
    #[cfg(not(feature = "metrics"))]
    pub(crate) fn with_metrics(self) -> Self {
        self
    }

    /// A session leaves the map: it closes, and its duration is counted.
    fn end(&self, session: &Session) {
        session.close();
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            m.session_ended(session.protocol_version, session.created.elapsed());
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_secs()
    }

    /// Bounds the sessions one caller keeps: beyond `n`, its least recently used one goes.
    pub(crate) fn with_per_caller(mut self, n: usize) -> Self {
        self.per_caller = n;
        self
    }

    #[cfg(test)]
    pub(crate) fn create(
        &self,
        protocol_version: &'static str,
        subject: Option<String>,
        client: ClientCapabilities,
    ) -> Result<Arc<Session>, SessionError> {
        self.create_for(protocol_version, subject, client, None)
    }

    /// A new session; `peer` (the client's address) names the caller when there is no
    /// subject.
    pub(crate) fn create_for(
        &self,
        protocol_version: &'static str,
        subject: Option<String>,
        client: ClientCapabilities,
        peer: Option<std::net::IpAddr>,
    ) -> Result<Arc<Session>, SessionError> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(SessionError::Random)?;
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let caller: Arc<str> = match (&subject, peer) {
            (Some(s), _) => format!("sub {s}").into(),
            (None, Some(ip)) => format!("peer {ip}").into(),
            (None, None) => "anonymous".into(),
        };
        self.adopt_as(id.into(), protocol_version, subject, client, caller)
    }

    /// A session under a given id: a new one, or one another replica created (read from the
    /// shared store).
    pub(crate) fn adopt(
        &self,
        id: Arc<str>,
        protocol_version: &'static str,
        subject: Option<String>,
        client: ClientCapabilities,
    ) -> Result<Arc<Session>, SessionError> {
        let caller: Arc<str> = match &subject {
            Some(s) => format!("sub {s}").into(),
            None => "shared".into(),
        };
        self.adopt_as(id, protocol_version, subject, client, caller)
    }

    fn adopt_as(
        &self,
        id: Arc<str>,
        protocol_version: &'static str,
        subject: Option<String>,
        client: ClientCapabilities,
        caller: Arc<str>,
    ) -> Result<Arc<Session>, SessionError> {
        let now = self.now();
        self.sweep(now);
        let session = Arc::new(Session {
            created: Instant::now(),
            id,
            protocol_version,
            subject: subject.map(std::sync::OnceLock::from).unwrap_or_default(),
            caller,
            seq: self.made.fetch_add(1, Ordering::Relaxed),
            log_level: AtomicU8::new(LEVEL_UNSET),
            last_seen: AtomicU64::new(now),
            inflight: Mutex::new(HashMap::new()),
            streams: Mutex::new(Vec::new()),
            subscriptions: Mutex::new(std::collections::HashSet::new()),
            client,
            outgoing: Outgoing::default(),
            request_timeout: self.request_timeout,
            replay: Replay::default(),
            is_closed: AtomicBool::new(false),
            closed: CancellationToken::new(),
            confirmed: AtomicU64::new(now),
        });
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.contains_key(&session.id) {
            // Two requests adopting one session at once: the first one's stays.
            return Ok(map[&session.id].clone());
        }
        // One caller may not hold more than its share: its least recently used session goes.
        if self.per_caller > 0 {
            let mine = map.values().filter(|s| s.caller == session.caller);
            if mine.clone().count() >= self.per_caller
                && let Some(oldest) = mine
                    .min_by_key(|s| (s.last_seen.load(Ordering::Relaxed), s.seq))
                    .map(|s| s.id.clone())
                && let Some(gone) = map.remove(&oldest)
            {
                tracing::debug!(target: "mcp_runtime::server", session = %gone.id, "session evicted: its caller reached max_sessions_per_caller");
                self.end(&gone);
            }
        }
        // Full: the least recently used idle session (no call in flight) makes room.
        if map.len() >= self.max {
            let idle = map
                .values()
                .filter(|s| lock(&s.inflight).is_empty())
                .min_by_key(|s| (s.last_seen.load(Ordering::Relaxed), s.seq))
                .map(|s| s.id.clone());
            match idle.and_then(|id| map.remove(&id)) {
                Some(gone) => {
                    tracing::debug!(target: "mcp_runtime::server", session = %gone.id, "session evicted: the server holds max_sessions");
                    self.end(&gone);
                }
                None => return Err(SessionError::Full(self.max)),
            }
        }
        let kept = map
            .entry(session.id.clone())
            .or_insert_with(|| session.clone())
            .clone();
        Ok(kept)
    }

    /// The clock sessions are timed by, in seconds.
    pub(crate) fn clock(&self) -> u64 {
        self.now()
    }

    /// How long an unused session lives.
    pub(crate) fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Every live session (a snapshot).
    pub(crate) fn all(&self) -> Vec<Arc<Session>> {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
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
                self.end(&s);
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
                self.end(s);
            }
            keep
        });
    }

    /// Whether the session is held (without touching it), for tests.
    #[cfg(test)]
    fn map_has(&self, id: &str) -> bool {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(id)
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
    use crate::server::call::ContextInner;

    #[test]
    fn sessions_are_bounded_and_removable() {
        let sessions = Sessions::new(Duration::from_secs(60), 2, Duration::from_secs(1));
        let a = sessions
            .create("2025-11-25", None, ClientCapabilities::default())
            .expect("first");
        let b = sessions
            .create("2025-11-25", None, ClientCapabilities::default())
            .expect("second");
        // Full, with calls in flight in every session: refused.
        let (ca, cb) = (call(), call());
        a.begin_request(RequestKey::Unsigned(1), &ca);
        b.begin_request(RequestKey::Unsigned(1), &cb);
        let err = sessions
            .create("2025-11-25", None, ClientCapabilities::default())
            .expect_err("third is over the limit");
        assert_eq!(
            err.to_string(),
            "the server has reached its limit of 2 sessions; try again later"
        );
        // An idle session makes room for a newcomer: the least recently used one.
        b.end_request(&RequestKey::Unsigned(1));
        let c = sessions
            .create("2025-11-25", None, ClientCapabilities::default())
            .expect("b is idle");
        assert!(sessions.get(b.id()).is_none(), "b was evicted");
        assert!(sessions.get(c.id()).is_some() && sessions.get(a.id()).is_some());
        assert_eq!(a.id().len(), 32);
        assert!(sessions.remove(a.id()));
        assert!(!sessions.remove(a.id()));
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn one_caller_keeps_at_most_its_share_losing_its_oldest() {
        let sessions =
            Sessions::new(Duration::from_secs(60), 100, Duration::from_secs(1)).with_per_caller(3);
        let caps = ClientCapabilities::default();
        let flood: Vec<_> = (0..5)
            .map(|_| {
                sessions
                    .create_for("2025-11-25", Some("mallory".into()), caps, None)
                    .expect("a session")
            })
            .collect();
        let alive: Vec<bool> = flood.iter().map(|s| sessions.map_has(s.id())).collect();
        assert_eq!(alive.iter().filter(|a| **a).count(), 3, "{alive:?}");
        assert!(!alive[0] && !alive[1], "the oldest went first: {alive:?}");
        let ann = sessions
            .create_for("2025-11-25", Some("ann".into()), caps, None)
            .expect("another caller is unaffected");
        assert!(sessions.map_has(ann.id()));
        assert_eq!(sessions.len(), 4);
    }

    fn call() -> Arc<ContextInner> {
        Arc::new(ContextInner {
            meta: None,
            inputs: None,
            tool: "t",
            auth: None,
            progress_token: None,
            session: None,
            call: crate::server::call::CallState::new(false, false),
            task: Default::default(),
        })
    }

    #[test]
    fn cancel_reaches_the_request() {
        let sessions = Sessions::new(Duration::from_secs(60), 10, Duration::from_secs(1));
        let s = sessions
            .create("2025-06-18", None, ClientCapabilities::default())
            .expect("session");
        let (one, text) = (call(), call());
        s.begin_request(RequestKey::new(&Value::from(1)).expect("key"), &one);
        s.begin_request(RequestKey::new(&Value::from("1")).expect("key"), &text);
        assert!(!s.cancel_request(&serde_json::json!(1.0)));
        assert!(s.cancel_request(&Value::from(1)));
        assert!(one.call.is_cancelled());
        assert!(!text.call.is_cancelled());
        assert!(!s.cancel_request(&Value::from(1)));
        s.end_request(&RequestKey::String("1".into()));
        assert!(!s.cancel_request(&Value::from("1")));
        assert!(!text.call.is_cancelled());
    }

    #[test]
    fn closing_cancels_calls_in_flight_and_later() {
        let sessions = Sessions::new(Duration::from_secs(60), 10, Duration::from_secs(1));
        let s = sessions
            .create("2025-06-18", None, ClientCapabilities::default())
            .expect("session");
        let (before, after) = (call(), call());
        s.begin_request(RequestKey::Unsigned(1), &before);
        assert!(sessions.remove(s.id()));
        assert!(before.call.is_cancelled());
        s.begin_request(RequestKey::Unsigned(2), &after);
        assert!(after.call.is_cancelled());
    }
}
