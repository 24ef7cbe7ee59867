//! The core's records (clients, requests waiting for the user, codes, refresh tokens), kept in
//! the [`Store`](crate::store::Store) as JSON: by client id or transaction id, and codes and
//! refresh tokens by the base64url SHA-256 of the credential, never the credential itself.

use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::AuthServer;
use super::responses::oauth_error;
use crate::model::Report;
use crate::store::{Space, StoreError};

#[derive(Serialize, Deserialize)]
pub(super) struct Client {
    pub(super) name: Option<String>,
    /// Base64url SHA-256 of a confidential client's secret.
    pub(super) secret_hash: Option<String>,
    pub(super) redirect_uris: Vec<String>,
    pub(super) refresh: bool,
}

/// A checked authorization request: what the code it leads to is bound to.
#[derive(Serialize, Deserialize)]
pub(super) struct AuthRequest {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    /// The request named `redirect_uri` (so the token request must repeat it).
    pub(super) redirect_given: bool,
    pub(super) challenge: String,
    pub(super) scopes: Vec<String>,
    pub(super) state: Option<String>,
}

/// An authorization code's grant.
#[derive(Serialize, Deserialize)]
pub(super) struct Code {
    pub(super) request: AuthRequest,
    pub(super) user: User,
    /// The resource of the server that issued it: redeemed nowhere else.
    #[serde(default)]
    pub(super) resource: String,
}

/// A live refresh token's grant. Its `family` is shared by every token rotated from the same
/// authorization code; a replay revokes the family (RFC 9700 §4.14.2).
#[derive(Serialize, Deserialize)]
pub(super) struct Refresh {
    pub(super) client_id: String,
    pub(super) scopes: Vec<String>,
    pub(super) user: User,
    pub(super) family: String,
    /// The resource of the server that issued it: used nowhere else.
    #[serde(default)]
    pub(super) resource: String,
    /// The DPoP key (its thumbprint) the grant is bound to: refreshed only with a proof by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) jkt: Option<String>,
}

/// What a spent code or refresh token leads to, should it come back: its grant (`family`,
/// the `sid` of the tokens it issued) and the upstream grant whose tokens the proxy keeps.
#[derive(Serialize, Deserialize)]
pub(super) struct Spent {
    pub(super) family: String,
    #[serde(default)]
    pub(super) grant: Option<String>,
}

/// A live grant of a user, in their list.
#[derive(Serialize, Deserialize)]
pub(super) struct GrantEntry {
    spent: Spent,
    expires_ms: u64,
}

/// Who approved a grant, and what this server's tokens say about them.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct User {
    pub(super) sub: String,
    pub(super) name: Option<String>,
    pub(super) email: Option<String>,
    /// More identity claims (the upstream's `picture`, `roles`, …), copied into tokens.
    #[serde(default)]
    pub(super) extra: serde_json::Map<String, serde_json::Value>,
    /// The upstream grant whose tokens the proxy keeps (`gid` in this server's tokens).
    #[serde(default)]
    pub(super) grant: Option<String>,
}

/// A handle for a record of one client's (a sign-in in progress): `<client tag>.<random>`. Its
/// store key (see [`txn_key`]) begins with the client id, so that each client's records are
/// bounded apart: one client's flood evicts its own oldest, nobody else's.
pub(super) fn txn_handle(client_id: &str) -> String {
    format!(
        "{}.{}",
        client_tag(client_id),
        super::params::random_token(24)
    )
}

/// A short fixed-alphabet tag of a client id (which may one day be a URL): 16 characters of
/// its SHA-256, base64url.
fn client_tag(client_id: &str) -> String {
    let mut tag = hashed(client_id);
    tag.truncate(16);
    tag
}

/// The store key of a transaction handle of `kind`; `None` for a malformed handle.
pub(super) fn txn_key(kind: &str, handle: &str) -> Option<String> {
    let (client, id) = handle.split_once('.')?;
    let fine = |s: &str| !s.is_empty() && s.bytes().all(super::params::is_b64url);
    (fine(client) && fine(id)).then(|| format!("{client}/{kind}/{id}"))
}

/// The store key of an authorization code issued to `client_id`: the client, then the code's
/// hash (a code presented by another client is simply not found).
pub(super) fn code_key(client_id: &str, code: &str) -> String {
    format!("{}/{}", client_tag(client_id), hashed(code))
}

