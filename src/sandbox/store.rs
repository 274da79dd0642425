//! The sandbox's SQLite store: every vendor object is a JSON document in one table.
//!
//! Objects are addressed by (vendor, kind, id), may belong to a parent (an organization), and
//! may carry one secondary lookup key (a Scalekit external id, a domain name, a user's e-mail).
//! The `seq` column is the insertion order that every list paginates over, so pages are stable
//! while objects are added or removed.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

/// Bumped whenever the table layout changes; `open` migrates older files.
pub const SCHEMA_VERSION: i32 = 2;

/// The lookup keys an emulated vendor keeps unique: a Scalekit external id, domain and user
/// e-mail. SQLite enforces them (`unique_key`), so that two sandbox processes sharing one
/// database file cannot make a duplicate between one's check and its insert either.
const UNIQUE_KEYS: &[(&str, &str)] = &[
    ("scalekit", "organization"),
    ("scalekit", "domain"),
    ("scalekit", "user"),
    ("workos", "organization"),
    ("workos", "domain"),
    ("workos", "user"),
    ("workos", "membership"),
];

fn unique_key<'k>(vendor: &str, kind: &str, key: Option<&'k str>) -> Option<&'k str> {
    UNIQUE_KEYS
        .contains(&(vendor, kind))
        .then_some(key)
        .flatten()
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sandbox database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "sandbox database {path} has schema version {found}, newer than this orgform ({SCHEMA_VERSION})"
    )]
    TooNew { path: String, found: i32 },
    #[error("sandbox database holds invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Another object already has this unique key (see [`UNIQUE_KEYS`]).
    #[error("{vendor} {kind} `{key}` already exists")]
    Duplicate {
        vendor: String,
        kind: String,
        key: String,
    },
}

pub struct Store {
    conn: Mutex<Connection>,
}

/// One stored object.
#[derive(Debug, Clone)]
pub struct Object {
    pub seq: i64,
    pub id: String,
    pub parent: String,
    pub body: Value,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, or an in-memory one. Another process
    /// opening or migrating the same file at that moment can make SQLite answer "database is
    /// locked" even with a busy timeout (changing the journal mode takes the file exclusively):
    /// that is retried for up to 30 s, never shown.
    pub fn open(path: Option<&Path>) -> Result<Self, StoreError> {
        let started = std::time::Instant::now();
        loop {
            match Self::open_once(path) {
                Err(StoreError::Sqlite(e))
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && started.elapsed() < std::time::Duration::from_secs(30) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20 + fastrand::u64(..30)));
                }
                opened => return opened,
            }
        }
    }

    fn open_once(path: Option<&Path>) -> Result<Self, StoreError> {
        let conn = match path {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    let _ = std::fs::create_dir_all(dir);
                }
                let conn = Connection::open(path)?;
                // Another process may be opening the same file: wait for it, never fail busy.
                conn.busy_timeout(std::time::Duration::from_secs(30))?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // The version check and migration are one write transaction: two processes opening
        // one new file migrate it once.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let migrated = Self::migrate(&conn, path);
        match &migrated {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(_) => {
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
        migrated?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn migrate(conn: &Connection, path: Option<&Path>) -> Result<(), StoreError> {
        let version: i32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.map(|p| p.display().to_string()).unwrap_or_default(),
                found: version,
            });
        }
        if version < 1 {
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS objects (
                    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
                    vendor TEXT NOT NULL,
                    kind   TEXT NOT NULL,
                    id     TEXT NOT NULL,
                    parent TEXT NOT NULL DEFAULT '',
                    key    TEXT,
                    body   TEXT NOT NULL,
                    UNIQUE (vendor, kind, id)
                );
                CREATE INDEX IF NOT EXISTS objects_by_parent ON objects (vendor, kind, parent, seq);
                CREATE INDEX IF NOT EXISTS objects_by_key ON objects (vendor, kind, key);
                CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                PRAGMA user_version = 1;",
            )?;
        }
        if version < 2 {
            conn.execute_batch(
                "ALTER TABLE objects ADD COLUMN unique_key TEXT;
                 UPDATE objects SET unique_key = key
                   WHERE (vendor, kind) IN (VALUES ('scalekit', 'organization'), ('scalekit', 'domain'), ('scalekit', 'user'));
                 CREATE UNIQUE INDEX IF NOT EXISTS objects_unique_key ON objects (vendor, kind, unique_key);
                 PRAGMA user_version = 2;",
            )?;
        }
        Ok(())
    }

    /// Exclusive access for one request. The guard is not `Send`, so it cannot be held across
    /// an `.await`: every request's reads and writes happen as one atomic step.
    pub fn lock(&self) -> Db<'_> {
        Db(self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// A unique-key violation as [`StoreError::Duplicate`]; other errors as they are.
fn duplicate(error: rusqlite::Error, vendor: &str, kind: &str, key: Option<&str>) -> StoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) if key.is_some() => StoreError::Duplicate {
            vendor: vendor.to_owned(),
            kind: kind.to_owned(),
            key: key.unwrap_or_default().to_owned(),
        },
        _ => StoreError::Sqlite(error),
    }
}

