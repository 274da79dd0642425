//! Command-line definitions. Each command lives in its own file and takes resolved settings,
//! not clap structs.

mod apply;
mod export;
mod force_unlock;
mod man;
mod plan;
mod sandbox;
mod schemas;
mod show;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `0.1.0 (commit abc1234)`: the version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ORGFORM_COMMIT"),
    ")"
);

/// Declarative reconciler for SaaS organizations (Nirvana Labs, Scalekit, PingOne, WorkOS).
#[derive(Debug, Parser)]
#[command(name = "orgform", version = VERSION, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No colour in any output (as with the `NO_COLOR` environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// The flags of the commands that talk to vendors (plan, apply, export): how much they tell on
/// stderr and how long they may run. Only those commands take them, so that every command's
/// help lists only what it does.
#[derive(Debug, Clone, clap::Args)]
pub struct RunFlags {
    /// Log each request (method, route, status, duration, attempt) to stderr; `-vv` adds each
    /// request's detail (URL with its query, time queued, bytes sent and received, the
    /// vendor's request id). `ORGFORM_LOG` (e.g. `orgform=debug`) sets the filter directly.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only the plan, the outcome and errors: no progress, status or per-step lines.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// End the run after this long (e.g. `90s`, `20m`, `2h`): requests still unanswered then
    /// fail, and apply reports every step.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = duration)]
    pub timeout: std::time::Duration,
}

