//! `orgform plan`: refresh live state and show what apply would do.

use std::path::PathBuf;

use crate::output::{self, Format};
use crate::plan::{PlanInput, plan};
use crate::provider::RefreshOptions;
use crate::provider::settings::ClientOverrides;
use crate::session::{Failure, Session};

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
}

pub fn run(settings: PlanSettings, env: &crate::manifest::Env) -> u8 {
    let overrides = ClientOverrides {
        parallelism: settings.parallelism,
        ..ClientOverrides::default()
    };
    super::with_session(
        &settings.dir,
        env,
        settings.timeout,
        overrides,
        async |session, _interrupt| plan_in(session, &settings).await,
    )
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
    let live = session.refresh(&options).await;
    progress.finish_and_clear();
    let live = match live {
        Ok(live) => live,
        Err(failure) => return output::failure(&failure),
    };
    let input = PlanInput {
        desired: &session.desired,
        live: &live,
        targets: &targets,
        allow_deletes: None,
        // Only the JSON plan shows no-ops, and a saved plan is JSON.
        keep_no_ops: settings.format == Format::Json || settings.out.is_some(),
    };
    let mut plan = match plan(input) {
        Ok(plan) => plan,
        Err(errors) => return output::failure(&session.identity_failure(errors)),
    };
    if let Some(path) = &settings.out {
        // The saved plan says where it was made; the one shown does not. One plan, not a copy:
        // a plan of 100,000 organizations is hundreds of megabytes.
        plan.workspace = Some(session.saved_workspace());
        let written =
            std::fs::File::create(path).and_then(|file| crate::render::write_json(&plan, file));
        plan.workspace = None;
        if let Err(e) = written {
            return output::failure(&Failure::Usage(format!(
                "cannot write the plan to {}: {e}",
                path.display()
            )));
        }
    }
    output::plan(&plan, settings.format);
    if !plan.safety.violations.is_empty() {
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
