//! What orgform is handed besides vendor listings, each checked at the edge where it enters:
//! ids it puts into request paths, saved plans, the files and symlinks where it writes, names
//! it compares, secrets in connection strings, and what reviewers read.

mod export;
mod ids;
mod names;
mod review;
mod saved_plans;
mod secrets;
mod stdout;

pub use crate::distrust::{orgform, writes};
