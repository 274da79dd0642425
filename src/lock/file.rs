//! The local lock: one file per provider target under the workspace's `.orgform/locks/`, held
//! with the operating system's file lock (`flock` on Unix), so that two processes on one
//! machine serialise and a crashed process's lock goes with it. The file holds the holder's
//! [`LockInfo`] as JSON for whoever finds it taken.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::{Attempt, Backend, LockError, LockInfo, Try};

/// Where a workspace keeps its lock files.
pub const LOCK_DIR: &str = ".orgform/locks";

pub struct FileLocks {
    /// The workspace root.
    root: PathBuf,
    /// `root/.orgform/locks`.
    dir: PathBuf,
}

impl FileLocks {
    /// The locks of the workspace at `root`.
    pub fn new(root: PathBuf) -> Self {
        let dir = root.join(LOCK_DIR);
        FileLocks { root, dir }
    }

    /// The lock file of a target below the root: a digest, since targets are URLs.
    fn relative_path(target: &str) -> PathBuf {
        Path::new(LOCK_DIR).join(format!("{}.lock", super::target_file_stem(target)))
    }
}

/// An open, locked file: closing it releases the lock.
struct Locked(#[allow(dead_code)] File);

impl Backend for FileLocks {
    fn try_lock<'a>(&'a self, target: &'a str, info: &'a LockInfo) -> Attempt<'a> {
        Box::pin(std::future::ready(self.try_lock_now(target, info)))
    }
}

impl FileLocks {
    fn try_lock_now(&self, target: &str, info: &LockInfo) -> Result<Try, LockError> {
        let fail = |e: std::io::Error| LockError::Backend {
            target: target.to_owned(),
            message: format!("{}: {e}", self.dir.display()),
        };
        // The directory and the file are orgform's own: a link at either is refused, so that
        // taking a lock never truncates another file.
        let backend = |e: crate::files::WriteError| LockError::Backend {
            target: target.to_owned(),
            message: e.to_string(),
        };
        let path =
            crate::files::under(&self.root, &Self::relative_path(target)).map_err(backend)?;
        let mut file = crate::files::open_lock_file(&path).map_err(backend)?;
        match file.try_lock() {
            Ok(()) => {
                let record = serde_json::json!({ "target": target, "holder": info });
                file.set_len(0).map_err(fail)?;
                file.rewind().map_err(fail)?;
                file.write_all(record.to_string().as_bytes())
                    .map_err(fail)?;
                file.flush().map_err(fail)?;
                Ok(Try::Held(Box::new(Locked(file))))
            }
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|record| serde_json::from_value(record["holder"].clone()).ok())
                    .map(Box::new);
                Ok(Try::Taken(holder))
            }
            Err(TryLockError::Error(e)) => Err(fail(e)),
        }
    }
}

/// What `force-unlock` found of a run's file locks.
#[derive(Debug, PartialEq)]
pub enum Found {
    /// No lock file names that run.
    None,
    /// Its process still holds them: a file lock cannot be taken from a live process.
    Alive(Box<LockInfo>),
    /// Its process is gone, and so are its locks; the stale information was removed.
    Released(Vec<String>),
}

impl FileLocks {
    /// `orgform force-unlock ID` for the local locks.
    pub fn force_unlock(&self, id: &str) -> Result<Found, LockError> {
        let fail = |e: std::io::Error| LockError::Backend {
            target: self.dir.display().to_string(),
            message: e.to_string(),
        };
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::None),
            Err(e) => return Err(fail(e)),
        };
        let mut released = Vec::new();
        for entry in entries {
            let path = entry.map_err(fail)?.path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let Ok(holder) = serde_json::from_value::<LockInfo>(record["holder"].clone()) else {
                continue;
            };
            if holder.id != id {
                continue;
            }
            // Never through a link: only orgform's own lock files are emptied.
            let Ok(file) = crate::files::open_lock_file(&path) else {
                continue;
            };
            match file.try_lock() {
                Ok(()) => {
                    file.set_len(0).map_err(fail)?;
                    released.push(record["target"].as_str().unwrap_or_default().to_owned());
                }
                Err(TryLockError::WouldBlock) => return Ok(Found::Alive(Box::new(holder))),
                Err(TryLockError::Error(e)) => return Err(fail(e)),
            }
        }
        Ok(if released.is_empty() {
            Found::None
        } else {
            Found::Released(released)
        })
    }
}
