//! Resumable call streams (2025-11-25, SEP-1699): every event of a tool call's SSE stream
//! gets an id (`<stream>-<seq>`) and is kept in a bounded log in the session, so that when
//! the server closes the stream early ([`Context::close_sse_stream`](crate::Context::close_sse_stream))
//! the client can resume it (`GET` with `Last-Event-ID`) and receive what it missed, then the
//! rest, up to the response.
//!
//! A session keeps the logs of its most recent [`MAX_STREAMS`] streams, each at most
//! [`MAX_EVENTS`] events and [`MAX_BYTES`] bytes; an older event id can no longer be resumed,
//! and says so.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::Notify;

/// Call streams whose logs a session keeps.
pub(crate) const MAX_STREAMS: usize = 32;
/// Events one log keeps.
pub(crate) const MAX_EVENTS: usize = 256;
/// Bytes one log keeps (its most recent event always stays): a session holds at most
/// `MAX_STREAMS` × this, however large the results.
pub(crate) const MAX_BYTES: usize = 1 << 20;

/// One call stream's events, as sent (each already framed with its id).
#[derive(Debug)]
pub(crate) struct StreamLog {
    pub(crate) stream: u64,
    state: Mutex<LogState>,
    /// Woken on every new event and at the end.
    changed: Notify,
}

#[derive(Debug, Default)]
struct LogState {
    events: VecDeque<(u64, Bytes)>,
    bytes: usize,
    next: u64,
    done: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while these locks are held.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a resumed stream reads next.
pub(crate) enum Next {
    /// Events after the cursor (which moves past them).
    Events(Vec<Bytes>),
    /// Nothing new yet.
    Wait,
    /// The call answered and everything was read.
    End,
    /// Events after the cursor were dropped before this reader got them (it fell behind the
    /// bounds): the stream ends rather than skip them silently.
    Gap,
}

impl StreamLog {
    /// The next event's id, reserved.
    pub(crate) fn next_id(&self) -> (u64, String) {
        let mut s = lock(&self.state);
        let seq = s.next;
        s.next += 1;
        (seq, format!("{}-{seq}", self.stream))
    }

    /// Keeps an event (framed with the id `next_id` gave for `seq`).
    pub(crate) fn record(&self, seq: u64, event: Bytes) {
        let mut s = lock(&self.state);
        s.bytes += event.len();
        s.events.push_back((seq, event));
        while s.events.len() > MAX_EVENTS || (s.bytes > MAX_BYTES && s.events.len() > 1) {
            if let Some((_, old)) = s.events.pop_front() {
                s.bytes -= old.len();
            }
        }
        drop(s);
        self.changed.notify_waiters();
    }

    /// The call answered: no more events.
    pub(crate) fn finish(&self) {
        lock(&self.state).done = true;
        self.changed.notify_waiters();
    }

    /// Whether events after `seq` can still be replayed in full.
    pub(crate) fn can_resume_after(&self, seq: u64) -> bool {
        let s = lock(&self.state);
        seq < s.next && s.events.front().is_none_or(|(first, _)| *first <= seq + 1)
    }

    /// The events after `*cursor`.
    pub(crate) fn read_after(&self, cursor: &mut u64) -> Next {
        let s = lock(&self.state);
        if s.events
            .front()
            .is_some_and(|(first, _)| *first > *cursor + 1)
        {
            return Next::Gap;
        }
        let events: Vec<Bytes> = s
            .events
            .iter()
            .filter(|(seq, _)| *seq > *cursor)
            .map(|(_, e)| e.clone())
            .collect();
        if let Some((last, _)) = s.events.back()
            && !events.is_empty()
        {
            *cursor = *last;
            return Next::Events(events);
        }
        if s.done { Next::End } else { Next::Wait }
    }

    /// Resolves on the next change; make it before reading, so none is missed.
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }
}

/// A session's call-stream logs.
#[derive(Default)]
pub(crate) struct Replay {
    logs: Mutex<VecDeque<Arc<StreamLog>>>,
}

/// Streams this process opened, in any session: a session adopted again (after eviction, from
/// the shared store) never reuses a number an earlier copy of it gave out.
static STREAMS: AtomicU64 = AtomicU64::new(0);

/// The top 32 bits of this process's random [`instance`](super::instance), shifted: stream
/// numbers start there, so a replica sharing the session numbers its streams elsewhere and a
/// `Last-Event-ID` from it is refused as unknown, never replayed as the wrong call's events.
fn base() -> u64 {
    (super::instance() >> 32) << 31
}

