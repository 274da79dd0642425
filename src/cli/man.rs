//! `orgform man [--out DIR]`: the manual pages, generated from the same clap definition that
//! parses the command line, so `--help` and the man pages cannot disagree. Without `--out` the
//! main page goes to standard output; with it, one page per command (`orgform-plan.1`, …) is
//! written as well, as the release archives ship them.

use std::path::Path;

use crate::output;

use super::{Cli, exit};

pub fn run(out: Option<&Path>) -> u8 {
    let command = <Cli as clap::CommandFactory>::command();
    let Some(out) = out else {
        let mut page = Vec::new();
        // As `generate_to` renders it: the `help` pseudo-command has no page to point to.
        let command = command.disable_help_subcommand(true);
        if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
            output::fail(&format!("cannot render the manual page: {e}"));
            return exit::ERROR;
        }
        output::write_stdout(&page, "the manual page");
        return exit::SUCCESS;
    };
    let written =
        std::fs::create_dir_all(out).and_then(|()| clap_mangen::generate_to(command, out));
    match written {
        Ok(()) => {
            output::say(&format!("wrote the manual pages to {}", out.display()));
            exit::SUCCESS
        }
        Err(e) => {
            output::fail(&format!(
                "cannot write the manual pages to {}: {e}",
                out.display()
            ));
            exit::ERROR
        }
    }
}