/// The longest duration a flag takes: past it, adding it to the clock could overflow.
const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// A duration flag (`90s`, `20m`, `2h`), at most a year: a longer one is a usage error rather
/// than an overflow of the clock.
fn duration(text: &str) -> Result<std::time::Duration, String> {
    let parsed = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if parsed > MAX_DURATION {
        return Err(format!(
            "{text} is longer than orgform waits (at most 365 days)"
        ));
    }
    Ok(parsed)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate a workspace offline (no network).
    Validate {
        /// The workspace directory (holds orgform.yaml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        format: validate::ValidateFormat,
    },
    /// Refresh live state and show what apply would change.
    Plan {
        /// The workspace directory (holds orgform.yaml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Plan only this organization (and its children) or resource; repeatable.
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
        #[arg(long, value_enum, default_value = "human")]
        format: crate::output::Format,
        /// Also write the plan as JSON to this file (for `apply --plan`).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 2 when there are changes, 3 when there is drift apply cannot fix.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Also write a drift report: `junit=FILE` (a test case per organization) or
        /// `metrics=FILE` (OpenMetrics text for node_exporter or a Pushgateway); repeatable.
        #[arg(long = "report", value_name = "KIND=FILE")]
        reports: Vec<crate::report::ReportSpec>,
        /// Requests in flight per provider (overrides orgform.yaml).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
        parallelism: Option<u32>,
        /// Plan only this provider target (by its name in orgform.yaml); repeatable. The
        /// others are not read and need no credentials: a CI matrix shards a fleet this way.
        #[arg(long = "provider", value_name = "NAME")]
        providers: Vec<String>,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Make the live state match the manifests (or execute a saved plan).
    Apply {
        /// The workspace directory (holds orgform.yaml; default `.`, or the saved plan's).
        dir: Option<PathBuf>,
        /// Do not ask for confirmation (required when not on a terminal).
        #[arg(long)]
        auto_approve: bool,
        /// Apply only this organization (and its children) or resource; repeatable.
        #[arg(long = "target", value_name = "ADDR", conflicts_with = "plan")]
        targets: Vec<String>,
        /// Allow this many organization deletes, beyond policy.max_deletes.
        #[arg(long, value_name = "N")]
        allow_deletes: Option<u32>,
        /// Allow each organization to lose this many members in this run, beyond
        /// policy.max_member_removals.
        #[arg(long, value_name = "N")]
        allow_member_removals: Option<u32>,
        /// Confirm that this organization is new although an undeclared live organization has
        /// a close name (a vendor that cannot delete organizations); repeatable.
        #[arg(long = "allow-create", value_name = "ADDR")]
        allow_creates: Vec<String>,
        /// Requests in flight per provider (overrides orgform.yaml).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
        parallelism: Option<u32>,
        /// Apply only this provider target (by its name in orgform.yaml), taking only its
        /// lock; repeatable. A saved plan keeps the providers it was made for.
        #[arg(long = "provider", value_name = "NAME", conflicts_with = "plan")]
        providers: Vec<String>,
        /// Execute this saved plan (`plan --out FILE`), refusing if live state moved since.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Wait this long (e.g. `30s`, `10m`) for another apply's lock on a provider target;
        /// `0s` (the default) fails at once, saying who holds it.
        #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = duration)]
        lock_timeout: std::time::Duration,
        /// `json`: print only the outcome of every step as one JSON document, for pipelines
        /// (needs --auto-approve or --plan: no plan is shown to approve).
        #[arg(long, value_enum, default_value = "human")]
        format: apply::ApplyFormat,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Write manifests for the live organizations of a provider (adoption).
    Export {
        /// The workspace whose orgform.yaml declares the provider.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The provider to export, by its name in orgform.yaml.
        #[arg(long)]
        provider: String,
        /// Where to write (default: the workspace); `<OUT>/<provider>/<key>.yaml` per organization.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Export only these organizations (by the key export gives them); repeatable.
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
        /// Also remove the manifest files of this provider's organizations that no longer exist.
        #[arg(long, conflicts_with = "targets")]
        prune_files: bool,
        #[command(flatten)]
        run: RunFlags,
    },
    /// The local emulator of every vendor orgform speaks to (Nirvana Labs, Scalekit, PingOne, WorkOS).
    Sandbox {
        #[command(subcommand)]
        command: SandboxCommand,
    },
    /// Print a shell completion script (e.g. `orgform completions bash > /etc/bash_completion.d/orgform`).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (`orgform man > orgform.1`), or write one page per command into
    /// a directory (`orgform man --out man/`); generated from the same definition as `--help`.
    Man {
        /// Write `orgform.1` and a page per command into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Release the locks of run ID (printed by an apply that found them held), e.g. a hung CI
    /// job's shared Postgres lock. A crashed run's locks are released without it.
    ForceUnlock {
        /// The lock id (`lock id …` in the message of the apply that found it held).
        id: String,
        /// The workspace directory (holds orgform.yaml).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Render a plan saved with `plan --out FILE`.
    Show {
        /// The saved plan.
        file: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        format: crate::output::Format,
    },
    /// Write the JSON Schemas of the manifest language.
    #[command(hide = true)]
    Schemas {
        #[arg(long, default_value = "schemas")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the emulator over HTTP until interrupted.
    Serve {
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:8765")]
        addr: String,
        /// SQLite database file; state survives restarts with the same file (default: in memory).
        #[arg(long)]
        db: Option<PathBuf>,
        /// A YAML or JSON fixture to load at start.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Nirvana organizations as older API versions show them (`metronome`) or as the
        /// current SDK does (`billing`).
        #[arg(long, value_enum, default_value = "metronome")]
        nirvana_organizations: crate::sandbox::NirvanaOrganizationShape,
        /// Nirvana error bodies: `{"error": {code, message}}` (`nested`) or `{code, message}` (`flat`).
        #[arg(long, value_enum, default_value = "nested")]
        nirvana_errors: crate::sandbox::NirvanaErrorShape,
        /// Require `Authorization: Bearer TOKEN` on the control plane (`/_sandbox/…` but
        /// `health`); required when `--addr` is not a loopback address.
        #[arg(long, env = "ORGFORM_SANDBOX_CONTROL_TOKEN", hide_env_values = true)]
        control_token: Option<String>,
        /// A host name the control plane answers to besides IP addresses and `localhost`
        /// (e.g. a CI service's name); repeatable. Other names are refused as DNS rebinding.
        #[arg(long = "host-name", value_name = "NAME")]
        host_names: Vec<String>,
        /// Time a connection has to send a complete request head (new, or idle between
        /// requests) before it is closed.
        #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
        header_timeout: std::time::Duration,
        /// Connections open at once; beyond it the oldest idle one is closed (or, with none
        /// idle, the new one).
        #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65536))]
        max_connections: u32,
        /// Log each request served (vendor, method, route, status, duration) to stderr.
        #[arg(short, long, action = clap::ArgAction::Count)]
        verbose: u8,
    },
}

/// Exit codes, as the exit code tables of the README and docs/commands.md give them (a test
/// holds the tables to [`exit::ALL`]).
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const ERROR: u8 = 1;
    /// `--detailed-exitcode`: changes that apply would make.
    pub const CHANGES: u8 = 2;
    /// `--detailed-exitcode`: drift that apply cannot fix.
    pub const DRIFT: u8 = 3;
    /// Interrupted (SIGINT/SIGTERM), as a shell reports a process killed by SIGINT.
    pub const INTERRUPTED: u8 = crate::interrupt::EXIT_INTERRUPTED;
    /// Every code the binary exits with.
    pub const ALL: &[u8] = &[SUCCESS, ERROR, CHANGES, DRIFT, INTERRUPTED];
}

/// Runs `work` on a new runtime with a session of the workspace `dir`: a failure to open it is
/// reported (exit 1), and the session (and its embedded sandbox) is closed after the work.
fn with_session(
    dir: &std::path::Path,
    env: &crate::manifest::Env,
    timeout: std::time::Duration,
    mut overrides: crate::provider::settings::ClientOverrides,
    providers: &[String],
    work: impl AsyncFnOnce(&crate::session::Session, &crate::interrupt::Interrupt) -> u8,
) -> u8 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            crate::output::fail(&format!("cannot start the async runtime: {e}"));
            return exit::ERROR;
        }
    };
    runtime.block_on(async {
        overrides.deadline = tokio::time::Instant::now().checked_add(timeout);
        let interrupt = crate::interrupt::Interrupt::install();
        let session = match crate::session::Session::open_only(dir, env, overrides, providers).await
        {
            Ok(session) => session,
            Err(failure) => return crate::output::failure(&failure),
        };
        let code = work(&session, &interrupt).await;
        session.remember_paces();
        for (name, provider) in &session.providers {
            crate::output::throttling(
                name,
                provider.client().vendor,
                provider.client().gate().report(),
            );
        }
        session.close().await;
        code
    })
}

/// Prints clap's answer and chooses its exit code: `--help` and `--version` succeed, and every
/// usage error exits 1 (clap's own 2 would read as "changes" under `--detailed-exitcode`).
fn usage_exit(usage: &clap::Error) -> u8 {
    match usage.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            // Through the output module, so that a failed write is an error like any other.
            crate::output::write_stdout(usage.render().to_string().as_bytes(), "the help");
            exit::SUCCESS
        }
        _ => {
            let _ = usage.print();
            exit::ERROR
        }
    }
}

