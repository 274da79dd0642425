//! `orgform apply`: plan (or read a saved plan), check safety and approval, then execute.

use std::path::PathBuf;

use crate::apply::execute_until;
use crate::interrupt::{EXIT_INTERRUPTED, Interrupt};
use crate::output;
use crate::plan::{Plan, PlanInput, check_workspace, plan, verify_saved};
use crate::provider::RefreshOptions;
use crate::provider::settings::ClientOverrides;
use crate::render::{Ending, ending_of};
use crate::session::{Failure, Session};

use super::exit;

/// How `apply` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    /// The plan, a line per step off a terminal, the closing summary.
    Human,
    /// Only the outcome of every step, as one JSON document on stdout.
    Json,
}

/// Resolved settings of `apply`.
pub struct ApplySettings {
    /// The whole run's time limit (`--timeout`).
    pub timeout: std::time::Duration,
    /// The workspace; `None`: the saved plan's, else `.`.
    pub dir: Option<PathBuf>,
    pub auto_approve: bool,
    pub targets: Vec<String>,
    pub allow_deletes: Option<u32>,
    /// `--allow-member-removals N`.
    pub allow_member_removals: Option<u32>,
    /// `--allow-create ADDR`: creates confirmed as new organizations.
    pub allow_creates: Vec<String>,
    pub parallelism: Option<u32>,
    pub plan_file: Option<PathBuf>,
    /// How long to wait for another run's lock on a provider target.
    pub lock_timeout: std::time::Duration,
    pub format: ApplyFormat,
    /// `--provider NAME`: only these provider targets.
    pub providers: Vec<String>,
}

pub fn run(settings: ApplySettings, env: &crate::manifest::Env) -> u8 {
    if settings.format == ApplyFormat::Json
        && !settings.auto_approve
        && settings.plan_file.is_none()
    {
        return output::failure(&Failure::Usage(
            "apply --format json shows no plan to approve: add --auto-approve, or apply a saved plan with --plan; nothing was changed".into(),
        ));
    }
    let overrides = ClientOverrides {
        parallelism: settings.parallelism,
        ..ClientOverrides::default()
    };
    let saved = match settings.plan_file.as_deref().map(read_saved).transpose() {
        Ok(saved) => saved,
        Err(failure) => return output::failure(&failure),
    };
    // A saved plan knows its workspace, so it applies from any directory.
    let dir = settings
        .dir
        .clone()
        .or_else(|| saved.as_ref()?.workspace.as_ref().map(|w| w.dir.clone()))
        .unwrap_or_else(|| PathBuf::from("."));
    super::with_session(
        &dir,
        env,
        settings.timeout,
        overrides,
        // A saved plan is applied to the providers it was made for.
        &saved
            .as_ref()
            .map_or_else(|| settings.providers.clone(), |s| s.providers.clone()),
        async |session, interrupt| apply_in(session, &settings, saved, interrupt).await,
    )
}

pub(super) fn read_saved(path: &std::path::Path) -> Result<Plan, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read the plan {}: {e}", path.display())))?;
    // A plan of another format version is refused by its version, whether or not its shape
    // decodes. The file is parsed once; only a plan that does not decode is read again, for its
    // version alone (a saved plan of a fleet is hundreds of megabytes).
    let other_version = |version: Option<&str>| {
        Failure::Usage(format!(
            "{} is a plan of format version {}; this orgform reads format version {}: make the plan again with this orgform (`orgform plan --out`); nothing was changed",
            path.display(),
            version.unwrap_or("(none)"),
            crate::plan::FORMAT_VERSION
        ))
    };
    let mut plan: Plan = match serde_json::from_str::<Plan>(&text) {
        Ok(plan) if plan.format_version == crate::plan::FORMAT_VERSION => plan,
        Ok(plan) => return Err(other_version(Some(&plan.format_version))),
        Err(e) => {
            #[derive(serde::Deserialize)]
            struct Version {
                format_version: Option<String>,
            }
            return Err(match serde_json::from_str::<Version>(&text) {
                Ok(Version { format_version })
                    if format_version.as_deref() != Some(crate::plan::FORMAT_VERSION) =>
                {
                    other_version(format_version.as_deref())
                }
                _ => Failure::Usage(format!("{} is not an orgform plan: {e}", path.display())),
            });
        }
    };
    // The file's own summary is not evidence: what `show` and `apply` print counts the changes.
    plan.summary = crate::plan::Summary::of(&plan.resource_changes);
    Ok(plan)
}

/// A saved plan refused: nothing was changed.
fn refuse_saved(broken: &crate::plan::SealBroken) -> u8 {
    output::failure(&Failure::Usage(format!(
        "{broken}; nothing was changed. Run `orgform plan --out` again."
    )))
}

