//! `orgform validate [DIR]`: load and check a workspace without touching the network.

use std::path::Path;

use crate::model::load_desired_state;
use crate::output;

use super::exit;

pub fn run(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> u8 {
    match load_desired_state(dir, env) {
        Ok((desired, _)) => {
            output::say(&output::validate_summary(&desired.totals()));
            exit::SUCCESS
        }
        Err((errors, _)) => {
            output::print_diagnostics(&errors);
            exit::ERROR
        }
    }
}
