//! orgform: a declarative reconciler for SaaS organizations.
//!
//! ```text
//! workspace dir ──load──▶ manifests (spanned YAML) ──validate──▶ DesiredState (petgraph DAG)
//!                                                                    │
//! vendor API ──refresh (concurrent, paginated, minimal requests)──▶ LiveState
//!                                                                    │
//!                                plan = diff(DesiredState, LiveState)  (pure, sync, deterministic)
//!                                                                    │
//!                      render (human | json | markdown)  ◀───────────┤
//!                                                                    ▼
//!                               apply = execute Plan in DAG order ──▶ vendor API
//! ```
//!
//! Modules follow the pipeline: [`manifest`] reads files into spanned documents, [`model`] turns
//! them into the validated desired state, [`output`] is the only place that prints.

pub mod apply;
pub mod cli;
pub mod export;
pub mod files;
pub mod interrupt;
pub mod lock;
pub mod manifest;
pub mod model;
pub mod output;
pub mod plan;
pub mod provider;
pub mod redact;
pub mod render;
pub mod report;
pub mod sandbox;
pub mod schema;
pub mod session;
