//! The plan as a pull-request comment: summary first, manual actions and safety violations at
//! the top, then one collapsible section per organization.

use std::collections::BTreeMap;

use super::{at_path, flatten, show, summary_line};
use crate::plan::{Action, Plan, ResourceChange};

fn diff_lines(change: &ResourceChange) -> Vec<String> {
    let before = &change.before_value();
    let after = &change.after_value();
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

/// GitHub's limit on a comment's length, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// Room kept for the closing line that says what was left out.
const CLOSING_ROOM: usize = 400;

/// The comment being written: whole blocks are added while they fit the budget, so a plan of
/// any size yields a comment GitHub accepts, with what was left out said at the end.
struct Comment {
    lines: Vec<String>,
    used: usize,
    limit: usize,
    left_out: usize,
}

impl Comment {
    /// Adds `block` (cleaned: no value's CR or LF may start a line) if it fits; reports whether
    /// it did.
    fn add(&mut self, block: Vec<String>) -> bool {
        let block: Vec<String> = block.iter().map(|l| super::clean(l)).collect();
        let size: usize = block.iter().map(|l| l.chars().count() + 1).sum();
        if self.used + size > self.limit {
            return false;
        }
        self.used += size;
        self.lines.extend(block);
        true
    }

    /// Adds `block`, or counts it as left out.
    fn add_or_skip(&mut self, block: Vec<String>) {
        if !self.add(block) {
            self.left_out += 1;
        }
    }
}

/// `<`, `>`, `&` and quotes as HTML text, so that a vendor's value cannot become markup.
fn html_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A zero-width space: after `@`, `#` and `:` it keeps GitHub from turning the text that
/// follows into a mention, an issue reference, an emoji or a link, and shows nothing.
const ZWSP: char = '\u{200B}';

/// Text that may hold vendor strings, as Markdown that renders exactly that text: every
/// character Markdown gives a meaning is backslash-escaped (so no emphasis, code span, link,
/// image, HTML or heading can start), and mentions, issue references, emoji and URLs are
/// broken by an invisible space. orgform's own messages quote values in backticks: those show
/// as backticks.
pub(crate) fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '+' | '-' | '.' | '!'
            | '|' | '<' | '>' | '~' | '&' | '=' | '"' => {
                out.push('\\');
                out.push(c);
            }
            '#' => {
                out.push_str("\\#");
                out.push(ZWSP);
            }
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            ':' if chars.peek().is_some_and(|next| !next.is_whitespace()) => {
                out.push(':');
                out.push(ZWSP);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `text` as one Markdown code span, whatever backticks it holds: the fence is one backtick
/// longer than the longest run inside, and padded when the text starts or ends with one. In a
/// table cell, `|` is escaped so that it cannot end the cell.
pub(crate) fn code_span(text: &str, in_table: bool) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`')
        || text.ends_with('`')
        || text.starts_with(' ') && text.ends_with(' ')
    {
        " "
    } else {
        ""
    };
    let body = if in_table {
        text.replace('|', "\\|")
    } else {
        text.to_owned()
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Manual actions and warnings within `limit` characters: each manual action while they fit
/// (they are also counted in the table and shown in the diffs), and warnings as one line per
/// kind with a few examples, however many there are (`--format json` lists every one).
fn notes(plan: &Plan, limit: usize) -> Comment {
    let mut out = Comment {
        lines: Vec::new(),
        used: 0,
        limit,
        left_out: 0,
    };
    let manual: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::Manual)
        .collect();
    if !manual.is_empty() {
        out.add(vec!["#### :warning: Needs manual action".into()]);
        for change in manual {
            out.add_or_skip(vec![format!(
                "- {}: {}",
                code_span(&change.address, false),
                markdown_text(
                    change
                        .message
                        .as_deref()
                        .unwrap_or("differs and cannot be changed by orgform")
                )
            )]);
        }
        out.add(vec![String::new()]);
    }
    if !plan.warnings.is_empty() {
        out.add(vec!["#### Warnings".into()]);
        for group in super::warning_groups(plan, false) {
            if !group.is_large() {
                for w in &group.warnings {
                    out.add_or_skip(vec![format!(
                        "- {}: {}",
                        code_span(&w.address, false),
                        markdown_text(&w.message)
                    )]);
                }
                continue;
            }
            let examples: Vec<String> = group.warnings[..super::WARNINGS_LISTED]
                .iter()
                .map(|w| code_span(&w.address, false))
                .collect();
            out.add_or_skip(vec![format!(
                "- {}, e.g. {}: {} (`orgform plan -v` or `--format json` lists every one)",
                group.counted(),
                examples.join(", "),
                markdown_text(&group.warnings[0].message)
            )]);
        }
        if let Some(line) = super::acknowledged_line(plan) {
            out.add(vec![format!("- {}", markdown_text(&line))]);
        }
        out.add(vec![String::new()]);
    }
    if let Some(line) = super::unmanaged_line(plan) {
        out.add(vec![
            format!("_{}; `orgform plan -v` lists them._", markdown_text(&line)),
            String::new(),
        ]);
    }
    out
}

pub fn render_markdown(plan: &Plan) -> String {
    render_markdown_within(plan, COMMENT_LIMIT)
}

/// The share of the comment that manual actions and warnings may take at most: the comment is
/// for the changes, and a fleet's steady state (every new domain pending verification) must
/// never push them out.
const NOTES_SHARE: usize = 4;

/// The markdown plan in at most `limit` characters. Changes come first: the summary, safety
/// violations, a table of counts per organization and each organization's diff while they fit;
/// then manual actions and warnings (one counted line per kind, with a few examples), which
/// together take at most a quarter of the room; a last line says what was left out.
pub fn render_markdown_within(plan: &Plan, limit: usize) -> String {
    let budget = limit.saturating_sub(CLOSING_ROOM);
    let notes = notes(plan, budget / NOTES_SHARE);
    let mut out = Comment {
        lines: Vec::new(),
        used: 0,
        limit: budget - notes.used,
        left_out: notes.left_out,
    };
    out.add(vec![
        "### orgform plan".to_owned(),
        String::new(),
        format!("**{}**", summary_line(plan)),
        String::new(),
    ]);
    if let Some(note) = super::targeting_note(plan) {
        out.add(vec![format!("_{}_", markdown_text(&note)), String::new()]);
    }
    if !plan.safety.violations.is_empty() {
        out.add(vec![
            "#### :no_entry: Safety policy violations (apply will refuse)".into(),
        ]);
        for v in &plan.safety.violations {
            out.add_or_skip(vec![format!(
                "- **{}**: {} (to allow: {})",
                v.rule,
                markdown_text(&v.message),
                markdown_text(&v.allow_with)
            )]);
        }
        out.add(vec![String::new()]);
    }
    let mut by_org: BTreeMap<String, Vec<&ResourceChange>> = BTreeMap::new();
    for change in plan.actionable() {
        by_org
            .entry(change.organization_address())
            .or_default()
            .push(change);
    }
    let actions = [
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Manual,
    ];
    let count = |changes: &[&ResourceChange], action: Action| {
        changes.iter().filter(|c| c.action == action).count()
    };
    if by_org.len() > 1 {
        out.add(vec![
            "| organization | create | update | delete | manual |".into(),
            "|---|---:|---:|---:|---:|".into(),
        ]);
        for (org, changes) in &by_org {
            let cells: Vec<String> = actions
                .iter()
                .map(|a| count(changes, *a).to_string())
                .collect();
            out.add_or_skip(vec![format!(
                "| {} | {} |",
                code_span(org, true),
                cells.join(" | ")
            )]);
        }
        out.add(vec![String::new()]);
    }
    for (org, changes) in &by_org {
        let counts: Vec<String> = actions
            .iter()
            .filter_map(|a| {
                let n = count(changes, *a);
                (n > 0).then(|| format!("{n} {}", a.as_str()))
            })
            .collect();
        let mut block = vec![
            format!(
                "<details><summary><code>{}</code>: {}</summary>",
                html_text(org),
                counts.join(", ")
            ),
            String::new(),
            "```diff".into(),
        ];
        for change in changes {
            block.extend(diff_lines(change));
        }
        block.extend([
            "```".into(),
            String::new(),
            "</details>".into(),
            String::new(),
        ]);
        out.add_or_skip(block);
    }
    out.lines.extend(notes.lines);
    let mut lines = out.lines;
    if out.left_out > 0 {
        lines.push(format!(
            "_{} item{} left out to stay within GitHub's {limit}-character comment limit. The whole plan: `orgform show plan.json` on the plan saved with `plan --out plan.json` (e.g. the job's artifact), or `orgform plan` locally._",
            out.left_out,
            if out.left_out == 1 { " was" } else { "s were" }
        ));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}
