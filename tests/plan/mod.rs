//! `orgform plan` end to end against the sandbox: every action and reason per vendor, safety,
//! targeting, request counts, robustness, exit codes.

pub mod support;

mod exit_codes;
mod fleet;
mod hygiene;
mod nirvana;
mod pingone;
mod progress;
mod query_parameters;
mod reports;
mod requests;
mod robustness;
mod safety;
mod scalekit;
mod sharding;
mod templates;
mod throttling;
mod unmanaged;
