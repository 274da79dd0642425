//! `orgform force-unlock ID [DIR]`: release the locks of a run that cannot release them itself.
//!
//! A crashed run's locks are already gone (the operating system ends its file locks, Postgres
//! its session); what stays is a hung run holding a shared lock from another machine. For the
//! shared lock, this ends that run's Postgres session; a local file lock cannot be taken from a
//! live process, so for one this says which process to stop.

use std::path::Path;

use crate::lock::file::{FileLocks, Found};
use crate::lock::postgres::PostgresLocks;
use crate::model::load_desired_state;
use crate::output;
use crate::session::Failure;

use super::exit;

pub fn run(id: &str, dir: &Path, env: &crate::manifest::Env) -> u8 {
    let desired = match load_desired_state(dir, env) {
        Ok((desired, _)) => desired,
        Err((errors, _)) => return output::failure(&Failure::Manifest(errors)),
    };
    let mut released = 0;
    match FileLocks::new(dir.to_path_buf()).force_unlock(id) {
        Ok(Found::None) => {}
        Ok(Found::Released(targets)) => {
            for target in targets {
                output::say(&format!(
                    "{target}: its run had ended; the lock was already free"
                ));
                released += 1;
            }
        }
        Ok(Found::Alive(holder)) => {
            output::fail(&format!(
                "lock {id} is held by a live process on this machine: {}; a file lock ends only with its process (stop it: kill {})",
                holder.describe(),
                holder.pid
            ));
            return exit::ERROR;
        }
        Err(e) => return output::failure(&Failure::Lock(Box::new(e))),
    }
    if let Some(url) = &desired.lock.postgres {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime,
            Err(e) => {
                output::fail(&format!("cannot start the async runtime: {e}"));
                return exit::ERROR;
            }
        };
        let unlocked = runtime.block_on(async {
            PostgresLocks::connect(url.expose())
                .await?
                .force_unlock(id)
                .await
        });
        match unlocked {
            Ok(targets) => {
                for target in targets {
                    output::say(&format!(
                        "{target}: released (the holder's Postgres session was ended)"
                    ));
                    released += 1;
                }
            }
            Err(e) => return output::failure(&Failure::Lock(Box::new(e))),
        }
    }
    if released == 0 {
        output::fail(&format!(
            "no lock with id {id} in {}{}",
            dir.display(),
            if desired.lock.postgres.is_some() {
                " or the shared Postgres lock"
            } else {
                ""
            }
        ));
        return exit::ERROR;
    }
    exit::SUCCESS
}
