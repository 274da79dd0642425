//! Templates: named partial organization documents in `orgform.yaml`, which an organization
//! document takes with `extends: [name, …]`.
//!
//! Expansion happens on the node tree, before decoding, so that a template's fields are checked
//! exactly as if the document had written them, and every diagnostic still points at where the
//! value was written (the template's nodes keep their file). Merge: mappings merge key by key;
//! scalars and lists from the document (or the later template) win whole. A template may extend
//! others; a cycle is an error.

use std::collections::BTreeMap;

/// The most nodes one document's expansion may produce, counted over every template it
/// expands (as alias expansion is counted): templates that extend each other as a diamond
/// double with each level, and 40 levels would need 2^40 merges.
pub const MAX_EXPANDED_NODES: usize = 100_000;

use super::decode::{DecodeCx, map_entries};
use super::node::{Node, Value};
use super::{Key, ManifestError, Span, Spanned, did_you_mean};

/// One template, as written in `orgform.yaml`.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: Spanned<String>,
    /// Its fields, marked as written in `orgform.yaml`.
    pub node: Node,
}

/// Reads `templates:` (name → mapping), keeping each template's nodes for expansion.
pub fn decode_templates(node: &Node, cx: &mut DecodeCx) -> Vec<Template> {
    let Some(entries) = map_entries(node, "a mapping of template names to fields", cx) else {
        return Vec::new();
    };
    let mut templates = Vec::new();
    for (name, value) in entries {
        if !Key::is_valid(name.value) {
            cx.report(
                ManifestError::new("invalid_key", "invalid template name")
                    .at(name.span, "not a valid name")
                    .help("template names are written like keys: 1-63 characters of a-z, 0-9, `_` and `-`"),
            );
            continue;
        }
        if !matches!(value.value, Value::Map(_)) {
            cx.type_error(value, "a mapping (template fields)");
            continue;
        }
        for (key, _) in map_entries(value, "a mapping (template fields)", cx).unwrap_or_default() {
            if ["organization", "id", "previous_keys"].contains(&key.value) {
                cx.report(
                    ManifestError::new(
                        "invalid_value",
                        format!("`{}` cannot come from a template", key.value),
                    )
                    .at(key.span, "identifies one organization")
                    .help("write it in each organization document"),
                );
            }
        }
        let mut node = value.clone();
        node.written_in(cx.file);
        templates.push(Template {
            name: Spanned::new(name.value.to_owned(), name.span),
            node,
        });
    }
    templates
}

/// The document `node` with the templates it extends merged in; `None` (after reporting why)
/// when one is unknown or the templates extend each other in a cycle.
pub fn expand(node: &Node, templates: &[Template], cx: &mut DecodeCx) -> Option<(Node, Vec<Span>)> {
    let Value::Map(entries) = &node.value else {
        return Some((node.clone(), Vec::new()));
    };
    if !entries.iter().any(|(k, _)| k.as_str() == Some("extends")) {
        return Some((node.clone(), Vec::new()));
    }
    let by_name: BTreeMap<&str, &Template> =
        templates.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut uses = Vec::new();
    let mut budget = MAX_EXPANDED_NODES;
    let merged = resolve(node, &by_name, &mut Vec::new(), &mut uses, &mut budget, cx)?;
    Some((merged, uses))
}

/// Where a document writes `extends:`, if it does.
pub fn extends_span(node: &Node, cx: &DecodeCx) -> Option<Span> {
    let Value::Map(entries) = &node.value else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some("extends"))
        .map(|(_, v)| cx.span(v))
}