impl Replay {
    /// A log for a new call stream (the oldest log goes beyond [`MAX_STREAMS`]).
    pub(crate) fn open(&self) -> Arc<StreamLog> {
        let log = Arc::new(StreamLog {
            stream: base().wrapping_add(STREAMS.fetch_add(1, Ordering::Relaxed)),
            state: Mutex::new(LogState::default()),
            changed: Notify::new(),
        });
        let mut logs = lock(&self.logs);
        logs.push_back(log.clone());
        while logs.len() > MAX_STREAMS {
            logs.pop_front();
        }
        log
    }

    /// The log and position a `Last-Event-ID` names, if it can be resumed.
    pub(crate) fn resume(&self, last_event_id: &str) -> Result<(Arc<StreamLog>, u64), String> {
        let parsed = last_event_id
            .split_once('-')
            .and_then(|(s, q)| Some((s.parse::<u64>().ok()?, q.parse::<u64>().ok()?)));
        let Some((stream, seq)) = parsed else {
            return Err(format!(
                "Last-Event-ID `{last_event_id}` is not an event id this server sent"
            ));
        };
        let log = lock(&self.logs)
            .iter()
            .find(|l| l.stream == stream)
            .cloned();
        match log {
            Some(log) if log.can_resume_after(seq) => Ok((log, seq)),
            Some(_) => Err(format!(
                "the events after `{last_event_id}` are no longer kept (a stream keeps its last \
                 {MAX_EVENTS})"
            )),
            None if stream.wrapping_sub(base()) >= STREAMS.load(Ordering::Relaxed) => Err(format!(
                "the stream of event `{last_event_id}` is not known to this process: another \
                     replica of this server sent it, or this one before a restart; route a \
                     session's requests to one replica (sticky on Mcp-Session-Id) to resume it"
            )),
            None => Err(format!(
                "the stream of event `{last_event_id}` is no longer kept (a session keeps its \
                 last {MAX_STREAMS} streams)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(log: &StreamLog, text: &'static str) -> String {
        let (seq, id) = log.next_id();
        log.record(seq, Bytes::from_static(text.as_bytes()));
        id
    }

    #[test]
    fn a_stream_resumes_after_the_last_event_read() {
        let replay = Replay::default();
        let log = replay.open();
        let first = event(&log, "a");
        event(&log, "b");
        let (log, mut cursor) = replay.resume(&first).expect("resumable");
        let Next::Events(e) = log.read_after(&mut cursor) else {
            panic!("events expected");
        };
        assert_eq!(e, vec![Bytes::from_static(b"b")]);
        assert!(matches!(log.read_after(&mut cursor), Next::Wait));
        log.finish();
        assert!(matches!(log.read_after(&mut cursor), Next::End));
    }

    #[test]
    fn what_is_no_longer_kept_is_refused_by_name() {
        let replay = Replay::default();
        let log = replay.open();
        let first = event(&log, "a");
        for _ in 0..MAX_EVENTS + 1 {
            event(&log, "x");
        }
        assert!(
            replay
                .resume(&first)
                .expect_err("gone")
                .contains("no longer kept")
        );
        let big = replay.open();
        let before = event(&big, "small");
        event(&big, "small too");
        let (seq, _) = big.next_id();
        big.record(seq, Bytes::from(vec![b'x'; MAX_BYTES]));
        assert!(
            replay.resume(&before).is_err(),
            "the byte bound dropped the older event"
        );
        let mut behind = 0;
        assert!(
            matches!(big.read_after(&mut behind), Next::Gap),
            "a reader that fell behind is told, not skipped ahead"
        );
        let mut cursor = 1;
        assert!(matches!(big.read_after(&mut cursor), Next::Events(e) if e.len() == 1));
        for _ in 0..MAX_STREAMS {
            replay.open();
        }
        assert!(
            replay
                .resume(&format!("{}-1", log.stream))
                .expect_err("gone")
                .contains("last 32 streams")
        );
        // Another process numbers its streams from its own random instance: an id it sent
        // names nothing here, and the refusal says why.
        assert_eq!(log.stream >> 31, super::super::instance() >> 32);
        let foreign = base() ^ (1 << 40);
        let err = replay
            .resume(&format!("{foreign}-1"))
            .expect_err("another replica's stream");
        assert!(err.contains("another replica"), "{err}");
        // A session adopted again (a new copy of it) never reuses a stream number.
        let again = Replay::default();
        assert!(again.open().stream > log.stream);
        assert!(
            again.resume(&first).is_err(),
            "an earlier copy's stream is not this one's"
        );
        assert!(
            replay
                .resume("abc")
                .expect_err("bad")
                .contains("not an event id")
        );
        assert!(replay.resume("40-5").is_err(), "never sent");
    }
}
