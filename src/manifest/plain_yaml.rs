//! A fast path from the YAML parser's events straight to [`Node`]s, for the plain YAML that
//! manifests are almost always written in.
//!
//! Going through serde-saphyr costs about twice the parser itself, mostly in its `Spanned`
//! protocol (every node is deserialized as a small struct with two locations). A fleet
//! repository of 100,000 manifests spent most of `validate` there. This module builds nodes from
//! the same parser (granit, re-exported by serde-saphyr) with the same options, but gives up —
//! returns `None` — as soon as the text leaves the subset whose meaning is obvious: any tag,
//! anchor, alias, merge key, a scalar that might be a number in another spelling, deep nesting, a
//! size near a budget, or any parse error. The caller then parses the file with serde-saphyr, so
//! every error message, limit and YAML rule stays serde-saphyr's. A test compares both paths on
//! every fixture and on generated documents.

use std::borrow::Cow;

use serde_saphyr::Budget;
use serde_saphyr::granit_parser::{self, Event, Marker, Parser, ScalarStyle, Span};

use super::node::{Node, NodeSpan, Value};

/// Deeper documents go to serde-saphyr, which enforces the real limit (manifests need about 6).
const MAX_FAST_DEPTH: usize = 16;

/// The documents of `text` that are not null, as serde-saphyr would give them, or `None` when
/// the text is outside the plain subset (the caller must then use serde-saphyr).
pub fn parse_plain(text: &str, budget: &Budget) -> Option<Vec<Node>> {
    // Well inside every budget serde-saphyr counts, so that none can be breached here unseen.
    if text.len() > budget.max_total_scalar_bytes / 2 {
        return None;
    }
    let defaults = granit_parser::Options::default();
    let mut options = granit_parser::Options::default();
    options.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    options.flow_nesting_limit = budget.flow_nesting_limit;
    options.block_nesting_limit = defaults
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    let parser = Parser::new_from_str_with_options(text, options);

    let mut builder = Builder::default();
    let mut events = 0usize;
    for item in parser {
        let (event, span) = item.ok()?;
        events += 1;
        if events > budget.max_events / 2 || builder.nodes > budget.max_nodes / 2 {
            return None;
        }
        builder.event(event, &span)?;
        if builder.documents.len() > budget.max_documents / 2 {
            return None;
        }
    }
    builder.finished.then_some(builder.documents)
}

enum Frame {
    Seq(NodeSpan, Vec<Node>),
    Map(NodeSpan, Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    documents: Vec<Node>,
    nodes: usize,
    finished: bool,
}

impl Builder {
    /// Takes one event; `None` leaves the fast path.
    fn event(&mut self, event: Event<'_>, span: &Span) -> Option<()> {
        match event {
            Event::StreamStart | Event::DocumentStart(..) => Some(()),
            Event::DocumentEnd => self.stack.is_empty().then_some(()),
            Event::StreamEnd => {
                self.finished = self.stack.is_empty();
                Some(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() || text == "<<" {
                    return None;
                }
                let value = resolve(text, style)?;
                self.node(Node {
                    span: node_span(span),
                    value,
                })
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag)
                if anchor != 0 || tag.is_some() || self.stack.len() >= MAX_FAST_DEPTH =>
            {
                None
            }
            Event::SequenceStart(..) => {
                self.stack.push(Frame::Seq(node_span(span), Vec::new()));
                Some(())
            }
            Event::MappingStart(..) => {
                self.stack
                    .push(Frame::Map(node_span(span), Vec::new(), None));
                Some(())
            }
            Event::SequenceEnd => match self.stack.pop()? {
                Frame::Seq(span, items) => self.node(Node {
                    span,
                    value: Value::Seq(items),
                }),
                Frame::Map(..) => None,
            },
            Event::MappingEnd => match self.stack.pop()? {
                Frame::Map(span, entries, None) => self.node(Node {
                    span,
                    value: Value::Map(entries),
                }),
                _ => None,
            },
            // Aliases, and anything a later parser version adds.
            _ => None,
        }
    }

    /// Places a finished node in its parent, or ends a document with it.
    fn node(&mut self, node: Node) -> Option<()> {
        self.nodes += 1;
        match self.stack.last_mut() {
            None => {
                // serde-saphyr skips null documents; a scalar document is rare enough to leave
                // to it entirely.
                if !matches!(node.value, Value::Map(_) | Value::Seq(_)) {
                    return None;
                }
                self.documents.push(node);
            }
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, entries, pending)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                // A mapping or list as a key: serde-saphyr's business.
                None if matches!(node.value, Value::Map(_) | Value::Seq(_)) => return None,
                None => *pending = Some(node),
            },
        }
        Some(())
    }
}