/// A page of a cursor-paginated list; cursors are insertion numbers (see [`Db::page`]).
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Object>,
    pub next: Option<i64>,
    pub previous: Option<i64>,
}

/// A locked connection with the operations the vendor emulators need.
pub struct Db<'a>(MutexGuard<'a, Connection>);

fn row_to_object(row: &rusqlite::Row) -> rusqlite::Result<(i64, String, String, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn to_object((seq, id, parent, body): (i64, String, String, String)) -> Result<Object, StoreError> {
    Ok(Object {
        seq,
        id,
        parent,
        body: serde_json::from_str(&body)?,
    })
}

impl Db<'_> {
    /// The next number of the named sequence (1, 2, ...), persisted across restarts.
    pub fn next_number(&self, name: &str) -> Result<u64, StoreError> {
        let value: i64 = self.0.query_row(
            "INSERT INTO counters (name, value) VALUES (?1, 1)
             ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            params![name],
            |row| row.get(0),
        )?;
        Ok(value as u64)
    }

    pub fn insert(
        &self,
        vendor: &str,
        kind: &str,
        id: &str,
        parent: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Result<i64, StoreError> {
        self.0
            .execute(
                "INSERT INTO objects (vendor, kind, id, parent, key, unique_key, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![vendor, kind, id, parent, key, unique_key(vendor, kind, key), body.to_string()],
            )
            .map_err(|e| duplicate(e, vendor, kind, key))?;
        Ok(self.0.last_insert_rowid())
    }

    pub fn get(&self, vendor: &str, kind: &str, id: &str) -> Result<Option<Object>, StoreError> {
        self.0
            .query_row(
                "SELECT seq, id, parent, body FROM objects WHERE vendor = ?1 AND kind = ?2 AND id = ?3",
                params![vendor, kind, id],
                row_to_object,
            )
            .optional()?
            .map(to_object)
            .transpose()
    }

    /// Objects of `kind` whose lookup key is `key`, optionally only under `parent`.
    pub fn find_by_key(
        &self,
        vendor: &str,
        kind: &str,
        parent: Option<&str>,
        key: &str,
    ) -> Result<Vec<Object>, StoreError> {
        let mut statement = self.0.prepare_cached(
            "SELECT seq, id, parent, body FROM objects
             WHERE vendor = ?1 AND kind = ?2 AND key = ?3 AND (?4 IS NULL OR parent = ?4) ORDER BY seq",
        )?;
        let rows = statement.query_map(params![vendor, kind, key, parent], row_to_object)?;
        rows.map(|row| to_object(row?)).collect()
    }

    /// The bodies of [`Db::find_by_key`] as stored (JSON text), for answers that pass them on
    /// unparsed: a user in 2,000 organizations has 2,000 memberships in every user list.
    pub fn bodies_by_key(
        &self,
        vendor: &str,
        kind: &str,
        key: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut statement = self.0.prepare_cached(
            "SELECT body FROM objects WHERE vendor = ?1 AND kind = ?2 AND key = ?3 ORDER BY seq",
        )?;
        let rows = statement.query_map(params![vendor, kind, key], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn update(
        &self,
        vendor: &str,
        kind: &str,
        id: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Result<(), StoreError> {
        self.0
            .execute(
                "UPDATE objects SET body = ?4, key = ?5, unique_key = ?6 WHERE vendor = ?1 AND kind = ?2 AND id = ?3",
                params![vendor, kind, id, body.to_string(), key, unique_key(vendor, kind, key)],
            )
            .map_err(|e| duplicate(e, vendor, kind, key))?;
        Ok(())
    }

    /// Moves an object to another kind (e.g. an organization the caller has left).
    pub fn set_kind(
        &self,
        vendor: &str,
        kind: &str,
        id: &str,
        new_kind: &str,
    ) -> Result<(), StoreError> {
        let unique = UNIQUE_KEYS.contains(&(vendor, new_kind));
        self.0.execute(
            "UPDATE objects SET kind = ?4, unique_key = CASE WHEN ?5 THEN key END WHERE vendor = ?1 AND kind = ?2 AND id = ?3",
            params![vendor, kind, id, new_kind, unique],
        )?;
        Ok(())
    }

    pub fn delete(&self, vendor: &str, kind: &str, id: &str) -> Result<bool, StoreError> {
        let n = self.0.execute(
            "DELETE FROM objects WHERE vendor = ?1 AND kind = ?2 AND id = ?3",
            params![vendor, kind, id],
        )?;
        Ok(n > 0)
    }

    /// Deletes every object of `vendor` under `parent`, of any kind.
    pub fn delete_children(&self, vendor: &str, parent: &str) -> Result<(), StoreError> {
        self.0.execute(
            "DELETE FROM objects WHERE vendor = ?1 AND parent = ?2",
            params![vendor, parent],
        )?;
        Ok(())
    }

    /// Up to `limit` objects of `kind` under `parent` with `seq` after `after`, in `seq` order.
    pub fn list(
        &self,
        vendor: &str,
        kind: &str,
        parent: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Object>, StoreError> {
        let mut statement = self.0.prepare_cached(
            "SELECT seq, id, parent, body FROM objects
             WHERE vendor = ?1 AND kind = ?2 AND parent = ?3 AND seq > ?4 ORDER BY seq LIMIT ?5",
        )?;
        let rows = statement.query_map(
            params![vendor, kind, parent, after, limit as i64],
            row_to_object,
        )?;
        rows.map(|row| to_object(row?)).collect()
    }

    /// One page of `kind` under `parent` after insertion number `after`, with the cursors of
    /// the next page (if there are more objects) and of the previous one (if this is not the first).
    pub fn page(
        &self,
        vendor: &str,
        kind: &str,
        parent: &str,
        after: i64,
        size: usize,
    ) -> Result<Page, StoreError> {
        let mut items = self.list(vendor, kind, parent, after, size + 1)?;
        let more = items.len() > size;
        items.truncate(size);
        let next = items.last().filter(|_| more).map(|last| last.seq);
        let previous = if after > 0 {
            let first = items.first().map_or(after + 1, |o| o.seq);
            Some(self.list_before(vendor, kind, parent, first, size)?)
        } else {
            None
        };
        Ok(Page {
            items,
            next,
            previous,
        })
    }

    /// The cursor (an insertion number) whose page ends just before the `limit` objects that
    /// precede `seq`: what a "previous page" link points at. 0 means the start of the list.
    pub fn list_before(
        &self,
        vendor: &str,
        kind: &str,
        parent: &str,
        seq: i64,
        limit: usize,
    ) -> Result<i64, StoreError> {
        let before: Option<i64> = self
            .0
            .query_row(
                "SELECT seq FROM objects WHERE vendor = ?1 AND kind = ?2 AND parent = ?3 AND seq < ?4
                 ORDER BY seq DESC LIMIT 1 OFFSET ?5",
                params![vendor, kind, parent, seq, limit as i64],
                |row| row.get(0),
            )
            .optional()?;
        Ok(before.unwrap_or(0))
    }

    /// Objects of `kind` under `parent`, skipping `offset`, for page-number pagination.
    pub fn list_page(
        &self,
        vendor: &str,
        kind: &str,
        parent: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Object>, StoreError> {
        let mut statement = self.0.prepare_cached(
            "SELECT seq, id, parent, body FROM objects
             WHERE vendor = ?1 AND kind = ?2 AND parent = ?3 ORDER BY seq LIMIT ?4 OFFSET ?5",
        )?;
        let rows = statement.query_map(
            params![vendor, kind, parent, limit as i64, offset as i64],
            row_to_object,
        )?;
        rows.map(|row| to_object(row?)).collect()
    }

    pub fn count(&self, vendor: &str, kind: &str, parent: &str) -> Result<u64, StoreError> {
        let n: i64 = self.0.query_row(
            "SELECT COUNT(*) FROM objects WHERE vendor = ?1 AND kind = ?2 AND parent = ?3",
            params![vendor, kind, parent],
            |row| row.get(0),
        )?;
        Ok(n as u64)
    }

    /// Removes everything: objects and id counters.
    pub fn clear(&self) -> Result<(), StoreError> {
        self.0
            .execute_batch("DELETE FROM objects; DELETE FROM counters;")?;
        Ok(())
    }

    /// Runs `work` in one SQLite transaction (for seeding many objects quickly).
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // IMMEDIATE: the write lock from the start, so that another process's writer makes this
        // one wait (busy timeout) instead of failing when a read turns into a write.
        self.0.execute_batch("BEGIN IMMEDIATE")?;
        match work(self) {
            Ok(value) => {
                self.0.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.0.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_sharing_a_new_database_open_it_at_once_and_never_duplicate_a_unique_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.sqlite");
        // Eight openers at once (as eight processes would): each migrates or waits, none fails.
        let stores: Vec<Store> = std::thread::scope(|scope| {
            let openers: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| Store::open(Some(&path))))
                .collect();
            openers
                .into_iter()
                .map(|o| o.join().unwrap().expect("opens"))
                .collect()
        });
        let body = serde_json::json!({});
        // Every store inserts the same external id: exactly one succeeds.
        let inserted: Vec<Result<i64, StoreError>> = std::thread::scope(|scope| {
            let inserts: Vec<_> = stores
                .iter()
                .enumerate()
                .map(|(n, store)| {
                    let body = &body;
                    scope.spawn(move || {
                        store.lock().insert(
                            "scalekit",
                            "organization",
                            &format!("org_{n}"),
                            "",
                            Some("acme"),
                            body,
                        )
                    })
                })
                .collect();
            inserts.into_iter().map(|i| i.join().unwrap()).collect()
        });
        assert_eq!(inserted.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(
            inserted
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| matches!(e, StoreError::Duplicate { key, .. } if key == "acme")),
            "{inserted:?}"
        );
        // Keys that the vendor does not keep unique (Nirvana names) may repeat.
        let db = stores[0].lock();
        db.insert("nirvana", "organization", "n1", "", Some("same"), &body)
            .unwrap();
        db.insert("nirvana", "organization", "n2", "", Some("same"), &body)
            .unwrap();
        // An object moved to a kind without uniqueness frees its key.
        db.set_kind(
            "scalekit",
            "organization",
            &format!("org_{}", inserted.iter().position(|r| r.is_ok()).unwrap()),
            "left",
        )
        .unwrap();
        db.insert(
            "scalekit",
            "organization",
            "org_new",
            "",
            Some("acme"),
            &body,
        )
        .unwrap();
    }
}
