//! [`RedbStore`]: the state in one file, with redb (an embedded, ACID, pure-Rust database).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redb::{Database, ReadableDatabase as _, ReadableTableMetadata as _, TableDefinition};

use super::{Space, Store, StoreError, StoreFuture, expired, expiry_ms, to_evict};
use crate::model::BoxError;

/// A store in a redb file: every write is committed durably before it answers, so registered
/// clients, refresh tokens and the signing key survive a restart. One process at a time may
/// open a file.
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Database>,
    path: PathBuf,
    writes: Arc<AtomicU64>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .finish()
    }
}

fn table(space: Space) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(space.name())
}

fn err(path: &Path, e: impl Into<BoxError>) -> StoreError {
    StoreError::with_source(path.display().to_string(), e)
}

/// A stored value: 8 bytes of expiry (ms since the epoch, 0 for never), then the value.
fn encode(value: &[u8], expires: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + value.len());
    out.extend_from_slice(&expires.to_be_bytes());
    out.extend_from_slice(value);
    out
}

fn decode(raw: &[u8]) -> Option<Vec<u8>> {
    let (head, value) = raw.split_at_checked(8)?;
    let expires = u64::from_be_bytes(head.try_into().ok()?);
    (!expired(expires)).then(|| value.to_vec())
}

impl RedbStore {
    /// Opens (or creates) the store in `path`, creating its folder (mode 0700 on Unix).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(|e| err(&path, e))?;
        }
        // Created readable by its owner only, in one step (no window in which the file
        // exists with the umask's mode); a file an older version left wider is narrowed.
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|e| err(&path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = file
                .metadata()
                .map_err(|e| err(&path, e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| err(&path, e))?;
            }
        }
        let backend = redb::backends::FileBackend::new(file).map_err(|e| err(&path, e))?;
        let db = redb::Builder::new()
            .create_with_backend(backend)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::new(format!(
                    "{}: another process has this store open; give each server its own file \
                     with MCP_STORE_URL (or `memory:`)",
                    path.display()
                )),
                other => err(&path, other),
            })?;
        // Every table exists from the start, so reads never meet a missing one.
        let tx = db.begin_write().map_err(|e| err(&path, e))?;
        for space in Space::ALL {
            tx.open_table(table(space)).map_err(|e| err(&path, e))?;
        }
        tx.commit().map_err(|e| err(&path, e))?;
        Ok(RedbStore {
            db: Arc::new(db),
            path,
            writes: Arc::default(),
        })
    }

    /// Runs blocking database work off the async threads.
    fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database, &Path) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let this = self.clone();
        if tokio::runtime::Handle::try_current().is_err() {
            // No async runtime (start-up): the work runs here and now.
            let result = f(&this.db, &this.path);
            return Box::pin(async move { result });
        }
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(&this.db, &this.path))
                .await
                .map_err(|e| StoreError::with_source("the store's worker failed", e))?
        })
    }

    /// Removes expired values from `space` (done now and then on writes).
    fn purge(tx: &redb::WriteTransaction, space: Space, path: &Path) -> Result<(), StoreError> {
        let mut t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
        t.retain(|_, raw| decode(raw).is_some())
            .map_err(|e| err(path, e))?;
        Ok(())
    }
}

impl Store for RedbStore {
    fn put<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, ()> {
        let key = key.to_owned();
        let raw = encode(&value, expiry_ms(ttl));
        // One write in 64 also sweeps the space's expired values.
        let sweep = self.writes.fetch_add(1, Ordering::Relaxed) % 64 == 63;
        self.blocking(move |db, path| {
            let tx = db.begin_write().map_err(|e| err(path, e))?;
            {
                if sweep {
                    Self::purge(&tx, space, path)?;
                }
                let mut t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
                t.insert(key.as_str(), raw.as_slice())
                    .map_err(|e| err(path, e))?;
            }
            tx.commit().map_err(|e| err(path, e))
        })
    }

