//! The sandbox over real HTTP: every route of each vendor, pagination, faults, persistence, and
//! responses checked against the vendors' OpenAPI schemas.

pub mod support;

mod control_plane;
mod faults;
mod nirvana;
mod persistence;
mod pingone;
mod scalekit;
mod scalekit_fields;
mod slow_clients;
mod workos;
