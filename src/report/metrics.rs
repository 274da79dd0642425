//! The metrics report, in the OpenMetrics text format (which Prometheus, node_exporter's
//! textfile collector and the Pushgateway read): what the plan found per provider and action,
//! what the refresh cost, and whether and when the run succeeded. Every gauge is written on
//! every run, zeros included, so an alert on `orgform_plan_changes > 0` clears when drift does.
//! A failed run cannot count changes: it keeps the last run's counts (with
//! `orgform_last_run_success 0`), so that a drift alert does not resolve because the vendor was
//! down.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use super::RunFacts;
use crate::plan::Action;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabels {
    provider: String,
    action: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

const ACTIONS: [Action; 4] = [
    Action::Create,
    Action::Update,
    Action::Delete,
    Action::Manual,
];

/// The `orgform_plan_changes` samples of an earlier report: (provider, action, value).
fn earlier_changes(previous: &str) -> Vec<(String, String, i64)> {
    previous
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("orgform_plan_changes{")?;
            let (labels, value) = rest.split_once("} ")?;
            let label = |name: &str| {
                labels.split(',').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    (key == name).then(|| value.trim_matches('"').to_owned())
                })
            };
            Some((
                label("provider")?,
                label("action")?,
                value.trim().parse().ok()?,
            ))
        })
        .collect()
}

pub fn render(facts: &RunFacts, previous: Option<&str>) -> String {
    let mut registry = Registry::with_prefix("orgform");
    let changes = Family::<ChangeLabels, Gauge>::default();
    let requests = Family::<ProviderLabels, Gauge>::default();
    let refresh_seconds = Gauge::<f64, AtomicU64>::default();
    let last_run = Gauge::<f64, AtomicU64>::default();
    let success = Gauge::<i64>::default();
    registry.register(
        "plan_changes",
        "Resources the last plan would change (create, update, delete) or that need a person (manual)",
        changes.clone(),
    );
    registry.register(
        "refresh_requests",
        "Requests the last plan's refresh made to the provider",
        requests.clone(),
    );
    registry.register(
        "refresh_duration_seconds",
        "Wall time of the last plan's refresh",
        refresh_seconds.clone(),
    );
    registry.register(
        "last_run_timestamp_seconds",
        "When the last plan ended, in seconds since the Unix epoch",
        last_run.clone(),
    );
    registry.register(
        "last_run_success",
        "1 when the last plan compared live state with the manifests, 0 when it failed",
        success.clone(),
    );
    let mut providers: Vec<&str> = facts.requests.keys().map(String::as_str).collect();
    providers.extend(facts.organizations.iter().map(|(p, _)| p.as_str()));
    providers.sort();
    providers.dedup();
    if facts.succeeded() {
        for provider in &providers {
            for action in ACTIONS {
                let count = facts.plan.map_or(0, |plan| {
                    plan.resource_changes
                        .iter()
                        .filter(|c| &*c.provider == *provider && c.action == action)
                        .count()
                });
                changes
                    .get_or_create(&ChangeLabels {
                        provider: provider.to_string(),
                        action: action.as_str().to_owned(),
                    })
                    .set(count as i64);
            }
        }
    }
    if !facts.succeeded() {
        for (provider, action, value) in previous.map(earlier_changes).unwrap_or_default() {
            changes
                .get_or_create(&ChangeLabels { provider, action })
                .set(value);
        }
    }
    for (provider, count) in &facts.requests {
        requests
            .get_or_create(&ProviderLabels {
                provider: provider.clone(),
            })
            .set(*count as i64);
    }
    refresh_seconds.set(facts.refresh_seconds);
    last_run.set(facts.finished_at);
    success.set(i64::from(facts.succeeded()));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("writing to a String");
    text
}
