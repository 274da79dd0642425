//! All printing goes through here, so that what users see is decided in one place.

use std::io::{IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::manifest::ManifestError;
use crate::model::Totals;

static COLOR_OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The first write to stdout that failed (or wrote short), said as an error: a plan or a
/// comment that reached nobody must not end the run as a success.
static STDOUT_FAILED: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Records a failed write of `what` to stdout.
fn checked(result: std::io::Result<()>, what: &str) {
    if let Err(e) = result {
        let _ = STDOUT_FAILED.set(format!("could not write {what} to stdout: {e}"));
    }
}

/// Writes `bytes` (e.g. generated completions) to stdout, recording a failure.
pub fn write_stdout(bytes: &[u8], what: &str) {
    checked(std::io::stdout().lock().write_all(bytes), what);
}

/// Flushes stdout and says whether every write of the run reached it: `Some(error)` for the
/// first that did not. The CLI turns that into exit 1.
pub fn stdout_failure() -> Option<String> {
    checked(std::io::stdout().lock().flush(), "the output");
    STDOUT_FAILED.get().cloned()
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Logging to stderr through `tracing`: off by default, `-v` one line per request, `-vv` more;
/// `ORGFORM_LOG` sets the filter itself. `-q` also silences progress and per-step lines.
/// What a command logs on stderr: a run's requests (`-v`, `-vv` with detail; `-q` for less),
/// the requests `sandbox serve` answers, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logging {
    Run { verbose: u8, quiet: bool },
    Serve { verbose: u8 },
    Off,
}

pub fn init_logging(logging: Logging) {
    let (verbose, quiet) = match logging {
        Logging::Run { verbose, quiet } => (verbose, quiet),
        Logging::Serve { .. } | Logging::Off => (0, false),
    };
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    VERBOSE.store(verbose > 0, std::sync::atomic::Ordering::Relaxed);
    // A run's embedded sandbox does not log what it serves: the client's lines say it.
    let filter = match std::env::var("ORGFORM_LOG") {
        Ok(filter) if !filter.is_empty() => filter,
        _ => match logging {
            Logging::Run { verbose: 0, .. } | Logging::Serve { verbose: 0 } | Logging::Off => {
                "off".to_owned()
            }
            Logging::Run { verbose: 1, .. } => "orgform=debug,orgform::sandbox=off".to_owned(),
            Logging::Run { .. } => "orgform=trace,orgform::sandbox=off".to_owned(),
            Logging::Serve { .. } => "orgform::sandbox=debug".to_owned(),
        },
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && color_allowed())
        .with_target(false)
        .try_init();
}

fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// `-v`: warnings are listed in full instead of grouped.
pub fn verbose() -> bool {
    VERBOSE.load(std::sync::atomic::Ordering::Relaxed)
}

/// `--no-color`: no colour anywhere, as with `NO_COLOR`.
pub fn disable_color() {
    COLOR_OFF.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether colour may be used at all (`--no-color` and `NO_COLOR` say no).
fn color_allowed() -> bool {
    !COLOR_OFF.load(std::sync::atomic::Ordering::Relaxed) && std::env::var_os("NO_COLOR").is_none()
}

/// How diagnostics are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// Colour on a terminal unless `NO_COLOR` is set; 100 columns.
    pub fn for_stderr() -> Self {
        Self {
            color: std::io::stderr().is_terminal() && color_allowed(),
            width: 100,
        }
    }

    /// Fixed, colourless output, for snapshots and logs.
    pub fn plain() -> Self {
        Self {
            color: false,
            width: 100,
        }
    }
}

/// Renders diagnostics as miette draws them, separated by blank lines, ending in a count.
pub fn render_diagnostics(errors: &[ManifestError], style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    for error in errors {
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, error);
        out.push('\n');
    }
    out.push_str(&format!(
        "error: {} problem{} found\n",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    ));
    out
}