    fn put_new<'a>(
        &'a self,
        space: Space,
        key: &'a str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> StoreFuture<'a, bool> {
        let key = key.to_owned();
        let raw = encode(&value, expiry_ms(ttl));
        // One writer at a time: the check and the insert are one step.
        self.blocking(move |db, path| {
            use redb::ReadableTable as _;
            let tx = db.begin_write().map_err(|e| err(path, e))?;
            let stored = {
                let mut t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
                let live = t
                    .get(key.as_str())
                    .map_err(|e| err(path, e))?
                    .is_some_and(|v| decode(v.value()).is_some());
                if !live {
                    t.insert(key.as_str(), raw.as_slice())
                        .map_err(|e| err(path, e))?;
                }
                !live
            };
            tx.commit().map_err(|e| err(path, e))?;
            Ok(stored)
        })
    }

    fn get<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let key = key.to_owned();
        self.blocking(move |db, path| {
            let tx = db.begin_read().map_err(|e| err(path, e))?;
            let t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
            let v = t.get(key.as_str()).map_err(|e| err(path, e))?;
            Ok(v.and_then(|raw| decode(raw.value())))
        })
    }

    fn take<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let key = key.to_owned();
        // redb has one writer at a time: a remove inside a write transaction is atomic.
        self.blocking(move |db, path| {
            let tx = db.begin_write().map_err(|e| err(path, e))?;
            let v = {
                let mut t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
                let removed = t.remove(key.as_str()).map_err(|e| err(path, e))?;
                removed.and_then(|raw| decode(raw.value()))
            };
            tx.commit().map_err(|e| err(path, e))?;
            Ok(v)
        })
    }

    fn delete<'a>(&'a self, space: Space, key: &'a str) -> StoreFuture<'a, ()> {
        let key = key.to_owned();
        self.blocking(move |db, path| {
            let tx = db.begin_write().map_err(|e| err(path, e))?;
            {
                let mut t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
                t.remove(key.as_str()).map_err(|e| err(path, e))?;
            }
            tx.commit().map_err(|e| err(path, e))
        })
    }

    fn count(&self, space: Space) -> StoreFuture<'_, usize> {
        self.blocking(move |db, path| {
            let tx = db.begin_read().map_err(|e| err(path, e))?;
            let t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
            let n = t.len().map_err(|e| err(path, e))?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    fn list<'a>(
        &'a self,
        space: Space,
        prefix: &'a str,
    ) -> StoreFuture<'a, Vec<(String, Vec<u8>)>> {
        let prefix = prefix.to_owned();
        self.blocking(move |db, path| {
            let tx = db.begin_read().map_err(|e| err(path, e))?;
            let t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
            let mut out = Vec::new();
            for entry in t.range(prefix.as_str()..).map_err(|e| err(path, e))? {
                let (k, v) = entry.map_err(|e| err(path, e))?;
                if !k.value().starts_with(prefix.as_str()) {
                    break;
                }
                if let Some(value) = decode(v.value()) {
                    out.push((k.value().to_owned(), value));
                }
            }
            Ok(out)
        })
    }

    fn evict<'a>(&'a self, space: Space, prefix: &'a str, keep: usize) -> StoreFuture<'a, usize> {
        let prefix = prefix.to_owned();
        self.blocking(move |db, path| {
            use redb::ReadableTable as _;
            let tx = db.begin_write().map_err(|e| err(path, e))?;
            let removed = {
                let mut t = tx.open_table(table(space)).map_err(|e| err(path, e))?;
                // Nothing to look at while the whole space is within the bound.
                if t.len().map_err(|e| err(path, e))? <= keep as u64 {
                    return Ok(0);
                }
                let mut live = Vec::new();
                let mut dead = Vec::new();
                for entry in t.range(prefix.as_str()..).map_err(|e| err(path, e))? {
                    let (k, v) = entry.map_err(|e| err(path, e))?;
                    if !k.value().starts_with(prefix.as_str()) {
                        break;
                    }
                    let raw = v.value();
                    let expires = raw
                        .get(..8)
                        .and_then(|h| h.try_into().ok())
                        .map_or(1, u64::from_be_bytes);
                    if expired(expires) {
                        dead.push(k.value().to_owned());
                    } else {
                        live.push((k.value().to_owned(), expires));
                    }
                }
                let gone = to_evict(live, keep);
                for k in dead.iter().chain(&gone) {
                    t.remove(k.as_str()).map_err(|e| err(path, e))?;
                }
                gone.len()
            };
            tx.commit().map_err(|e| err(path, e))?;
            Ok(removed)
        })
    }

    fn describe(&self) -> String {
        format!("redb file {}", self.path.display())
    }
}