/// The exit code, once whatever the command decided is checked against stdout: output that did
/// not reach it is a failure.
fn finish(code: u8) -> ExitCode {
    ExitCode::from(match crate::output::stdout_failure() {
        Some(error) => {
            crate::output::fail(&error);
            exit::ERROR
        }
        None => code,
    })
}

/// Parses the arguments, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(usage) => return finish(usage_exit(&usage)),
    };
    if cli.no_color {
        crate::output::disable_color();
    }
    let logging = match &cli.command {
        Command::Plan { run, .. } | Command::Apply { run, .. } | Command::Export { run, .. } => {
            crate::output::Logging::Run {
                verbose: run.verbose,
                quiet: run.quiet,
            }
        }
        Command::Sandbox {
            command: SandboxCommand::Serve { verbose, .. },
        } => crate::output::Logging::Serve { verbose: *verbose },
        _ => crate::output::Logging::Off,
    };
    crate::output::init_logging(logging);
    let code = match cli.command {
        Command::Validate { dir, format } => {
            validate::run(&dir, format, &|name| std::env::var(name).ok())
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "orgform",
                &mut script,
            );
            crate::output::write_stdout(&script, "the completions");
            exit::SUCCESS
        }
        Command::Schemas { out } => schemas::run(&out),
        Command::Man { out } => man::run(out.as_deref()),
        Command::Show { file, format } => show::run(&file, format),
        Command::ForceUnlock { id, dir } => {
            force_unlock::run(&id, &dir, &|name| std::env::var(name).ok())
        }
        Command::Apply {
            dir,
            auto_approve,
            targets,
            allow_deletes,
            allow_member_removals,
            allow_creates,
            parallelism,
            plan,
            lock_timeout,
            format,
            providers,
            run,
        } => apply::run(
            apply::ApplySettings {
                dir,
                auto_approve,
                targets,
                allow_deletes,
                allow_member_removals,
                allow_creates,
                parallelism,
                plan_file: plan,
                lock_timeout,
                format,
                providers,
                timeout: run.timeout,
            },
            &|name| std::env::var(name).ok(),
        ),
        Command::Export {
            dir,
            provider,
            out,
            targets,
            prune_files,
            run,
        } => export::run(
            export::ExportSettings {
                dir,
                provider,
                out,
                targets,
                prune_files,
                timeout: run.timeout,
            },
            &|name| std::env::var(name).ok(),
        ),
        Command::Plan {
            dir,
            targets,
            format,
            out,
            detailed_exitcode,
            parallelism,
            reports,
            providers,
            run,
        } => plan::run(
            plan::PlanSettings {
                dir,
                targets,
                format,
                out,
                detailed_exitcode,
                parallelism,
                reports,
                providers,
                timeout: run.timeout,
            },
            &|name| std::env::var(name).ok(),
        ),
        Command::Sandbox {
            command:
                SandboxCommand::Serve {
                    addr,
                    db,
                    seed,
                    nirvana_organizations,
                    nirvana_errors,
                    control_token,
                    host_names,
                    header_timeout,
                    max_connections,
                    verbose: _,
                },
        } => sandbox::serve(sandbox::ServeSettings {
            addr,
            db,
            seed,
            control_token,
            host_names,
            limits: crate::sandbox::ConnectionLimits {
                header_timeout,
                max_connections: max_connections as usize,
            },
            shapes: crate::sandbox::Shapes {
                nirvana: crate::sandbox::NirvanaShapes {
                    organizations: nirvana_organizations,
                    errors: nirvana_errors,
                },
            },
        }),
    };
    finish(code)
}
