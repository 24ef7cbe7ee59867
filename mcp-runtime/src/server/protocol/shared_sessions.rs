//! MCP sessions shared by replicas (revisions before 2026-07-28): a session's record (its
//! revision, the caller it is bound to, the client's capabilities) lives in a store every
//! replica reads (Redis), so a request for a session another replica created is served here
//! as well.
//!
//! - `initialize` writes the record before it answers, with the idle timeout as its lifetime.
//! - A request for a session this replica does not hold reads the record and adopts the
//!   session (a local copy under the same id); no record means the specification's 404.
//! - A session in use is confirmed against the store at most once a minute: its record's
//!   lifetime is extended, and a record gone (deleted on another replica, or expired) ends the
//!   local copy too.
//! - `DELETE` removes the record, so the other replicas let go at their next confirmation.
//!
//! What stays per replica: streams (the GET stream, call streams and their replay logs), the
//! server's requests to the client awaiting an answer, and calls in flight (for
//! cancellation). A client whose requests alternate between replicas gets its results; the
//! answer to a server-to-client request, a cancellation and a resumption reach only the
//! replica that holds the call, so those need sticky routing (by `Mcp-Session-Id`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::server::outgoing::ClientCapabilities;
use crate::server::session::{Session, SessionError, Sessions};
use crate::store::{Space, Store, StoreError};

/// How often a session in use is confirmed against the store, at most.
const CONFIRM_EVERY: u64 = 60;

/// A session as the store keeps it.
#[derive(Serialize, Deserialize)]
struct Record {
    version: String,
    subject: Option<String>,
    client: ClientCapabilities,
}

/// Why a shared session could not be served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SharedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// The store sessions are shared through.
pub(crate) struct SharedSessions {
    store: Arc<dyn Store>,
}

impl SharedSessions {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        SharedSessions { store }
    }

    /// What the store is, for the start-up log.
    pub(crate) fn describe(&self) -> String {
        self.store.describe()
    }

    /// Writes a new session's record, for the other replicas.
    pub(crate) async fn save(&self, sessions: &Sessions, s: &Session) -> Result<(), StoreError> {
        let record = Record {
            version: s.protocol_version().to_owned(),
            subject: s.subject().map(str::to_owned),
            client: s.client(),
        };
        let bytes = serde_json::to_vec(&record)
            .map_err(|e| StoreError::with_source("a session record does not serialize", e))?;
        self.store
            .put(
                Space::Sessions,
                s.id(),
                bytes,
                Some(sessions.idle_timeout()),
            )
            .await
    }

    /// The session `id` another replica created, adopted here; `None` when the store has no
    /// such session.
    pub(crate) async fn load(
        &self,
        sessions: &Sessions,
        id: &str,
    ) -> Result<Option<Arc<Session>>, SharedError> {
        let Some(raw) = self.store.get(Space::Sessions, id).await? else {
            return Ok(None);
        };
        let Ok(record) = serde_json::from_slice::<Record>(&raw) else {
            tracing::warn!(target: "mcp_runtime::server", "a shared session record is unreadable; treated as unknown");
            return Ok(None);
        };
        // Only a revision this server speaks (a record from a newer server is unknown here).
        let Some(version) = crate::model::version::supported_version(&record.version) else {
            return Ok(None);
        };
        let session = sessions.adopt(id.into(), version, record.subject, record.client)?;
        tracing::debug!(target: "mcp_runtime::rpc", session = id, "session adopted from the shared store");
        Ok(Some(session))
    }

    /// Confirms a session in use (at most once a minute): extends its record, or ends the
    /// local copy when the record is gone. False when the session is gone.
    pub(crate) async fn confirm(
        &self,
        sessions: &Sessions,
        s: &Session,
    ) -> Result<bool, StoreError> {
        let now = sessions.clock();
        let last = s.confirmed.load(Ordering::Relaxed);
        if now
            < last
                + CONFIRM_EVERY
                    .min(sessions.idle_timeout().as_secs() / 4)
                    .max(1)
        {
            return Ok(true);
        }
        s.confirmed.store(now, Ordering::Relaxed);
        let Some(raw) = self.store.get(Space::Sessions, s.id()).await? else {
            sessions.remove(s.id());
            return Ok(false);
        };
        self.store
            .put(
                Space::Sessions,
                s.id(),
                raw,
                Some(sessions.idle_timeout().max(Duration::from_secs(1))),
            )
            .await?;
        Ok(true)
    }

    /// Removes a deleted session's record.
    pub(crate) async fn forget(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete(Space::Sessions, id).await
    }
}
