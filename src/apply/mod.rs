//! Apply: execute a plan against the vendors, in dependency order, safely.

mod executor;
mod steps;

pub use executor::{Outcome, StepResult, execute, execute_until};
