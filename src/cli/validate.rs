//! `orgform validate [DIR]`: load and check a workspace without touching the network.

use std::path::Path;

use crate::model::load_desired_state;
use crate::output;

use super::exit;

/// How `validate` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    Human,
    /// Diagnostics as JSON (file, line, column, code, message, label, help), for editors and CI.
    Json,
}

pub fn run(dir: &Path, format: ValidateFormat, env: &crate::manifest::Env) -> u8 {
    match (load_desired_state(dir, env), format) {
        (Ok((desired, _)), ValidateFormat::Human) => {
            output::say(&output::validate_summary(&desired.totals()));
            exit::SUCCESS
        }
        (Ok((desired, _)), ValidateFormat::Json) => {
            let summary = output::validate_summary(&desired.totals());
            output::say(
                &serde_json::json!({ "valid": true, "summary": summary, "diagnostics": [] })
                    .to_string(),
            );
            exit::SUCCESS
        }
        (Err((errors, _)), ValidateFormat::Human) => {
            output::print_diagnostics(&errors);
            exit::ERROR
        }
        (Err((errors, sources)), ValidateFormat::Json) => {
            output::say(output::diagnostics_json(&errors, &sources).trim_end());
            exit::ERROR
        }
    }
}
