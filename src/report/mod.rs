//! Drift reports for monitoring: `plan --report junit=FILE` (a test case per organization, for
//! the test-report views of GitLab, Jenkins and most CI systems) and `--report metrics=FILE`
//! (an OpenMetrics text file for node_exporter's textfile collector or a Pushgateway). Both
//! are written for failed runs too (a refresh that fails is what monitoring most needs to
//! see), and atomically: a collector never reads half a file.

pub mod junit;
pub mod metrics;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::plan::Plan;

/// One `--report KIND=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub kind: ReportKind,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Junit,
    Metrics,
}

impl std::str::FromStr for ReportSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (kind, path) = text.split_once('=').ok_or_else(|| {
            format!("`{text}`: write KIND=FILE, e.g. junit=drift.xml or metrics=orgform.prom")
        })?;
        let kind = match kind {
            "junit" => ReportKind::Junit,
            "metrics" => ReportKind::Metrics,
            other => {
                return Err(format!(
                    "unknown report `{other}`: the reports are junit and metrics"
                ));
            }
        };
        if path.is_empty() {
            return Err(format!("`{text}`: the report needs a file name"));
        }
        Ok(ReportSpec {
            kind,
            path: PathBuf::from(path),
        })
    }
}

/// What a plan run found, for the reports.
pub struct RunFacts<'a> {
    /// The plan, when the run got that far.
    pub plan: Option<&'a Plan>,
    /// Every organization the run checked: `(provider, address)`, in order.
    pub organizations: Vec<(String, String)>,
    /// Why the run failed, when it did.
    pub failure: Option<String>,
    /// Requests answered per provider during the refresh.
    pub requests: BTreeMap<String, u64>,
    /// Wall time of the refresh.
    pub refresh_seconds: f64,
    /// When the run ended (seconds since the Unix epoch).
    pub finished_at: f64,
}

impl RunFacts<'_> {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// The report's text. `previous` is the report the last run left at the same path: a failed
/// run's metrics keep its change counts (see [`metrics::render`]).
pub fn render(kind: ReportKind, facts: &RunFacts, previous: Option<&str>) -> String {
    match kind {
        ReportKind::Junit => junit::render(facts),
        ReportKind::Metrics => metrics::render(facts, previous),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_flags_name_a_kind_and_a_file() {
        assert_eq!(
            "junit=out/drift.xml".parse::<ReportSpec>(),
            Ok(ReportSpec {
                kind: ReportKind::Junit,
                path: "out/drift.xml".into()
            })
        );
        assert!("xml=drift.xml".parse::<ReportSpec>().is_err());
        assert!("metrics=".parse::<ReportSpec>().is_err());
        assert!("metrics".parse::<ReportSpec>().is_err());
    }
}
