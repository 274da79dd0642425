//! `orgform show FILE`: render a saved plan as `plan` would have shown it.

use std::path::Path;

use crate::output::{self, Format};

use super::exit;

pub fn run(file: &Path, format: Format) -> u8 {
    match super::apply::read_saved(file) {
        Ok(plan) => {
            output::plan(&plan, format);
            exit::SUCCESS
        }
        Err(failure) => output::failure(&failure),
    }
}