/// `validate --format json`: every diagnostic with its file, line and column (1-based), code,
/// message, label and help.
pub fn diagnostics_json(errors: &[ManifestError], sources: &crate::manifest::Sources) -> String {
    let diagnostics: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| {
            let (file, line, column) = match e.span() {
                Some(span) => {
                    let (line, column) = sources.get(span.file).line_column(span.offset());
                    (
                        Some(sources.path(span.file).display().to_string()),
                        Some(line),
                        Some(column),
                    )
                }
                None => (None, None, None),
            };
            serde_json::json!({
                "file": file,
                "line": line,
                "column": column,
                "code": format!("orgform::{}", e.code()),
                "message": e.message(),
                "label": e.label(),
                "help": e.help_text(),
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&serde_json::json!({
        "valid": false,
        "diagnostics": diagnostics,
    }))
    .unwrap_or_default();
    text.push('\n');
    text
}

pub fn print_diagnostics(errors: &[ManifestError]) {
    let text = render_diagnostics(errors, Style::for_stderr());
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// `valid: 3 organizations, 7 domains, 2 addresses, 9 members across 2 providers`
pub fn validate_summary(totals: &Totals) -> String {
    let mut parts = vec![
        count(totals.organizations, "organization", "organizations"),
        count(totals.domains, "domain", "domains"),
        count(totals.addresses, "address", "addresses"),
        count(totals.members, "member", "members"),
    ];
    if totals.licenses > 0 {
        parts.push(count(
            totals.licenses,
            "license expectation",
            "license expectations",
        ));
    }
    let templates = if totals.templates > 0 {
        format!(", {}", count(totals.templates, "template", "templates"))
    } else {
        String::new()
    };
    let mut summary = format!(
        "valid: {} across {}{templates}",
        parts.join(", "),
        count(totals.providers, "provider", "providers")
    );
    if !totals.excluded.is_empty() {
        let shown: Vec<&str> = totals.excluded.iter().take(5).map(String::as_str).collect();
        let more = totals.excluded.len() - shown.len();
        summary.push_str(&format!(
            "; excluded by `exclude:`: {}{}",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    summary
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How `plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

/// Prints a plan on stdout in `format`; human output is coloured on a terminal unless
/// `NO_COLOR` is set.
pub fn plan(plan: &crate::plan::Plan, format: Format) {
    let text = match format {
        Format::Human => {
            let color = std::io::stdout().is_terminal() && color_allowed();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = crate::render::write_human(plan, color, verbose(), &mut out)
                .and_then(|()| out.flush());
            checked(written, "the plan");
            return;
        }
        Format::Json => {
            checked(
                crate::render::write_json(plan, std::io::stdout().lock()),
                "the plan",
            );
            return;
        }
        Format::Markdown => crate::render::render_markdown(plan),
    };
    checked(
        std::io::stdout().lock().write_all(text.as_bytes()),
        "the plan",
    );
}

/// How often a status line is printed when stderr is not a terminal (CI logs, cron mail).
pub const STATUS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The status interval: [`STATUS_INTERVAL`], or `ORGFORM_STATUS_INTERVAL` (e.g. `2s`).
fn status_interval() -> std::time::Duration {
    std::env::var("ORGFORM_STATUS_INTERVAL")
        .ok()
        .and_then(|v| humantime::parse_duration(&v).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(STATUS_INTERVAL)
}

/// Progress on stderr: on a terminal a bar that redraws on time (not only when a step ends);
/// elsewhere one status line at a steady interval, so a long run is never silent in a log.
/// Finishing the bar ends the status lines.
pub fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    progress_of(total, what, "organizations")
}

fn progress_of(total: u64, what: &str, unit: &str) -> indicatif::ProgressBar {
    if quiet() {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_length(total);
        return bar;
    }
    if !std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_length(total);
        status_lines(&bar, what.to_owned(), unit.to_owned());
        return bar;
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{elapsed}})"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    bar
}

/// Prints `what: N/M unit (Ts)` to stderr every interval until `bar` is finished.
fn status_lines(bar: &indicatif::ProgressBar, what: String, unit: String) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let bar = bar.clone();
    let interval = status_interval();
    let started = std::time::Instant::now();
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            if bar.is_finished() {
                return;
            }
            let total = bar.length().map_or(String::new(), |l| format!("/{l}"));
            let _ = writeln!(
                std::io::stderr().lock(),
                "{what}: {}{total} {unit} ({}s)",
                bar.position(),
                started.elapsed().as_secs()
            );
        }
    });
}

/// Reports why a command failed; returns exit code 1.
pub fn failure(failure: &crate::session::Failure) -> u8 {
    use crate::session::Failure;
    match failure {
        Failure::Manifest(errors) => print_diagnostics(errors),
        Failure::Setup(errors) => errors.iter().for_each(|e| fail(&e.to_string())),
        Failure::Api(errors) => errors.iter().for_each(|e| fail(&e.to_string())),
        Failure::Usage(message) | Failure::Sandbox(message) => fail(message),
        Failure::Lock(error) => fail(&error.to_string()),
    }
    1
}

/// Asks a yes/no question on the terminal. `None` when stdin is not a terminal.
pub fn confirm(question: &str) -> Option<bool> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    discard_typed_ahead();
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "\n{question}");
    let _ = stdout.flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).ok()?;
    Some(answer.trim() == "yes")
}

/// Throws away what was typed before the question was shown: a `yes` typed ahead, before
/// the plan was drawn, must not approve it.
fn discard_typed_ahead() {
    #[cfg(unix)]
    let _ = rustix::termios::tcflush(std::io::stdin(), rustix::termios::QueueSelector::IFlush);
}

/// Progress of apply: a bar on a terminal (redrawn on time), otherwise one line per finished
/// step and a status line at a steady interval.
pub struct StepReporter {
    bar: indicatif::ProgressBar,
    terminal: bool,
}

impl StepReporter {
    /// `lines`: whether a run off a terminal prints a line per step (not with `--format json`,
    /// whose stdout is the outcome document alone).
    pub fn new(steps: u64, lines: bool) -> Self {
        Self {
            bar: progress_of(steps, "applying", "steps"),
            // Quiet runs print no line per step (the closing table still lists every one).
            terminal: std::io::stderr().is_terminal() || quiet() || !lines,
        }
    }

    pub fn report(&self, result: &crate::apply::StepResult) {
        self.bar.inc(1);
        if !self.terminal {
            say(&step_line(result));
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Whether each step got its own line as it ended (no terminal, not quiet).
    pub fn printed_steps(&self) -> bool {
        !self.terminal
    }
}

fn step_line(result: &crate::apply::StepResult) -> String {
    use crate::apply::Outcome;
    let action = result.action.as_str();
    let line = match &result.outcome {
        Outcome::Done(Some(id)) => format!("{}: {action} done (id {id})", result.address),
        Outcome::Done(None) => format!("{}: {action} done", result.address),
        Outcome::Failed(error) => format!("{}: {action} FAILED: {error}", result.address),
        Outcome::Skipped(why) => format!("{}: {action} skipped: {why}", result.address),
        Outcome::NotStarted => format!("{}: {action} not started (interrupted)", result.address),
    };
    // Vendor ids and error messages are vendor text.
    crate::render::clean(&line)
}

/// The table of every step's outcome, and the closing line. Returns whether all succeeded.
/// The closing of an apply: the outcome of every step (only failures, skips and steps not
/// started when each step already had its line, as in a CI log: each step is printed once),
/// then one summary line. Whether every step was done.
pub fn apply_summary(results: &[crate::apply::StepResult], steps_printed: bool) -> bool {
    use crate::apply::Outcome;
    let count = |f: fn(&Outcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    let (done, failed, skipped, not_started) = (
        count(|o| matches!(o, Outcome::Done(_))),
        count(|o| matches!(o, Outcome::Failed(_))),
        count(|o| matches!(o, Outcome::Skipped(_))),
        count(|o| matches!(o, Outcome::NotStarted)),
    );
    let listed: Vec<&crate::apply::StepResult> = results
        .iter()
        .filter(|r| !steps_printed || !matches!(r.outcome, Outcome::Done(_)))
        .collect();
    if !listed.is_empty() {
        say("");
        say(if steps_printed {
            "Steps not done:"
        } else {
            "Outcome of every step:"
        });
        for result in listed {
            say(&format!("  {}", step_line(result)));
        }
    }
    say("");
    if not_started > 0 {
        say(&format!(
            "Apply interrupted: {done} done, {failed} failed, {skipped} skipped, {not_started} not started. Run apply again to continue: it plans from the live state."
        ));
        false
    } else if failed + skipped == 0 {
        say(&format!(
            "Apply complete: {done} done, 0 failed, 0 skipped."
        ));
        true
    } else {
        say(&format!(
            "Apply incomplete: {done} done, {failed} failed, {skipped} skipped. Fix the cause and run apply again: it continues from the live state."
        ));
        false
    }
}

/// `apply --format json`: the outcome of every step as one JSON document on stdout.
pub fn apply_outcome(
    plan: &crate::plan::Plan,
    results: &[crate::apply::StepResult],
    ending: crate::render::Ending,
) {
    let text = crate::render::render_outcome(plan, results, ending);
    write_stdout(text.as_bytes(), "the outcome");
}

/// After a run whose provider was throttled: the rate it sustained, so users learn their limit.
pub fn throttling(provider: &str, vendor: &str, report: crate::provider::gate::GateReport) {
    if report.throttled == 0 || quiet() {
        return;
    }
    let pauses = match report.pauses {
        0 => String::new(),
        1 => ", 1 provider-wide pause on Retry-After".to_owned(),
        n => format!(", {n} provider-wide pauses on Retry-After"),
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "note: {vendor} provider `{provider}`: {} (throttled){pauses}; a `requests_per_second` a little below the sustained rate avoids the throttling",
        report.describe()
    );
}

/// A line of normal output on stdout.
pub fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    checked(writeln!(stdout, "{line}"), "the output");
}

/// A one-line error on stderr, for failures that are not about a manifest.
pub fn fail(message: &str) {
    // Errors quote what vendors answered: no control character of theirs reaches the terminal.
    let message = crate::render::clean(message);
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_matches_the_documented_form() {
        let totals = Totals {
            organizations: 3,
            domains: 7,
            addresses: 2,
            members: 9,
            licenses: 0,
            providers: 2,
            templates: 0,
            excluded: Vec::new(),
        };
        assert_eq!(
            validate_summary(&totals),
            "valid: 3 organizations, 7 domains, 2 addresses, 9 members across 2 providers"
        );
        let one = Totals {
            organizations: 1,
            domains: 1,
            addresses: 1,
            members: 1,
            licenses: 5,
            providers: 1,
            templates: 2,
            excluded: vec!["docs/mkdocs.yml".into()],
        };
        assert_eq!(
            validate_summary(&one),
            "valid: 1 organization, 1 domain, 1 address, 1 member, 5 license expectations across 1 provider, 2 templates; excluded by `exclude:`: docs/mkdocs.yml"
        );
    }
}
