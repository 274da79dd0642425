//! `orgform plan`: refresh live state and show what apply would do.

use std::path::PathBuf;

use crate::output::{self, Format};
use crate::plan::{PlanInput, plan};
use crate::provider::RefreshOptions;
use crate::provider::settings::ClientOverrides;
use crate::report::{ReportSpec, RunFacts};
use crate::session::{Failure, Session};
use std::collections::BTreeMap;

use super::exit;

/// Resolved settings of `plan`.
pub struct PlanSettings {
    /// The whole run's time limit (`--timeout`).
    pub timeout: std::time::Duration,
    pub dir: PathBuf,
    pub targets: Vec<String>,
    pub format: Format,
    pub out: Option<PathBuf>,
    pub detailed_exitcode: bool,
    pub parallelism: Option<u32>,
    /// `--report KIND=FILE`, in the order given.
    pub reports: Vec<ReportSpec>,
    /// `--provider NAME`: only these provider targets.
    pub providers: Vec<String>,
}

pub fn run(settings: PlanSettings, env: &crate::manifest::Env) -> u8 {
    let overrides = ClientOverrides {
        parallelism: settings.parallelism,
        ..ClientOverrides::default()
    };
    let reported = std::cell::Cell::new(false);
    let code = super::with_session(
        &settings.dir,
        env,
        settings.timeout,
        overrides,
        &settings.providers,
        async |session, _interrupt| {
            reported.set(true);
            plan_in(session, &settings).await
        },
    );
    if !reported.get() {
        // The workspace or its providers could not even be opened (the errors are printed):
        // monitoring still hears that this run failed.
        let facts = || RunFacts {
            plan: None,
            organizations: Vec::new(),
            failure: Some("orgform could not open the workspace or its providers".into()),
            requests: BTreeMap::new(),
            refresh_seconds: 0.0,
            finished_at: unix_now(),
        };
        if !write_reports(&settings.reports, facts) {
            return exit::ERROR;
        }
    }
    code
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Writes every report; false (after saying why) when one cannot be written. The facts are
/// gathered only when a report is asked for: a plan without `--report` does none of that work.
fn write_reports<'a>(reports: &[ReportSpec], facts: impl FnOnce() -> RunFacts<'a>) -> bool {
    if reports.is_empty() {
        return true;
    }
    let facts = &facts();
    let mut written = true;
    for spec in reports {
        // The metrics this path holds from the last run (a regular file only): a failed run
        // keeps their counts. No other report reads what it replaces.
        let previous = (spec.kind == crate::report::ReportKind::Metrics)
            .then(|| crate::files::read_regular(&spec.path, u64::MAX))
            .flatten();
        let text = crate::report::render(spec.kind, facts, previous.as_deref());
        if let Err(e) = crate::files::write(&spec.path, text.as_bytes()) {
            output::fail(&format!(
                "cannot write the report {}: {e}",
                spec.path.display()
            ));
            written = false;
        }
    }
    written
}

/// The reports' facts about this session's run.
fn facts<'a>(
    session: &Session,
    plan: Option<&'a crate::plan::Plan>,
    failure: Option<String>,
    refresh_seconds: f64,
    targets: &[crate::model::ResourceAddress],
) -> RunFacts<'a> {
    let targeted: Vec<String> = targets.iter().map(|t| t.parent().to_string()).collect();
    let mut organizations: Vec<(String, String)> = session
        .desired
        .organizations
        .values()
        .map(|o| (o.provider.clone(), o.address().to_string()))
        .filter(|(_, address)| targeted.is_empty() || targeted.contains(address))
        .collect();
    // Live organizations that no manifest declares (a prune's deletes) are checked too; a set of
    // the addresses keeps this linear in the plan (a first plan of a fleet is millions of
    // changes).
    let mut known: std::collections::HashSet<String> =
        organizations.iter().map(|(_, a)| a.clone()).collect();
    for change in plan.iter().flat_map(|p| p.actionable()) {
        let address = change.organization_address();
        if !known.contains(&address) {
            known.insert(address.clone());
            organizations.push((change.provider.to_string(), address));
        }
    }
    RunFacts {
        plan,
        organizations,
        failure,
        requests: session
            .providers
            .iter()
            .map(|(name, provider)| (name.clone(), provider.client().gate().report().answered))
            .collect(),
        refresh_seconds,
        finished_at: unix_now(),
    }
}

async fn plan_in(session: &Session, settings: &PlanSettings) -> u8 {
    let targets = match session.targets(&settings.targets) {
        Ok(targets) => targets,
        Err(failure) => return output::failure(&failure),
    };
    let progress = output::progress(session.desired.organizations.len() as u64, "refreshing");
    let options = RefreshOptions {
        targets: targets.clone(),
        progress: Some(progress.clone()),
    };
    let started = std::time::Instant::now();
    let live = session.refresh(&options).await;
    progress.finish_and_clear();
    let refresh_seconds = started.elapsed().as_secs_f64();
    // A run that fails still reports, so that monitoring hears of it.
    let failed = |failure: Failure| {
        let code = output::failure(&failure);
        let reason = Some(failure.plain_text());
        write_reports(&settings.reports, || {
            facts(session, None, reason, refresh_seconds, &targets)
        });
        code
    };
    let live = match live {
        Ok(live) => live,
        Err(failure) => return failed(failure),
    };
    let input = PlanInput {
        desired: &session.desired,
        live: &live,
        targets: &targets,
        allow_deletes: None,
        allow_creates: &[],
        allow_member_removals: None,
        // Only the JSON plan shows no-ops, and a saved plan is JSON.
        keep_no_ops: settings.format == Format::Json || settings.out.is_some(),
    };
    let mut plan = match plan(input) {
        Ok(plan) => plan,
        Err(errors) => return failed(session.identity_failure(errors)),
    };
    plan.providers = session.selected.clone();
    let reports_written = write_reports(&settings.reports, || {
        facts(session, Some(&plan), None, refresh_seconds, &targets)
    });
    if let Some(path) = &settings.out {
        // The saved plan says where it was made; the one shown does not. One plan, not a copy:
        // a plan of 100,000 organizations is hundreds of megabytes.
        plan.workspace = Some(session.saved_workspace());
        let written = crate::files::write_with(path, |out| crate::render::write_json(&plan, out));
        plan.workspace = None;
        if let Err(e) = written {
            return output::failure(&Failure::Usage(format!(
                "cannot write the plan to {}: {e}",
                path.display()
            )));
        }
    }
    output::plan(&plan, settings.format);
    if !plan.safety.violations.is_empty() || !reports_written {
        exit::ERROR
    } else if !settings.detailed_exitcode {
        exit::SUCCESS
    } else if plan.has_manual() {
        exit::DRIFT
    } else if plan.has_changes() {
        exit::CHANGES
    } else {
        exit::SUCCESS
    }
}