/// Where serde-saphyr would say the node is: bytes from the event's start to its end.
fn node_span(span: &Span) -> NodeSpan {
    let at = |m: &Marker| m.byte_offset();
    let (offset, len) = match (at(&span.start), at(&span.end)) {
        (Some(start), Some(end)) => (start, end.saturating_sub(start)),
        _ => (span.start.index(), span.len()),
    };
    NodeSpan {
        offset,
        len,
        file: None,
    }
}

/// An untagged scalar's value by serde-saphyr's rules (with `strict_booleans` and
/// `leading_zero_numbers_as_strings`), or `None` where those rules are not obvious.
fn resolve(text: Cow<'_, str>, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::Str(text.into_owned()));
    }
    match &*text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let bytes = text.as_bytes();
    let unsigned = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let might_be_number = matches!(bytes.first(), Some(b'0'..=b'9' | b'+' | b'-' | b'.'));
    if !might_be_number {
        // Rust's float parser takes `inf` and `nan` spelled out, but they are not finite, and
        // serde-saphyr then keeps them as strings.
        return Some(Value::Str(text.into_owned()));
    }
    // A byte that appears in no spelling of a number (decimal, 0x/0o/0b, exponent, `.inf`,
    // `.nan`, underscores) makes it a string: "12 Main St", "2024-01-01T10:00:00Z" is not
    // obvious (`-`, `:`), but "a@b.example" and "1 Main St" are.
    let numeric_byte = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'_');
    if !bytes.iter().all(numeric_byte) {
        return Some(Value::Str(text.into_owned()));
    }
    let plain_decimal = !unsigned.is_empty()
        && unsigned.len() <= 18
        && unsigned.iter().all(u8::is_ascii_digit)
        && (unsigned[0] != b'0' || unsigned.len() == 1)
        && bytes != b"-0";
    if plain_decimal {
        return text.parse().ok().map(Value::Int);
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::manifest::parse_options;

    /// Both paths' documents, as comparable text; `None` where the fast path steps aside.
    fn both(text: &str) -> Option<(String, String)> {
        let fast = parse_plain(text, &super::super::load::parse_budget())?;
        let full =
            serde_saphyr::from_str_multiple_with_options::<Node, Vec<Node>>(text, parse_options());
        let full = match full {
            Ok(documents) => format!("{documents:?}"),
            Err(error) => format!("serde-saphyr refused it: {error}"),
        };
        Some((format!("{fast:?}"), full))
    }

    #[test]
    fn the_fast_path_reads_every_example_and_fixture_as_serde_saphyr_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        // The packaged crate ships no examples or fixtures; in the repository they are there.
        if !root.join("tests/fixtures").is_dir() {
            eprintln!("skipped: no tests/fixtures beside the sources (a packaged crate)");
            return;
        }
        let (mut compared, mut stepped_aside) = (0, 0);
        let mut dirs = vec![root.join("examples"), root.join("tests/fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    continue;
                }
                match both(&text) {
                    Some((fast, full)) => {
                        assert_eq!(fast, full, "{}", path.display());
                        compared += 1;
                    }
                    None => stepped_aside += 1,
                }
            }
        }
        // The comparison must have compared something: most manifests are plain YAML.
        assert!(
            compared > 40 && compared > stepped_aside,
            "{compared} compared, {stepped_aside} not"
        );
    }

    fn yamlish() -> impl Strategy<Value = String> {
        let token = prop_oneof![
            Just("a: "),
            Just("key: "),
            Just("\"k y\": "),
            Just("- "),
            Just("\n"),
            Just("\n  "),
            Just("\n    "),
            Just("\n- "),
            Just("\n  - "),
            Just("{"),
            Just("}"),
            Just("["),
            Just("]"),
            Just(", "),
            Just(": "),
            Just("---\n"),
            Just("...\n"),
            Just("x"),
            Just("12"),
            Just("-3"),
            Just("0"),
            Just("-0"),
            Just("007"),
            Just("1.5"),
            Just("1e400"),
            Just("0x1F"),
            Just(".inf"),
            Just("inf"),
            Just("true"),
            Just("True"),
            Just("yes"),
            Just("null"),
            Just("~"),
            Just("''"),
            Just("'q'"),
            Just("\"d\\n\""),
            Just("|\n  lit\n"),
            Just(">\n  fold\n"),
            Just("12 Main St"),
            Just("a@b.example"),
            Just("2024-01-01"),
            Just("<<"),
            Just("&a "),
            Just("*a"),
            Just("!!str "),
            Just("? "),
            Just("# c"),
            Just("\t"),
            Just(" "),
            Just("ä"),
            Just("\u{feff}"),
            Just("\r\n"),
        ];
        prop::collection::vec(token, 0..30).prop_map(|t| t.concat())
    }

    /// Well-formed documents, so that most reach the comparison.
    #[derive(Debug, Clone)]
    enum Tree {
        Leaf(&'static str),
        Map(bool, Vec<(&'static str, Tree)>),
        Seq(bool, Vec<Tree>),
    }

    /// Scalars whose meaning is plain, and (rarer) ones the fast path must step aside for or get
    /// exactly right.
    const ORDINARY: &[&str] = &[
        "x",
        "acme corp",
        "12",
        "-3",
        "0",
        "true",
        "False",
        "yes",
        "null",
        "~",
        "''",
        "'q'",
        "\"d\\n\"",
        "\"\"",
        "12 Main St",
        "a@b.example",
        "https://x.example/a?b=c",
        "ä.example",
        "'007'",
    ];
    const TRICKY: &[&str] = &[
        "-0",
        "007",
        "1.5",
        "1e400",
        "0x1F",
        ".inf",
        "inf",
        "2024-01-01",
        "<<",
        "*a",
        "&a x",
        "!!str 5",
        "99999999999999999999",
        "1_000",
        "+1",
    ];

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            30 => prop::sample::select(ORDINARY),
            1 => prop::sample::select(TRICKY),
        ]
        .prop_map(Tree::Leaf);
        leaf.prop_recursive(4, 24, 4, |inner| {
            let key = prop::sample::select(&["a", "name", "12", "k y", "true", "null"][..]);
            prop_oneof![
                (
                    any::<bool>(),
                    prop::collection::vec((key, inner.clone()), 0..4)
                )
                    .prop_map(|(f, e)| Tree::Map(f, e)),
                (any::<bool>(), prop::collection::vec(inner, 0..4))
                    .prop_map(|(f, i)| Tree::Seq(f, i)),
            ]
        })
    }

    fn render(tree: &Tree, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match tree {
            _ if inline(tree) => render_flow(tree, out),
            Tree::Map(_, entries) => {
                for (key, value) in entries {
                    out.push_str(&format!("\n{pad}{key}:"));
                    if inline(value) {
                        out.push(' ');
                    }
                    render(value, indent + 2, out);
                }
            }
            Tree::Leaf(_) => unreachable!("leaves are inline"),
            Tree::Seq(_, items) => {
                for item in items {
                    out.push_str(&format!("\n{pad}-"));
                    if inline(item) {
                        out.push(' ');
                    }
                    render(item, indent + 2, out);
                }
            }
        }
    }

    /// Written on the line of its key or dash (in flow style): leaves, flow collections and
    /// empty ones.
    fn inline(tree: &Tree) -> bool {
        match tree {
            Tree::Leaf(_) => true,
            Tree::Map(flow, entries) => *flow || entries.is_empty(),
            Tree::Seq(flow, items) => *flow || items.is_empty(),
        }
    }

    fn render_flow(tree: &Tree, out: &mut String) {
        match tree {
            Tree::Leaf(s) => out.push_str(s),
            Tree::Map(_, entries) => {
                out.push('{');
                for (n, (key, value)) in entries.iter().enumerate() {
                    out.push_str(if n == 0 { "" } else { ", " });
                    out.push_str(&format!("{key}: "));
                    render_flow(value, out);
                }
                out.push('}');
            }
            Tree::Seq(_, items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    out.push_str(if n == 0 { "" } else { ", " });
                    render_flow(item, out);
                }
                out.push(']');
            }
        }
    }

    /// Runs `cases` texts made by `strategy` through both paths, failing on any difference;
    /// returns how many the fast path read (the rest it left to serde-saphyr).
    fn compare_generated<S: Strategy>(
        cases: u32,
        strategy: S,
        text_of: impl Fn(&S::Value) -> String,
    ) -> u32 {
        let config = ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let compared = std::cell::Cell::new(0u32);
        proptest::test_runner::TestRunner::new(config)
            .run(&strategy, |value| {
                let text = text_of(&value);
                if let Some((fast, full)) = both(&text) {
                    compared.set(compared.get() + 1);
                    prop_assert_eq!(fast, full, "{:?}", text);
                }
                Ok(())
            })
            .unwrap();
        compared.get()
    }

    #[test]
    fn generated_documents_read_as_serde_saphyr_reads_them() {
        let cases = 4_000;
        let compared = compare_generated(cases, prop::collection::vec(tree(), 1..3), |trees| {
            let mut text = String::new();
            for tree in trees {
                text.push_str(if inline(tree) { "--- " } else { "---" });
                render(tree, 0, &mut text);
                text.push('\n');
            }
            text
        });
        assert!(compared > cases / 4, "only {compared} of {cases} compared");
    }

    #[test]
    fn whatever_the_fast_path_accepts_it_reads_as_serde_saphyr_does() {
        let cases = 4_000;
        let compared = compare_generated(cases, yamlish(), String::clone);
        // Random text is mostly not plain YAML, but enough of it must be for this to test anything.
        assert!(compared > cases / 20, "only {compared} of {cases} compared");
    }

    #[test]
    fn obvious_scalars_resolve_and_the_rest_leave_the_fast_path() {
        let plain = |s: &str| resolve(Cow::Borrowed(s), ScalarStyle::Plain);
        assert!(matches!(plain("42"), Some(Value::Int(42))));
        assert!(matches!(plain("-7"), Some(Value::Int(-7))));
        assert!(matches!(plain("~"), Some(Value::Null)));
        assert!(matches!(plain("TRUE"), Some(Value::Bool(true))));
        assert!(matches!(plain("yes"), Some(Value::Str(s)) if s == "yes"));
        assert!(matches!(plain("1 Main St"), Some(Value::Str(_))));
        assert!(matches!(plain("inf"), Some(Value::Str(_))));
        for unclear in [
            "01234",
            "1.5",
            "0x1f",
            "+3",
            "-0",
            ".inf",
            "1e3",
            "1_000",
            "123456789012345678901",
        ] {
            assert!(plain(unclear).is_none(), "{unclear}");
        }
        let quoted = resolve(Cow::Borrowed("01234"), ScalarStyle::DoubleQuoted);
        assert!(matches!(quoted, Some(Value::Str(s)) if s == "01234"));
    }
}
