//! Plans as people and programs read them: human (Terraform-like), JSON, markdown.

mod human;
mod markdown;

use serde_json::Value;

pub use human::render_human;
pub use markdown::render_markdown;

use crate::plan::Plan;

/// `--format json`: the plan as DESIGN.md §3 defines it.
pub fn render_json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).expect("a plan serializes");
    text.push('\n');
    text
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
        other => other.to_string(),
    }
}

/// The line that closes every human and markdown plan.
pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    if s.create + s.update + s.delete + s.manual == 0 {
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
