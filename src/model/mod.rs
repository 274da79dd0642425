//! The validated desired state: typed addresses, organizations and their children. The order of
//! work on them is the apply executor's, over the plan's steps.

mod address;
mod build;
mod desired;
mod live;
pub mod name;

pub use address::{AddressParseError, ResourceAddress, ResourceType};
pub use build::{load_desired_state, validate_texts};
pub use desired::*;
pub use live::*;