async fn apply_in(
    session: &Session,
    settings: &ApplySettings,
    saved: Option<Plan>,
    interrupt: &Interrupt,
) -> u8 {
    let json = settings.format == ApplyFormat::Json;
    // A saved plan of other (or unrecorded) manifests is refused before any lock or request.
    let now = saved.as_ref().map(|_| session.saved_workspace());
    if let (Some(saved), Some(now)) = (&saved, &now)
        && let Err(broken) = check_workspace(saved, now)
    {
        return refuse_saved(&broken);
    }
    // A saved plan is re-planned with the targets it was made for, and apply runs only what
    // both agree on (`verify_saved`).
    let targets = match &saved {
        Some(saved) => session.targets(&saved.targets),
        None => session.targets(&settings.targets),
    };
    let targets = match targets {
        Ok(targets) => targets,
        Err(failure) => return output::failure(&failure),
    };
    // One writer at a time per provider target, from before the refresh to the last write.
    let _locks = match session.lock("apply", settings.lock_timeout).await {
        Ok(locks) => locks,
        Err(failure) => return output::failure(&failure),
    };
    let progress = output::progress(session.desired.organizations.len() as u64, "refreshing");
    let live = session
        .refresh(&RefreshOptions {
            targets: targets.clone(),
            progress: Some(progress.clone()),
        })
        .await;
    progress.finish_and_clear();
    let live = match live {
        Ok(live) => live,
        Err(failure) => return output::failure(&failure),
    };
    let input = PlanInput {
        desired: &session.desired,
        live: &live,
        targets: &targets,
        allow_deletes: settings.allow_deletes,
        allow_creates: &settings.allow_creates,
        allow_member_removals: settings.allow_member_removals,
        keep_no_ops: false,
    };
    let fresh = match plan(input) {
        Ok(plan) => plan,
        Err(errors) => return output::failure(&session.identity_failure(errors)),
    };
    let planned = match saved {
        Some(saved) => match verify_saved(&saved, &fresh, now.as_ref().expect("with a saved plan"))
        {
            Ok(verified) => verified,
            Err(crate::plan::SealBroken::AlreadyApplied) => {
                if json {
                    output::apply_outcome(&fresh, &[], Ending::AlreadyApplied);
                } else {
                    output::say(
                        "Nothing to do: the saved plan was already applied (live state already matches it).",
                    );
                }
                return exit::SUCCESS;
            }
            Err(broken) => return refuse_saved(&broken),
        },
        None => fresh,
    };

    if !planned.safety.violations.is_empty() {
        if json {
            output::apply_outcome(&planned, &[], Ending::Refused);
        } else {
            output::plan(&planned, output::Format::Human);
        }
        return output::failure(&Failure::Usage(format!(
            "apply refused by the safety policy ({}); nothing was changed",
            if json { "safety_violations" } else { "above" }
        )));
    }
    if !planned.has_changes() {
        if json {
            output::apply_outcome(&planned, &[], Ending::NothingToDo);
            return exit::SUCCESS;
        }
        output::plan(&planned, output::Format::Human);
        if planned.has_manual() {
            // Nothing for orgform to do, but the run still ends with its own closing line.
            output::say(&format!(
                "\nApply complete: nothing to change; {} need{} manual action (above).",
                planned.summary.manual,
                if planned.summary.manual == 1 { "s" } else { "" }
            ));
        }
        return exit::SUCCESS;
    }
    if !json {
        output::plan(&planned, output::Format::Human);
    }
    // A saved plan was reviewed when it was made: applying it is the approval (as Terraform
    // applies a saved plan without asking).
    if !settings.auto_approve && settings.plan_file.is_none() {
        match output::confirm("Do you want to perform these actions? Only 'yes' will be accepted: ")
        {
            Some(true) => {}
            Some(false) => {
                output::say("Apply cancelled; nothing was changed.");
                return exit::ERROR;
            }
            None => {
                return output::failure(&Failure::Usage(
                    "apply needs --auto-approve when not run on a terminal; nothing was changed"
                        .into(),
                ));
            }
        }
    }
    let steps = planned
        .actionable()
        .filter(|c| c.action != crate::plan::Action::Manual)
        .count() as u64;
    let reporter = output::StepReporter::new(steps, !json);
    interrupt.writing();
    let results = execute_until(
        &session.providers,
        &planned,
        &|result| reporter.report(result),
        &|| interrupt.requested(),
    )
    .await;
    reporter.finish();
    let succeeded = if json {
        let ending = ending_of(&results);
        output::apply_outcome(&planned, &results, ending);
        ending == Ending::Complete
    } else {
        output::apply_summary(&results, reporter.printed_steps())
    };
    match succeeded {
        _ if interrupt.requested() => EXIT_INTERRUPTED,
        true => exit::SUCCESS,
        false => exit::ERROR,
    }
}
