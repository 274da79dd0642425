//! `apply --format json`: the outcome of an apply as one JSON document, for pipelines.
//!
//! Every step the run decided on is listed with what became of it, so that a pipeline can
//! act on each (open an issue for a failure, record the id of a create) without parsing the
//! human log. Vendor text (ids, error messages) is passed as JSON strings, never interpreted.

use serde::Serialize;

use crate::apply::{Outcome, StepResult};
use crate::plan::{Plan, Violation};

/// How an apply ended, as a pipeline branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Every step was done.
    Complete,
    /// Some step failed or was skipped: run apply again once the cause is fixed.
    Incomplete,
    /// Interrupted: some steps were not started.
    Interrupted,
    /// The plan had no change to make.
    NothingToDo,
    /// The saved plan had been applied already.
    AlreadyApplied,
    /// The safety policy refused the plan: nothing was changed.
    Refused,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    format_version: &'static str,
    orgform_version: &'static str,
    outcome: Ending,
    summary: Counts,
    steps: Vec<Step<'a>>,
    #[serde(skip_serializing_if = "<[Violation]>::is_empty")]
    safety_violations: &'a [Violation],
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    done: usize,
    failed: usize,
    skipped: usize,
    not_started: usize,
    /// Changes apply cannot make (manual drift), from the plan.
    manual: usize,
}

#[derive(Debug, Serialize)]
struct Step<'a> {
    address: &'a str,
    action: &'static str,
    outcome: &'static str,
    /// The vendor id of what a create made.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    /// Why a step failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// The JSON outcome of an apply of `plan` whose steps ended as `results`.
pub fn render_outcome(plan: &Plan, results: &[StepResult], ending: Ending) -> String {
    let mut summary = Counts {
        manual: plan.summary.manual,
        ..Counts::default()
    };
    let steps = results
        .iter()
        .map(|result| {
            let (outcome, id, error) = match &result.outcome {
                Outcome::Done(id) => {
                    summary.done += 1;
                    ("done", id.as_deref(), None)
                }
                Outcome::Failed(error) => {
                    summary.failed += 1;
                    ("failed", None, Some(error.as_str()))
                }
                Outcome::Skipped(why) => {
                    summary.skipped += 1;
                    ("skipped", None, Some(why.as_str()))
                }
                Outcome::NotStarted => {
                    summary.not_started += 1;
                    ("not_started", None, None)
                }
            };
            Step {
                address: &result.address,
                action: result.action.as_str(),
                outcome,
                id,
                error,
            }
        })
        .collect();
    let report = Report {
        format_version: "1",
        orgform_version: env!("CARGO_PKG_VERSION"),
        outcome: ending,
        summary,
        steps,
        safety_violations: &plan.safety.violations,
    };
    let mut text = serde_json::to_string_pretty(&report).expect("an outcome serializes");
    text.push('\n');
    text
}

/// How the steps of a run that was not interrupted ended.
pub fn ending_of(results: &[StepResult]) -> Ending {
    if results.iter().any(|r| r.outcome == Outcome::NotStarted) {
        Ending::Interrupted
    } else if results.iter().all(StepResult::succeeded) {
        Ending::Complete
    } else {
        Ending::Incomplete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceType;
    use crate::plan::{Action, ResourceChange};

    #[test]
    fn every_step_is_listed_with_its_outcome_and_the_counts_agree() {
        let changes = vec![ResourceChange::bare(
            "org.acme",
            ResourceType::Organization,
            Action::Create,
        )];
        let plan = Plan::of_changes(changes);
        let results = vec![
            StepResult {
                address: "org.acme".into(),
                action: Action::Create,
                outcome: Outcome::Done(Some("org_1".into())),
            },
            StepResult {
                address: "org.acme.domain[acme.example]".into(),
                action: Action::Create,
                outcome: Outcome::Failed("409 \"quoted\"\n".into()),
            },
            StepResult {
                address: "org.acme.member[a@acme.example]".into(),
                action: Action::Create,
                outcome: Outcome::Skipped("its organization failed".into()),
            },
        ];
        let ending = ending_of(&results);
        assert_eq!(ending, Ending::Incomplete);
        let json: serde_json::Value =
            serde_json::from_str(&render_outcome(&plan, &results, ending)).unwrap();
        assert_eq!(json["outcome"], "incomplete");
        assert_eq!(
            json["summary"],
            serde_json::json!({ "done": 1, "failed": 1, "skipped": 1, "not_started": 0, "manual": 0 })
        );
        assert_eq!(json["steps"][0]["id"], "org_1");
        assert_eq!(json["steps"][1]["outcome"], "failed");
        assert_eq!(json["steps"][1]["error"], "409 \"quoted\"\n");
        assert_eq!(json["steps"][2]["error"], "its organization failed");
        assert!(json.get("safety_violations").is_none());
    }
}