pub(super) use super::params::hashed;

/// A store failure as an OAuth answer: 503 with the reason, logged.
pub(super) fn unavailable(e: &StoreError) -> HttpResponse {
    tracing::error!(target: "mcp_runtime::auth", "the authorization server's store failed: {}", Report(e));
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        &format!(
            "the authorization server's store failed ({}); try again shortly",
            e.message()
        ),
    )
}

impl AuthServer {
    /// A record from the store.
    pub(super) async fn load<T: DeserializeOwned>(
        &self,
        space: Space,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        decode(space, self.store.get(space, &self.ns_key(key)).await?)
    }

    /// Takes a record from the store (single use).
    pub(super) async fn take<T: DeserializeOwned>(
        &self,
        space: Space,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        decode(space, self.store.take(space, &self.ns_key(key)).await?)
    }

    /// Saves a record.
    pub(super) async fn save<T: Serialize>(
        &self,
        space: Space,
        key: &str,
        record: &T,
        ttl: Option<Duration>,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(record).map_err(|e| {
            StoreError::with_source(format!("a {} record does not serialize", space.name()), e)
        })?;
        self.store.put(space, &self.ns_key(key), bytes, ttl).await
    }

    /// Saves a record only if none is there (atomically, across replicas): true when saved.
    pub(super) async fn save_new<T: Serialize>(
        &self,
        space: Space,
        key: &str,
        record: &T,
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        let bytes = serde_json::to_vec(record).map_err(|e| {
            StoreError::with_source(format!("a {} record does not serialize", space.name()), e)
        })?;
        self.store
            .put_new(space, &self.ns_key(key), bytes, ttl)
            .await
    }

    /// Revokes a grant: its refresh tokens stop working, its access tokens are refused (here
    /// at once, on other replicas within `REVOCATIONS_EVERY`), and the upstream tokens the
    /// proxy kept for it are deleted.
    pub(super) async fn revoke(&self, spent: &Spent) -> Result<(), StoreError> {
        self.save(
            Space::RevokedFamilies,
            &spent.family,
            &true,
            Some(super::REFRESH_TTL),
        )
        .await?;
        self.revocations.insert(&spent.family);
        if let Some(grant) = &spent.grant {
            self.store
                .delete(Space::UpstreamTokens, &self.ns_key(grant))
                .await?;
        }
        Ok(())
    }

    /// Forgets rate-limit state of addresses that have been quiet.
    pub(super) fn forget_idle_clients(&self) {
        self.limiter.forget_idle();
    }

    /// Reads the grants revoked by any replica sharing the store.
    pub(super) fn read_revocations(&self) -> Result<(), StoreError> {
        if self.namespace_unset() {
            return Ok(());
        }
        let prefix = self.ns_key("");
        let found = crate::store::block_on(self.store.list(Space::RevokedFamilies, &prefix))?;
        self.revocations.merge(
            found
                .into_iter()
                .filter_map(|(k, _)| k.strip_prefix(&prefix).map(str::to_owned))
                .collect(),
        );
        Ok(())
    }

    /// Saves a record in a bounded space: past `max` records of this server there, the ones
    /// that expire soonest are evicted, so a flood pushes out old entries instead of locking
    /// newcomers out.
    pub(super) async fn save_bounded<T: Serialize>(
        &self,
        space: Space,
        key: &str,
        record: &T,
        ttl: Option<Duration>,
        max: usize,
    ) -> Result<(), StoreError> {
        self.save(space, key, record, ttl).await?;
        let evicted = self.store.evict(space, &self.ns_key(""), max).await?;
        if evicted > 0 {
            tracing::info!(
                target: "mcp_runtime::auth",
                "{} full ({max}): evicted the {evicted} that expire soonest",
                space.name()
            );
        }
        Ok(())
    }

