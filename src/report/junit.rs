//! The JUnit report: one test suite per provider, one test case per organization. A case fails
//! when its organization has changes or drift a person must fix (the message says how many of
//! each; the text lists them); it passes when live state matches. A failed run is one error
//! case saying why, so a CI test view never shows a green report for a run that saw nothing.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunFacts;
use crate::plan::{Action, ResourceChange};

pub fn render(facts: &RunFacts) -> String {
    let mut report = Report::new("orgform plan");
    if let Some(failure) = &facts.failure {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message("the plan failed: live state could not be compared");
        status.set_description(failure.as_str());
        let mut suite = TestSuite::new("orgform");
        suite.add_test_case(TestCase::new("plan", status));
        report.add_test_suite(suite);
        return report.to_string().unwrap_or_default();
    }
    let mut changes: BTreeMap<String, Vec<&ResourceChange>> = BTreeMap::new();
    for change in facts.plan.iter().flat_map(|p| p.actionable()) {
        changes
            .entry(change.organization_address())
            .or_default()
            .push(change);
    }
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for (provider, address) in &facts.organizations {
        let suite = suites
            .entry(provider.as_str())
            .or_insert_with(|| TestSuite::new(provider.as_str()));
        let status = match changes.get(address) {
            None => TestCaseStatus::success(),
            Some(found) => {
                let count = |action: Action| found.iter().filter(|c| c.action == action).count();
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_type("drift");
                let manual = count(Action::Manual);
                status.set_message(format!(
                    "{} to add, {} to change, {} to destroy, {manual} {} manual action",
                    count(Action::Create),
                    count(Action::Update),
                    count(Action::Delete),
                    if manual == 1 { "needs" } else { "need" }
                ));
                let lines: Vec<String> = found
                    .iter()
                    .map(|c| match &c.message {
                        Some(message) => format!("{} {}: {message}", c.action.as_str(), c.address),
                        None => format!("{} {}", c.action.as_str(), c.address),
                    })
                    .collect();
                status.set_description(lines.join("\n"));
                status
            }
        };
        let mut case = TestCase::new(address.as_str(), status);
        case.set_classname(provider.as_str());
        suite.add_test_case(case);
    }
    report.add_test_suites(suites.into_values());
    report.to_string().unwrap_or_default()
}
