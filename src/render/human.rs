//! The human plan: `+` create, `~` update (`old -> new`, multi-line values diffed line by line),
//! `-` delete, `!` manual; warnings and safety violations before the summary.

use owo_colors::OwoColorize;
use serde_json::Value;

use super::{at_path, clean, flatten, show, summary_line};
use crate::plan::{Action, Plan, ResourceChange, Warning};

struct Paint {
    color: bool,
}

impl Paint {
    fn apply(&self, text: &str, style: fn(&str) -> String) -> String {
        if self.color {
            style(text)
        } else {
            text.to_owned()
        }
    }
    fn green(&self, t: &str) -> String {
        self.apply(t, |t| t.green().to_string())
    }
    fn yellow(&self, t: &str) -> String {
        self.apply(t, |t| t.yellow().to_string())
    }
    fn red(&self, t: &str) -> String {
        self.apply(t, |t| t.red().to_string())
    }
    fn magenta(&self, t: &str) -> String {
        self.apply(t, |t| t.magenta().to_string())
    }
    fn bold(&self, t: &str) -> String {
        self.apply(t, |t| t.bold().to_string())
    }
}

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "-",
        Action::Manual => "!",
        Action::NoOp => " ",
    }
}

fn headline(change: &ResourceChange) -> String {
    let what = match change.action {
        Action::Create => "will be created",
        Action::Update => "will be updated in-place",
        Action::Delete if change.action_reason == crate::plan::Reason::Pruned => {
            "will be destroyed (pruned: no manifest declares it)"
        }
        Action::Delete => "will be destroyed",
        Action::Manual => "needs manual action",
        Action::NoOp => "is unchanged",
    };
    format!("# {} {what}", clean(&change.address))
}

/// Lines of an `old -> new` change; multi-line strings as a line diff.
fn changed_value(p: &Paint, path: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
    let multi = |v: &Value| v.as_str().is_some_and(|s| s.contains('\n'));
    if multi(before) || multi(after) {
        out.push(format!("      {} {}:", p.yellow("~"), clean(path)));
        // A final newline is not a change of the last line.
        let line_ended = |v: &Value| {
            format!(
                "{}\n",
                v.as_str().unwrap_or_default().trim_end_matches('\n')
            )
        };
        let (old, new) = (line_ended(before), line_ended(after));
        for change in similar::TextDiff::from_lines(&old, &new).iter_all_changes() {
            let line = clean(change.value().trim_end_matches('\n'));
            match change.tag() {
                similar::ChangeTag::Delete => {
                    out.push(format!("          {}", p.red(&format!("- {line}"))))
                }
                similar::ChangeTag::Insert => {
                    out.push(format!("          {}", p.green(&format!("+ {line}"))))
                }
                similar::ChangeTag::Equal => out.push(format!("            {line}")),
            }
        }
    } else {
        out.push(format!(
            "      {} {} = {} -> {}",
            p.yellow("~"),
            clean(path),
            show(before),
            show(after)
        ));
    }
}

fn render_change(p: &Paint, change: &ResourceChange, out: &mut Vec<String>) {
    out.push(format!("  {}", p.bold(&headline(change))));
    let colored = |s: &str| match change.action {
        Action::Create => p.green(s),
        Action::Update => p.yellow(s),
        Action::Delete => p.red(s),
        _ => p.magenta(s),
    };
    out.push(format!(
        "  {} {}",
        colored(symbol(change.action)),
        clean(&change.address)
    ));
    match change.action {
        Action::Create => {
            for (path, value) in flatten(&change.after_value()) {
                let path = clean(&path);
                out.push(format!("      {} {path} = {}", p.green("+"), show(&value)));
            }
        }
        Action::Delete => {
            for (path, value) in flatten(&change.before_value()) {
                let path = clean(&path);
                out.push(format!("      {} {path} = {}", p.red("-"), show(&value)));
            }
        }
        Action::Update | Action::Manual => {
            let before = &change.before_value();
            let after = &change.after_value();
            for path in &change.changed_paths {
                changed_value(p, path, at_path(before, path), at_path(after, path), out);
            }
            if change.action == Action::Manual && change.changed_paths.is_empty() {
                let shown = if change.after.is_some() {
                    after
                } else {
                    before
                };
                for (path, value) in flatten(shown) {
                    out.push(format!(
                        "      {} {} = {}",
                        p.magenta("!"),
                        clean(&path),
                        show(&value)
                    ));
                }
            }
        }
        Action::NoOp => {}
    }
    if let Some(message) = &change.message {
        out.push(format!(
            "      {}",
            p.magenta(&format!("=> {}", clean(message)))
        ));
    }
    out.push(String::new());
}