/// `node` with everything it extends merged in, the later winning. `chain` holds the templates
/// being expanded (for cycles); `uses` collects the spans of every `extends` entry followed;
/// `budget` is what is left of [`MAX_EXPANDED_NODES`].
fn resolve(
    node: &Node,
    templates: &BTreeMap<&str, &Template>,
    chain: &mut Vec<String>,
    uses: &mut Vec<Span>,
    budget: &mut usize,
    cx: &mut DecodeCx,
) -> Option<Node> {
    let Value::Map(entries) = &node.value else {
        return Some(node.clone());
    };
    let Some((_, extends)) = entries.iter().find(|(k, _)| k.as_str() == Some("extends")) else {
        return Some(node.clone());
    };
    let names: Vec<&Node> = match &extends.value {
        Value::Seq(items) => items.iter().collect(),
        _ => {
            cx.type_error(extends, "a list of template names");
            return None;
        }
    };
    let mut base: Option<Node> = None;
    for name_node in names {
        let span = cx.span(name_node);
        let Some(name) = name_node.as_str() else {
            cx.type_error(name_node, "a template name");
            return None;
        };
        let Some(template) = templates.get(name) else {
            let known: Vec<&str> = templates.keys().copied().collect();
            let help = match did_you_mean(name, known.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None if known.is_empty() => {
                    "declare it under `templates:` in orgform.yaml".to_owned()
                }
                None => format!("templates in orgform.yaml: {}", known.join(", ")),
            };
            cx.report(
                ManifestError::new("unknown_template", format!("no template `{name}`"))
                    .at(span, "extended here")
                    .help(help),
            );
            return None;
        };
        if let Some(start) = chain.iter().position(|c| c == name) {
            let mut cycle = chain[start..].to_vec();
            cycle.push(name.to_owned());
            cx.report(
                ManifestError::new(
                    "template_cycle",
                    format!(
                        "templates extend each other in a cycle: {}",
                        cycle.join(" → ")
                    ),
                )
                .at(span, "extended here")
                .also_at(template.name.span, format!("`{name}` is declared here"))
                .help("a template may extend others, but never itself through them"),
            );
            return None;
        }
        uses.push(span);
        chain.push(name.to_owned());
        let expanded = resolve(&template.node, templates, chain, uses, budget, cx);
        let expanded = match expanded {
            Some(expanded) => match budget.checked_sub(node_count(&expanded)) {
                Some(left) => {
                    *budget = left;
                    Some(expanded)
                }
                None => {
                    cx.report(
                        ManifestError::new(
                            "template_too_large",
                            format!(
                                "expanding the templates produces more than {MAX_EXPANDED_NODES} values: {}",
                                chain.join(" → ")
                            ),
                        )
                        .at(span, "extended here")
                        .also_at(template.name.span, format!("`{name}` is declared here"))
                        .help("templates that each extend several others grow with every level; extend each template once"),
                    );
                    // Reported once: the caller's frames stop without a report of their own.
                    *budget = 0;
                    chain.pop();
                    return None;
                }
            },
            None => None,
        };
        chain.pop();
        let expanded = expanded?;
        base = Some(match base {
            None => expanded,
            Some(earlier) => merge(earlier, expanded),
        });
    }
    let own = without_extends(node);
    Some(match base {
        None => own,
        // The `extends` entry stays (the document's own), so decoding accepts and ignores it.
        Some(base) => merge(without_extends(&base), node_with_own(own, extends)),
    })
}

/// The nodes of `node`: itself and everything under it.
fn node_count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(node_count).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| node_count(k) + node_count(v))
            .sum(),
        _ => 0,
    }
}

fn without_extends(node: &Node) -> Node {
    let mut node = node.clone();
    if let Value::Map(entries) = &mut node.value {
        entries.retain(|(k, _)| k.as_str() != Some("extends"));
    }
    node
}

fn node_with_own(mut own: Node, extends: &Node) -> Node {
    if let Value::Map(entries) = &mut own.value {
        entries.push((
            Node {
                span: extends.span,
                value: Value::Str("extends".to_owned()),
            },
            extends.clone(),
        ));
    }
    own
}

/// `over` on top of `base`: mappings key by key, anything else from `over` whole.
fn merge(base: Node, over: Node) -> Node {
    match (base.value, over.value) {
        (Value::Map(mut base_entries), Value::Map(over_entries)) => {
            for (key, value) in over_entries {
                match base_entries
                    .iter_mut()
                    .find(|(k, _)| k.as_str().is_some() && k.as_str() == key.as_str())
                {
                    Some(slot) => {
                        let earlier = std::mem::replace(
                            &mut slot.1,
                            Node {
                                span: value.span,
                                value: Value::Null,
                            },
                        );
                        slot.1 = merge(earlier, value);
                        slot.0 = key;
                    }
                    None => base_entries.push((key, value)),
                }
            }
            Node {
                span: over.span,
                value: Value::Map(base_entries),
            }
        }
        (_, value) => Node {
            span: over.span,
            value,
        },
    }
}
