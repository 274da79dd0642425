//! `orgform schemas [--out DIR]` (hidden): regenerate the committed JSON Schemas.

use std::path::Path;

use crate::output;

use super::exit;

pub fn run(out: &Path) -> u8 {
    match crate::schema::write_schemas(out) {
        Ok(()) => {
            output::say(&format!("wrote schemas to {}", out.display()));
            exit::SUCCESS
        }
        Err(e) => {
            output::fail(&format!("cannot write schemas to {}: {e}", out.display()));
            exit::ERROR
        }
    }
}
