//! The plan as a pull-request comment: summary first, manual actions and safety violations at
//! the top, then one collapsible section per organization.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{at_path, flatten, show, summary_line};
use crate::plan::{Action, Plan, ResourceChange};

fn diff_lines(change: &ResourceChange) -> Vec<String> {
    let null = Value::Null;
    let before = change.before.as_ref().unwrap_or(&null);
    let after = change.after.as_ref().unwrap_or(&null);
    let mut lines = vec![format!(
        "{} {} ({})",
        match change.action {
            Action::Create => "+",
            Action::Update => "~",
            Action::Delete => "-",
            _ => "!",
        },
        change.address,
        change.action.as_str()
    )];
    match change.action {
        Action::Create => lines.extend(
            flatten(after)
                .into_iter()
                .map(|(p, v)| format!("+     {p} = {}", show(&v))),
        ),
        Action::Delete => lines.extend(
            flatten(before)
                .into_iter()
                .map(|(p, v)| format!("-     {p} = {}", show(&v))),
        ),
        _ => lines.extend(change.changed_paths.iter().map(|p| {
            format!(
                "!     {p} = {} -> {}",
                show(at_path(before, p)),
                show(at_path(after, p))
            )
        })),
    }
    lines
}

pub fn render_markdown(plan: &Plan) -> String {
    let mut out = vec![
        "### orgform plan".to_owned(),
        String::new(),
        format!("**{}**", summary_line(plan)),
        String::new(),
    ];
    if !plan.safety.violations.is_empty() {
        out.push("#### :no_entry: Safety policy violations (apply will refuse)".into());
        for v in &plan.safety.violations {
            out.push(format!(
                "- **{}**: {} (to allow: {})",
                v.rule, v.message, v.allow_with
            ));
        }
        out.push(String::new());
    }
    let manual: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::Manual)
        .collect();
    if !manual.is_empty() {
        out.push("#### :warning: Needs manual action".into());
        for change in manual {
            out.push(format!(
                "- `{}`: {}",
                change.address,
                change
                    .message
                    .as_deref()
                    .unwrap_or("differs and cannot be changed by orgform")
            ));
        }
        out.push(String::new());
    }
    if !plan.warnings.is_empty() {
        out.push("#### Warnings".into());
        for w in &plan.warnings {
            out.push(format!("- `{}`: {}", w.address, w.message));
        }
        out.push(String::new());
    }
    let mut by_org: BTreeMap<String, Vec<&ResourceChange>> = BTreeMap::new();
    for change in plan.actionable() {
        let org = change
            .address
            .split(['.', '['])
            .take(2)
            .collect::<Vec<_>>()
            .join(".");
        by_org.entry(org).or_default().push(change);
    }
    for (org, changes) in by_org {
        let counts: Vec<String> = [
            Action::Create,
            Action::Update,
            Action::Delete,
            Action::Manual,
        ]
        .iter()
        .filter_map(|a| {
            let n = changes.iter().filter(|c| c.action == *a).count();
            (n > 0).then(|| format!("{n} {}", a.as_str()))
        })
        .collect();
        // Inside HTML: a vendor's `<`, `>` or `&` must not become markup.
        let org = org
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        out.push(format!(
            "<details><summary><code>{org}</code>: {}</summary>",
            counts.join(", ")
        ));
        out.push(String::new());
        out.push("```diff".into());
        for change in changes {
            out.extend(diff_lines(change));
        }
        out.push("```".into());
        out.push(String::new());
        out.push("</details>".into());
        out.push(String::new());
    }
    // Every line is cleaned: a value's CR or LF must not start a line of its own.
    let mut text = out
        .iter()
        .map(|line| super::clean(line))
        .collect::<Vec<_>>()
        .join("\n");
    text.push('\n');
    text
}
