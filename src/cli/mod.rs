//! Command-line definitions. Each command lives in its own file and takes resolved settings,
//! not clap structs.

mod schemas;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Declarative reconciler for SaaS organizations (Nirvana Labs, Scalekit, PingOne).
#[derive(Debug, Parser)]
#[command(name = "orgform", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate a workspace offline (no network).
    Validate {
        /// The workspace directory (holds orgform.yaml).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Write the JSON Schemas of the manifest language.
    #[command(hide = true)]
    Schemas {
        #[arg(long, default_value = "schemas")]
        out: PathBuf,
    },
}

/// Exit codes of DESIGN.md §4.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const ERROR: u8 = 1;
}

/// Parses the arguments, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Validate { dir } => validate::run(&dir, &|name| std::env::var(name).ok()),
        Command::Schemas { out } => schemas::run(&out),
    };
    ExitCode::from(code)
}