    /// Saves a record of one client's (its key begins `<client tag>/`): past `per_client` of
    /// that client's, or `total` of this server's, the ones that expire soonest are evicted.
    pub(super) async fn save_per_client<T: Serialize>(
        &self,
        space: Space,
        key: &str,
        record: &T,
        ttl: Option<Duration>,
        (per_client, total): (usize, usize),
    ) -> Result<(), StoreError> {
        let client = key.split_once('/').map_or(key, |(c, _)| c);
        self.save(space, key, record, ttl).await?;
        let own = self
            .store
            .evict(space, &self.ns_key(&format!("{client}/")), per_client)
            .await?;
        if own > 0 {
            tracing::info!(
                target: "mcp_runtime::auth",
                "client {client}: more than {per_client} {}: evicted its {own} oldest",
                space.name()
            );
        }
        let all = self.store.evict(space, &self.ns_key(""), total).await?;
        if all > 0 {
            tracing::info!(
                target: "mcp_runtime::auth",
                "{} full ({total}): evicted the {all} that expire soonest",
                space.name()
            );
        }
        Ok(())
    }

    /// A registered client, and whether it has completed a sign-in (until then it is kept
    /// under `new/`, apart, so that only unused registrations are evicted for newcomers).
    /// The client `id` names: registered here, or (an https URL, where accepted) described
    /// by its Client ID Metadata Document. `Err(Ok(message))` says what is wrong with the
    /// document; `Err(Err(e))` is the store failing.
    pub(super) async fn find_client(
        &self,
        id: &str,
    ) -> Result<Option<Client>, Result<String, StoreError>> {
        if let Some(docs) = &self.documents
            && super::cimd::Documents::names_document(id)
        {
            return docs
                .client(id)
                .await
                .map(|d| {
                    Some(Client {
                        name: Some(d.name),
                        secret_hash: None,
                        redirect_uris: d.redirect_uris,
                        refresh: d.refresh,
                    })
                })
                .map_err(Ok);
        }
        match self.load_client(id).await {
            Ok(found) => Ok(found.map(|(c, _)| c)),
            Err(e) => Err(Err(e)),
        }
    }

    pub(super) async fn load_client(&self, id: &str) -> Result<Option<(Client, bool)>, StoreError> {
        if let Some(c) = self.load::<Client>(Space::Clients, id).await? {
            return Ok(Some((c, true)));
        }
        Ok(self
            .load::<Client>(Space::Clients, &format!("new/{id}"))
            .await?
            .map(|c| (c, false)))
    }

    /// A client got tokens: it lives as long as its refresh tokens from now on.
    pub(super) async fn client_in_use(
        &self,
        id: &str,
        client: &Client,
        was_used: bool,
    ) -> Result<(), StoreError> {
        self.save_bounded(
            Space::Clients,
            id,
            client,
            Some(super::REFRESH_TTL),
            super::MAX_CLIENTS,
        )
        .await?;
        if !was_used {
            self.store
                .delete(Space::Clients, &self.ns_key(&format!("new/{id}")))
                .await?;
        }
        Ok(())
    }

    /// Records a new grant of `sub`; past [`MAX_GRANTS_PER_SUBJECT`](super::MAX_GRANTS_PER_SUBJECT)
    /// live ones, the oldest is revoked (one account signing in endlessly bounds itself, not
    /// everyone).
    pub(super) async fn track_grant(&self, sub: &str, spent: Spent) -> Result<(), StoreError> {
        let key = hashed(sub);
        let now = crate::store::expiry_ms(Some(std::time::Duration::ZERO));
        let mut grants: Vec<GrantEntry> = self.load(Space::Grants, &key).await?.unwrap_or_default();
        grants.retain(|g| g.expires_ms > now);
        grants.push(GrantEntry {
            spent,
            expires_ms: crate::store::expiry_ms(Some(super::REFRESH_TTL)),
        });
        let excess = grants.len().saturating_sub(super::MAX_GRANTS_PER_SUBJECT);
        for old in grants.drain(..excess) {
            self.revoke(&old.spent).await?;
        }
        self.save(Space::Grants, &key, &grants, Some(super::REFRESH_TTL))
            .await
    }
}

fn decode<T: DeserializeOwned>(
    space: Space,
    raw: Option<Vec<u8>>,
) -> Result<Option<T>, StoreError> {
    raw.map(|bytes| {
        serde_json::from_slice(&bytes).map_err(|e| {
            StoreError::with_source(
                format!(
                    "a stored {} record is unreadable; it was written by another version",
                    space.name()
                ),
                e,
            )
        })
    })
    .transpose()
}
