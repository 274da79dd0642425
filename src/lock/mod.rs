//! One writer at a time: `apply` holds a lock per provider target (a vendor account, or one
//! sandbox database) from before it refreshes until its last write, so two runs at once cannot
//! both decide to create the same organization. `plan` takes none.
//!
//! The session takes the locks; apply never knows which backend holds them. Each backend only
//! says how to try one target once; waiting (`--lock-timeout`) and ordering live here.

pub mod file;
pub mod postgres;

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A file name for a provider target (targets are URLs): the first 8 bytes of its SHA-256, in
/// hex. The lock files and the remembered paces are named by it.
pub fn target_file_stem(target: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(target.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Who holds a lock: shown to whoever finds it taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    /// This run's id (`orgform force-unlock ID`).
    pub id: String,
    /// `user@host`.
    pub who: String,
    pub pid: u32,
    pub operation: String,
    pub workspace: String,
    pub version: String,
    /// RFC 3339, UTC.
    pub created: String,
}

impl LockInfo {
    /// The information of this process's run.
    pub fn for_this_run(operation: &str, workspace: &std::path::Path) -> Self {
        let user = ["USER", "USERNAME", "LOGNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "unknown".to_owned());
        LockInfo {
            id: format!("{:016x}", fastrand::u64(..)),
            who: format!("{user}@{}", host_name()),
            pid: std::process::id(),
            operation: operation.to_owned(),
            workspace: std::path::absolute(workspace)
                .unwrap_or_else(|_| workspace.to_owned())
                .display()
                .to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// `root@ci-7 (apply of /work/tenants, pid 4121, orgform 0.1.0) since 2026-12-02T06:40:01Z, lock id 3f2a…`
    pub fn describe(&self) -> String {
        format!(
            "{} ({} of {}, pid {}, orgform {}) since {}, lock id {}",
            self.who, self.operation, self.workspace, self.pid, self.version, self.created, self.id
        )
    }
}

fn host_name() -> String {
    #[cfg(unix)]
    {
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned()
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".to_owned())
    }
}

/// Why a lock could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{target} is locked by {}; nothing was changed. Wait for that run (`--lock-timeout 10m` waits up to ten minutes); a crashed run's lock is released with its process", holder.as_ref().map_or("another run that has not yet written who it is".to_owned(), |h| h.describe()))]
    Held {
        target: String,
        holder: Option<Box<LockInfo>>,
    },
    #[error("cannot lock {target}: {message}")]
    Backend { target: String, message: String },
}

/// One target tried once: either it is now held (dropping the guard releases it) or someone
/// else holds it.
pub enum Try {
    Held(Box<dyn Send + Sync>),
    Taken(Option<Box<LockInfo>>),
}

/// What a backend's attempt returns.
pub type Attempt<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Try, LockError>> + Send + 'a>>;

/// A lock backend: how to try one target once.
pub trait Backend: Send + Sync {
    fn try_lock<'a>(&'a self, target: &'a str, info: &'a LockInfo) -> Attempt<'a>;
}

/// Locks held until dropped.
pub struct Held {
    _guards: Vec<Box<dyn Send + Sync>>,
}

impl Held {
    /// These locks and `other`'s, held together.
    pub fn and(mut self, other: Held) -> Held {
        self._guards.extend(other._guards);
        self
    }
}

/// How often a waiting run tries again.
const POLL: Duration = Duration::from_millis(200);

/// Takes every target's lock, in a fixed order (so two runs wanting the same targets cannot
/// each hold one and wait for the other), waiting up to `timeout` for each one held elsewhere.
pub async fn acquire(
    backend: &dyn Backend,
    targets: &[String],
    info: &LockInfo,
    timeout: Duration,
) -> Result<Held, LockError> {
    let mut targets = targets.to_vec();
    targets.sort();
    targets.dedup();
    // Saturating: a timeout past the clock's range waits as long as the clock can count.
    let now = tokio::time::Instant::now();
    let until = now
        .checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(366 * 24 * 3600));
    let mut guards = Vec::new();
    for target in &targets {
        loop {
            match backend.try_lock(target, info).await? {
                Try::Held(guard) => {
                    guards.push(guard);
                    break;
                }
                Try::Taken(holder) => {
                    if tokio::time::Instant::now()
                        .checked_add(POLL)
                        .is_none_or(|next| next > until)
                    {
                        return Err(LockError::Held {
                            target: target.clone(),
                            holder,
                        });
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
    Ok(Held { _guards: guards })
}
