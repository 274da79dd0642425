//! `orgform apply` end to end against the sandbox: convergence, faults, crashes, refusals,
//! ordering.

pub mod support;

mod converge;
mod faults;
mod interrupt;
mod invitations;
mod json;
mod key_move;
mod locks;
mod nirvana_versions;
mod refusals;
mod saved;
mod shared_lock;
mod workos;
