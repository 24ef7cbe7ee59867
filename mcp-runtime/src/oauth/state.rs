//! The core's state: registered clients, pending sign-ins, codes and refresh tokens.

use std::collections::HashMap;
use std::time::Instant;

pub(super) struct Client {
    pub(super) name: Option<String>,
    pub(super) secret_hash: Option<[u8; 32]>,
    pub(super) redirect_uris: Vec<String>,
    pub(super) refresh: bool,
}

/// A checked authorization request: what the code it leads to is bound to.
pub(super) struct AuthRequest {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    /// The request named `redirect_uri` (so the token request must repeat it).
    pub(super) redirect_given: bool,
    pub(super) challenge: String,
    pub(super) scopes: Vec<String>,
    pub(super) state: Option<String>,
}

/// An authorization request waiting for the sign-in page's answer.
pub(super) struct Pending {
    pub(super) request: AuthRequest,
    pub(super) expires: Instant,
}

pub(super) struct Code {
    pub(super) request: AuthRequest,
    pub(super) user: User,
    pub(super) expires: Instant,
}

pub(super) struct Refresh {
    pub(super) client_id: String,
    pub(super) scopes: Vec<String>,
    pub(super) user: User,
    pub(super) family: u64,
    pub(super) expires: Instant,
}

#[derive(Clone)]
pub(super) struct User {
    pub(super) sub: String,
    pub(super) name: String,
    pub(super) email: String,
}

#[derive(Default)]
pub(super) struct Store {
    pub(super) clients: HashMap<String, Client>,
    pub(super) pending: HashMap<String, Pending>,
    pub(super) codes: HashMap<String, Code>,
    pub(super) refresh: HashMap<[u8; 32], Refresh>,
    /// Refresh tokens already exchanged, by hash, with their family: presenting one again
    /// revokes the family (RFC 9700 §4.14.2).
    pub(super) spent: HashMap<[u8; 32], u64>,
    pub(super) families: u64,
}

impl Store {
    pub(super) fn purge(&mut self, now: Instant) {
        self.pending.retain(|_, p| p.expires > now);
        self.codes.retain(|_, c| c.expires > now);
        self.refresh.retain(|_, r| r.expires > now);
    }
}