/// The warnings, grouped by kind unless `all` (`-v`; `--format json` lists every one too): a
/// large group is one counted line with a few examples.
fn grouped_warnings(plan: &Plan, all: bool) -> Vec<String> {
    let line = |w: &Warning| format!("  - {}: {}", clean(&w.address), clean(&w.message));
    let mut out = Vec::new();
    for group in super::warning_groups(plan, all) {
        if all || !group.is_large() {
            out.extend(group.warnings.iter().map(|w| line(w)));
            continue;
        }
        out.push(format!("  - {}, e.g.:", group.counted()));
        out.extend(
            group.warnings[..super::WARNINGS_LISTED]
                .iter()
                .map(|w| format!("  {}", line(w))),
        );
        out.push(format!(
            "      … and {} more (`-v` or `--format json` lists every warning)",
            group.warnings.len() - super::WARNINGS_LISTED
        ));
    }
    if !all && let Some(line) = super::acknowledged_line(plan) {
        out.push(format!("  - {line} (`-v` or `--format json` lists them)"));
    }
    out
}

/// The plan for a terminal or a log.
pub fn render_human(plan: &Plan, color: bool) -> String {
    render_human_with(plan, color, false)
}

/// [`render_human`], listing every warning when `all_warnings` (`-v`).
pub fn render_human_with(plan: &Plan, color: bool, all_warnings: bool) -> String {
    let mut text = Vec::new();
    write_human(plan, color, all_warnings, &mut text).expect("writing to memory");
    String::from_utf8(text).expect("the plan renders as UTF-8")
}

/// Writes the human plan to `w` as it is rendered, change by change: the first plan of a fleet
/// is millions of lines, which are never all held at once.
pub fn write_human(
    plan: &Plan,
    color: bool,
    all_warnings: bool,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let p = Paint { color };
    let mut out = Vec::new();
    let mut changes = plan.actionable().peekable();
    if changes.peek().is_some() {
        writeln!(w, "orgform will perform the following actions:")?;
        writeln!(w)?;
        for change in changes {
            render_change(&p, change, &mut out);
            for line in out.drain(..) {
                writeln!(w, "{line}")?;
            }
        }
    }
    if !plan.warnings.is_empty() {
        out.push(p.yellow("Warnings:"));
        out.extend(grouped_warnings(plan, all_warnings));
        out.push(String::new());
    }
    if let Some(line) = super::unmanaged_line(plan) {
        if all_warnings {
            out.push(p.yellow(&format!("{line}:")));
            for u in &plan.unmanaged_organizations {
                let mut what = format!(
                    "  - {}: `{}` (id {}",
                    u.provider,
                    clean(&u.name),
                    clean(&u.id)
                );
                if let Some(external_id) = &u.external_id {
                    what.push_str(&format!(", external id {}", clean(external_id)));
                }
                if u.owned {
                    what.push_str(", orgform's");
                }
                what.push(')');
                out.push(what);
            }
        } else {
            out.push(p.yellow(&format!(
                "{line} (`-v` or `--format json` lists them; `orgform export` writes their manifests)."
            )));
        }
        out.push(String::new());
    }
    if !plan.safety.violations.is_empty() {
        out.push(p.red("Safety policy violations (apply will refuse this plan):"));
        for v in &plan.safety.violations {
            out.push(format!("  - {}: {}", v.rule, clean(&v.message)));
            out.push(format!("    to allow it: {}", clean(&v.allow_with)));
        }
        out.push(String::new());
    }
    if let Some(note) = super::targeting_note(plan) {
        out.push(p.yellow(&note));
        out.push(String::new());
    }
    out.push(p.bold(&summary_line(plan)));
    for line in out {
        writeln!(w, "{line}")?;
    }
    Ok(())
}
