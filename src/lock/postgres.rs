//! The shared lock, for runs on many machines: PostgreSQL session-level advisory locks keyed by
//! the provider target, on one connection held for the run, so that the server releases them
//! when the run ends or its connection dies (a killed runner's lock goes with it). A small
//! table, `orgform_locks`, holds each holder's [`LockInfo`] so that others can see who it is.

use rustls_platform_verifier::ConfigVerifierExt;
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::{Attempt, Backend, LockError, LockInfo, Try};

pub struct PostgresLocks {
    client: std::sync::Arc<Client>,
    /// Where the server is, without credentials (for messages).
    shown: String,
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS orgform_locks (
    target      TEXT PRIMARY KEY,
    lock_key    BIGINT NOT NULL,
    backend_pid INTEGER NOT NULL,
    info        TEXT NOT NULL,
    taken_at    TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// The advisory lock key of a target: the first 8 bytes of its SHA-256.
fn lock_key(target: &str) -> i64 {
    let digest = Sha256::digest(target.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

impl PostgresLocks {
    /// Connects to `url` (a `postgres://` URL or key=value connection string) and makes sure the
    /// information table exists.
    pub async fn connect(url: &str) -> Result<Self, LockError> {
        let shown = crate::redact::redact(url);
        let fail = |what: &str, e: tokio_postgres::Error| {
            server_error(&shown, format!("{what}: {}", postgres_message(&e)))
        };
        // TLS as the URL's `sslmode` asks (`prefer` by default, `require` to insist), with the
        // server's certificate verified by the platform's roots, as for the vendors' APIs.
        let tls_config = rustls::ClientConfig::with_platform_verifier()
            .map_err(|e| server_error(&shown, format!("cannot set up TLS: {e}")))?;
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config);
        let (client, connection) = tokio_postgres::connect(url, tls)
            .await
            .map_err(|e| fail("cannot connect", e))?;
        tokio::spawn(async move {
            // Ends when the client is dropped (or the server goes away): the locks go with it.
            let _ = connection.await;
        });
        // Two first runs at once may both create the table: one wins, the other's error is
        // harmless, so it is tried once more.
        if client.batch_execute(SCHEMA).await.is_err() {
            client
                .batch_execute(SCHEMA)
                .await
                .map_err(|e| fail("cannot create the table orgform_locks", e))?;
        }
        Ok(PostgresLocks {
            client: std::sync::Arc::new(client),
            shown,
        })
    }

    async fn try_lock_now(&self, target: &str, info: &LockInfo) -> Result<Try, LockError> {
        let fail = |e: tokio_postgres::Error| LockError::Backend {
            target: target.to_owned(),
            message: format!("Postgres at {}: {}", self.shown, postgres_message(&e)),
        };
        let key = lock_key(target);
        let taken: bool = self
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(fail)?
            .get(0);
        if taken {
            let info_text = serde_json::to_string(info).unwrap_or_default();
            self.client
                .execute(
                    "INSERT INTO orgform_locks (target, lock_key, backend_pid, info, taken_at)
                     VALUES ($1, $2, pg_backend_pid(), $3, now())
                     ON CONFLICT (target) DO UPDATE SET lock_key = $2, backend_pid = pg_backend_pid(), info = $3, taken_at = now()",
                    &[&target, &key, &info_text],
                )
                .await
                .map_err(fail)?;
            // The lock lives as long as the connection: the guard keeps the client.
            return Ok(Try::Held(Box::new(self.client.clone())));
        }
        Ok(Try::Taken(self.holder(target, key).await.map_err(fail)?))
    }

    /// Who holds `target`: its recorded information, if the session that wrote it is the one
    /// holding the advisory lock now (a stale row of an earlier run is not shown as the holder).
    async fn holder(
        &self,
        target: &str,
        key: i64,
    ) -> Result<Option<Box<LockInfo>>, tokio_postgres::Error> {
        let row = self
            .client
            .query_opt(
                "SELECT r.info FROM orgform_locks r
                 JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.pid = r.backend_pid
                   AND l.classid = (($2::bigint >> 32) & 4294967295)::oid
                   AND l.objid = ($2::bigint & 4294967295)::oid AND l.objsubid = 1
                 WHERE r.target = $1",
                &[&target, &key],
            )
            .await?;
        Ok(row
            .and_then(|row| serde_json::from_str::<LockInfo>(&row.get::<_, String>(0)).ok())
            .map(Box::new))
    }

    /// `orgform force-unlock ID`: ends the Postgres session holding the locks of run `id`
    /// (which releases them) and removes its information. Returns the targets it held.
    pub async fn force_unlock(&self, id: &str) -> Result<Vec<String>, LockError> {
        let fail = |e: tokio_postgres::Error| server_error(&self.shown, postgres_message(&e));
        let rows = self
            .client
            .query("SELECT target, backend_pid, info FROM orgform_locks", &[])
            .await
            .map_err(fail)?;
        let mut released = Vec::new();
        for row in rows {
            let info: Option<LockInfo> = serde_json::from_str(&row.get::<_, String>(2)).ok();
            if info.is_none_or(|i| i.id != id) {
                continue;
            }
            let target: String = row.get(0);
            let pid: i32 = row.get(1);
            self.client
                .execute(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l
                     WHERE l.locktype = 'advisory' AND l.pid = $1",
                    &[&pid],
                )
                .await
                .map_err(fail)?;
            self.client
                .execute("DELETE FROM orgform_locks WHERE target = $1", &[&target])
                .await
                .map_err(fail)?;
            released.push(target);
        }
        Ok(released)
    }
}

impl Backend for PostgresLocks {
    fn try_lock<'a>(&'a self, target: &'a str, info: &'a LockInfo) -> Attempt<'a> {
        Box::pin(self.try_lock_now(target, info))
    }
}

/// A failure of the server itself (not of one target's lock), named by its redacted URL.
fn server_error(shown: &str, message: String) -> LockError {
    LockError::Backend {
        target: format!("with the Postgres server at {shown}"),
        message,
    }
}

/// The server's own message when it sent one (tokio-postgres's `Display` says only "db error").
fn postgres_message(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.message().to_owned();
    }
    // The cause says what went wrong (refused, TLS not offered, certificate not trusted).
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}
