//! Plans as people and programs read them: human (Terraform-like), JSON, markdown.

mod human;
mod markdown;
mod outcome;

use serde_json::Value;

pub use human::{render_human, render_human_with, write_human};
pub use markdown::{COMMENT_LIMIT, render_markdown, render_markdown_within};
pub use outcome::{Ending, ending_of, render_outcome};

use crate::plan::Plan;
use std::io::Write;

/// `--format json`: the plan as docs/plan.md defines it.
pub fn render_json(plan: &Plan) -> String {
    let mut text = Vec::new();
    write_json(plan, &mut text).expect("a plan serializes into memory");
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// [`render_json`] straight into `out`: the JSON plan of a fleet is hundreds of megabytes,
/// and building it as one string first would hold it twice.
pub fn write_json(plan: &Plan, out: impl std::io::Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, plan)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Leaf values of a nested object by dotted path, in key order.
pub(crate) fn flatten(value: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, v) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, v, out);
                }
            }
            _ => out.push((prefix.to_owned(), value.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out.retain(|(path, _)| !path.is_empty());
    out
}

/// The value at a dotted path.
pub(crate) fn at_path<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| &v[key])
}

/// A value as the human and markdown formats show it.
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_owned(),
        other => clean(&other.to_string()),
    }
}

/// Text from a vendor (or a manifest) made safe to print: control characters (C0, DEL, C1,
/// which include ESC, CR and LF) and the bidirectional-override characters that can reorder
/// or hide text on screen are shown as escapes, so that no value can move the cursor, colour
/// the terminal, or forge a line of the plan.
pub fn clean(text: &str) -> String {
    let hostile = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hostile) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hostile(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The organization address (`org.<key>`) of any address, for grouping by organization.
pub(crate) fn organization_of(address: &str) -> String {
    address
        .split(['.', '['])
        .take(2)
        .collect::<Vec<_>>()
        .join(".")
}

/// Warnings of a kind are listed one by one up to this many; more become one counted line,
/// so that they never push the changes off the screen before the prompt.
pub(crate) const WARNINGS_LISTED: usize = 3;

/// The warnings of one kind, and how many organizations they concern.
pub(crate) struct WarningGroup<'a> {
    pub kind: crate::plan::WarningKind,
    pub warnings: Vec<&'a crate::plan::Warning>,
    pub organizations: usize,
}

impl WarningGroup<'_> {
    /// Whether there are too many to list one by one.
    pub fn is_large(&self) -> bool {
        self.warnings.len() > WARNINGS_LISTED
    }

    /// `200 domains awaiting verification in 200 organizations`
    pub fn counted(&self) -> String {
        self.kind.grouped(self.warnings.len(), self.organizations)
    }
}

/// The plan's warnings by kind, in kind order, each in plan order; acknowledged ones only when
/// `all` (`-v`).
pub(crate) fn warning_groups(plan: &Plan, all: bool) -> Vec<WarningGroup<'_>> {
    let mut by_kind: std::collections::BTreeMap<_, Vec<&crate::plan::Warning>> = Default::default();
    for w in plan.warnings.iter().filter(|w| all || !w.acknowledged) {
        by_kind.entry(w.kind).or_default().push(w);
    }
    by_kind
        .into_iter()
        .map(|(kind, warnings)| {
            let organizations: std::collections::BTreeSet<String> = warnings
                .iter()
                .map(|w| organization_of(&w.address))
                .collect();
            WarningGroup {
                kind,
                organizations: organizations.len(),
                warnings,
            }
        })
        .collect()
}

/// The line that counts live organizations no manifest declares, if there are any.
pub(crate) fn unmanaged_line(plan: &Plan) -> Option<String> {
    let unmanaged = &plan.unmanaged_organizations;
    if unmanaged.is_empty() {
        return None;
    }
    let owned = unmanaged.iter().filter(|u| u.owned).count();
    let mut line = format!(
        "{} live organization{} no manifest declares",
        unmanaged.len(),
        if unmanaged.len() == 1 { "" } else { "s" }
    );
    if owned > 0 {
        line.push_str(&format!(
            " ({owned} of them carr{} orgform's ownership marker)",
            if owned == 1 { "ies" } else { "y" }
        ));
    }
    Some(line)
}

/// The one line that stands for the acknowledged warnings, if there are any.
pub(crate) fn acknowledged_line(plan: &Plan) -> Option<String> {
    let acknowledged: Vec<&crate::plan::Warning> =
        plan.warnings.iter().filter(|w| w.acknowledged).collect();
    if acknowledged.is_empty() {
        return None;
    }
    let kinds: std::collections::BTreeSet<&str> =
        acknowledged.iter().map(|w| w.kind.name()).collect();
    let organizations: std::collections::BTreeSet<String> = acknowledged
        .iter()
        .map(|w| organization_of(&w.address))
        .collect();
    Some(format!(
        "{} acknowledged warning{} ({}) in {} organization{}, not listed",
        acknowledged.len(),
        if acknowledged.len() == 1 { "" } else { "s" },
        kinds.into_iter().collect::<Vec<_>>().join(", "),
        organizations.len(),
        if organizations.len() == 1 { "" } else { "s" },
    ))
}

/// The note shown when `--target` or `--provider` limited the plan: other changes may be
/// pending.
pub fn targeting_note(plan: &Plan) -> Option<String> {
    let providers = (!plan.providers.is_empty()).then(|| {
        clean(&format!(
            "Only provider{} {} (--provider) {} planned; the workspace's other providers were not read.",
            if plan.providers.len() == 1 { "" } else { "s" },
            plan.providers.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
            if plan.providers.len() == 1 { "was" } else { "were" },
        ))
    });
    if plan.targets.is_empty() {
        return providers;
    }
    let shown: Vec<&str> = plan.targets.iter().take(5).map(String::as_str).collect();
    let more = plan.targets.len().saturating_sub(shown.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let targets = clean(&format!(
        "Targeting is in effect (--target {}{more}): only these were planned; changes elsewhere in the workspace are not shown.",
        shown.join(", ")
    ));
    Some(match providers {
        Some(providers) => format!("{providers} {targets}"),
        None => targets,
    })
}

/// The line that closes every human and markdown plan.
pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    if s.create + s.update + s.delete + s.manual == 0 && !plan.targets.is_empty() {
        "No changes. The targeted resources match the manifests.".to_owned()
    } else if s.create + s.update + s.delete + s.manual == 0 {
        "No changes. Live state matches the manifests.".to_owned()
    } else {
        format!(
            "Plan: {} to add, {} to change, {} to destroy, {} need{} manual action.",
            s.create,
            s.update,
            s.delete,
            s.manual,
            if s.manual == 1 { "s" } else { "" }
        )
    }
}
