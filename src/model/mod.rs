//! The validated desired state: typed addresses, organizations and their children, and the
//! dependency graph that orders work on them.

mod address;
mod build;
mod desired;
mod graph;
mod live;

pub use address::{AddressParseError, ResourceAddress, ResourceType};
pub use build::{
    FIELD_SUPPORT, MAX_METADATA, build_desired_state, load_desired_state, validate_texts,
};
pub use desired::*;
pub use graph::ResourceGraph;
pub use live::*;
