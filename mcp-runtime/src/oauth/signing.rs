//! The server's use of its key ring: signing tokens, the JWKS document, and following a
//! rotation made by another replica or by `rotate_signing_key`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::Value;

use super::AuthServer;
use super::keys::{KeyRing, RELOAD_EVERY, is_sealed, now_ms, read};
use crate::store::{Space, StoreError, block_on};

impl AuthServer {
    pub(super) fn sign(&self, claims: &Value) -> Option<String> {
        let ring = self.keys.load();
        let key = ring.signing(now_ms());
        let msg = format!(
            "{}.{}",
            key.header_b64,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; key.key.public_modulus_len()];
        key.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, msg.as_bytes(), &mut sig)
            .ok()?;
        Some(format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    /// The JWKS document: every key of the ring.
    pub(crate) fn jwks_body(&self) -> Bytes {
        self.keys.load().jwks_body.clone()
    }

    /// Reads the ring again when it may have changed (at most once a second): a rotation made
    /// elsewhere is published, and verified, here too.
    pub(super) async fn refresh_keys(&self) {
        {
            let mut last = self
                .keys_read
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.elapsed() < Duration::from_secs(1) {
                return;
            }
            *last = Instant::now();
        }
        self.adopt_ring(self.store.get(Space::Keys, "signing").await);
    }

    /// Takes the ring the store answered, if it differs from the one in use.
    pub(super) fn adopt_ring(&self, answer: Result<Option<Vec<u8>>, StoreError>) {
        let raw = match answer {
            Ok(Some(raw)) => raw,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::auth", error = %e, "the signing keys could not be read again; the ones in use stay");
                return;
            }
        };
        if self.sealer.is_some() && !is_sealed(&raw) {
            tracing::warn!(target: "mcp_runtime::auth", "the store holds signing keys in the clear where this replica keeps them encrypted; they are refused and the ones in use stay (rotate with MCP_STORE_ENCRYPTION_KEY)");
            return;
        }
        let stored = match read(&raw, self.sealer.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::auth", error = %e, "the stored signing keys are unreadable; the ones in use stay");
                return;
            }
        };
        if stored == self.keys.load().stored {
            return;
        }
        match KeyRing::new(stored) {
            Ok(ring) => {
                if let Some(cache) = self.verifier_keys.get()
                    && let Ok(set) = serde_json::from_slice(&ring.jwks_body)
                {
                    cache.replace_fixed(&set);
                }
                tracing::info!(target: "mcp_runtime::auth", keys = ring.keys.len(), "signing keys updated from the store");
                self.keys.store(Arc::new(ring));
            }
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::auth", error = %e, "the stored signing keys are rejected; the ones in use stay");
            }
        }
    }

    /// Reads the ring every [`RELOAD_EVERY`] on a thread of its own, for as long as the server
    /// exists: a replica that serves no token or JWKS request still learns of a rotation.
    pub(crate) fn watch_keys(this: &Arc<AuthServer>) {
        let weak = Arc::downgrade(this);
        let ticks_per_reload =
            (RELOAD_EVERY.as_millis() / super::REVOCATIONS_EVERY.as_millis()).max(1);
        let spawned = std::thread::Builder::new()
            .name("mcp-keys".into())
            .spawn(move || {
                let mut tick: u128 = 0;
                let mut failing = false;
                loop {
                    std::thread::sleep(super::REVOCATIONS_EVERY);
                    let Some(server) = weak.upgrade() else {
                        return;
                    };
                    tick += 1;
                    server.forget_idle_clients();
                    if tick.is_multiple_of(ticks_per_reload) {
                        server.adopt_ring(block_on(server.store.get(Space::Keys, "signing")));
                    }
                    match server.read_revocations() {
                        Ok(()) => failing = false,
                        Err(e) if !failing => {
                            failing = true;
                            tracing::warn!(target: "mcp_runtime::auth", "reading the revoked grants failed (tokens of grants other replicas revoke keep working here until it succeeds): {e}");
                        }
                        Err(_) => {}
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(target: "mcp_runtime::auth", error = %e, "no thread to watch the signing keys and revocations; rotations reach this replica at its token and JWKS endpoints only, and other replicas' revocations not at all");
        }
    }
}
