//! Typed decoding of [`Node`] trees that records every problem instead of stopping at the first.
//!
//! Each decoder returns `None` when its node is unusable and has then pushed a diagnostic; callers
//! carry on with the next field, so one run reports everything wrong in a workspace.

use super::diagnostic::{Diagnostics, ManifestError, did_you_mean};
use super::interpolate::{InterpolationError, interpolate};
use super::node::{Node, Value};
use super::span::{FileId, Span, Spanned};

/// What decoders need: where they are, the environment, and where to report.
pub struct DecodeCx<'a> {
    pub file: FileId,
    /// The files' texts, so that errors can point inside a scalar (e.g. at one `${VAR}`).
    pub sources: &'a super::Sources,
    pub env: &'a crate::manifest::Env,
    pub diags: &'a mut Diagnostics,
}

impl DecodeCx<'_> {
    pub fn span(&self, node: &Node) -> Span {
        Span::new(
            node.span.file.unwrap_or(self.file),
            node.span.offset,
            node.span.len,
        )
    }

    /// The text a span points into.
    pub fn text_at(&self, span: Span) -> &str {
        self.sources
            .get(span.file)
            .text
            .get(span.offset()..span.offset() + span.len())
            .unwrap_or_default()
    }

    pub fn report(&mut self, error: ManifestError) {
        self.diags.push(error);
    }

    /// Reports that `node` is not of the `expected` kind.
    pub fn type_error(&mut self, node: &Node, expected: &str) {
        let found = node.value.kind_name();
        let help = match (&node.value, expected) {
            (Value::Int(_) | Value::Float(_) | Value::Bool(_), "a string") => {
                "quote the value to make it a string, e.g. \"01234\"".to_owned()
            }
            (Value::Null, _) => "give the field a value, or remove it".to_owned(),
            (Value::Str(_), e) if e.starts_with("a boolean") => {
                "write `true` or `false` without quotes".to_owned()
            }
            (_, "a list") => "write a list, e.g. `[a, b]` or one `- item` per line".to_owned(),
            (_, e) if e.starts_with("a mapping") => {
                "write `key: value` pairs, e.g. `{ sso: true }`".to_owned()
            }
            (_, e) => format!("write {e} here"),
        };
        let error = ManifestError::new("wrong_type", format!("expected {expected}, found {found}"))
            .at(self.span(node), format!("expected {expected}"))
            .help(help);
        self.report(error);
    }

    /// Narrows `span` to the first occurrence of `needle` inside it, when the source shows it.
    fn narrow(&self, span: Span, needle: &str) -> Span {
        Some(self.text_at(span))
            .and_then(|slice| slice.find(needle))
            .map_or(span, |pos| {
                Span::new(span.file, span.offset() + pos, needle.len())
            })
    }
}

/// A type that can be read from a YAML node, validating as it goes.
pub trait Decode: Sized {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self>;
}

impl Decode for String {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let Value::Str(text) = &node.value else {
            cx.type_error(node, "a string");
            return None;
        };
        match interpolate(text, cx.env) {
            Ok((value, _)) => Some(value),
            Err(errors) => {
                let span = cx.span(node);
                for error in errors {
                    let report = match error {
                        InterpolationError::Missing { name, .. } => ManifestError::new(
                            "missing_variable",
                            format!("environment variable `{name}` is not set"),
                        )
                        .at(cx.narrow(span, &format!("${{{name}}}")), "referenced here")
                        .help(format!(
                            "set {name} in the environment, or write `$${{` for a literal `${{`"
                        )),
                        InterpolationError::Malformed { .. } => {
                            ManifestError::new("bad_interpolation", "malformed `${...}` reference")
                                .at(
                                    cx.narrow(span, "${"),
                                    "expected `${NAME}` with NAME like [A-Za-z_][A-Za-z0-9_]*",
                                )
                                .help("write `$${` for a literal `${`")
                        }
                    };
                    cx.report(report);
                }
                None
            }
        }
    }
}

impl Decode for bool {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                cx.type_error(node, "a boolean (true or false)");
                None
            }
        }
    }
}

impl Decode for u32 {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match node.value {
            Value::Int(n) => match u32::try_from(n) {
                Ok(n) => Some(n),
                Err(_) => {
                    let label = if n < 0 {
                        "must be 0 or more"
                    } else {
                        "too large"
                    };
                    cx.report(
                        ManifestError::new("out_of_range", "number out of range")
                            .at(cx.span(node), label)
                            .help(format!("use a whole number from 0 to {}", u32::MAX)),
                    );
                    None
                }
            },
            _ => {
                cx.type_error(node, "a whole number");
                None
            }
        }
    }
}

impl Decode for f64 {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match node.value {
            Value::Int(n) => Some(n as f64),
            Value::Float(x) if x.is_finite() => Some(x),
            _ => {
                cx.type_error(node, "a number");
                None
            }
        }
    }
}

impl<T: Decode> Decode for Spanned<T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        T::decode(node, cx).map(|value| Spanned::new(value, cx.span(node)))
    }
}

/// `null` decodes to `None`: used where null has a meaning of its own ("clear this value").
impl<T: Decode> Decode for Option<T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match node.value {
            Value::Null => Some(None),
            _ => T::decode(node, cx).map(Some),
        }
    }
}

/// Items that fail to decode are reported and left out; the list is still returned so that
/// checks on the other items run too.
impl<T: Decode> Decode for Vec<T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let Value::Seq(items) = &node.value else {
            cx.type_error(node, "a list");
            return None;
        };
        Some(
            items
                .iter()
                .filter_map(|item| T::decode(item, cx))
                .collect(),
        )
    }
}

/// A mapping with free-form string keys, in document order (keys are unique).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamedMap<T>(pub Vec<(Spanned<String>, T)>);

impl<T> NamedMap<T> {
    pub fn iter(&self) -> impl Iterator<Item = &(Spanned<String>, T)> {
        self.0.iter()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Decode> Decode for NamedMap<T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let entries = map_entries(node, "a mapping", cx)?;
        Some(NamedMap(
            entries
                .into_iter()
                .filter_map(|(key, value)| {
                    T::decode(value, cx).map(|v| (key.map(str::to_owned), v))
                })
                .collect(),
        ))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for NamedMap<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Map_of_{}", T::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<T>(),
        })
    }
}

/// The entries of a mapping with string keys. Reports a non-mapping, non-string keys and
/// duplicate keys (pointing at both); the first of each duplicate is kept.
pub fn map_entries<'n>(
    node: &'n Node,
    what: &str,
    cx: &mut DecodeCx,
) -> Option<Vec<(Spanned<&'n str>, &'n Node)>> {
    let Value::Map(pairs) = &node.value else {
        cx.type_error(node, what);
        return None;
    };
    let mut entries: Vec<(Spanned<&str>, &Node)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        let Some(name) = key.as_str() else {
            cx.report(
                ManifestError::new("wrong_type", "mapping keys must be strings")
                    .at(
                        cx.span(key),
                        format!("this key is {}", key.value.kind_name()),
                    )
                    .help("quote the key, e.g. `\"404\": value`"),
            );
            continue;
        };
        let key_span = cx.span(key);
        if let Some((first, _)) = entries.iter().find(|(k, _)| k.value == name) {
            cx.report(
                ManifestError::new("duplicate_key", format!("duplicate key `{name}`"))
                    .at(key_span, "defined again here")
                    .also_at(first.span, format!("`{name}` is first defined here"))
                    .help("remove one of the two entries"),
            );
            continue;
        }
        entries.push((Spanned::new(name, key_span), value));
    }
    Some(entries)
}

/// Reads the fields of a mapping one by one, then reports any it was not asked for.
pub struct MapReader<'n> {
    what: &'static str,
    span: Span,
    entries: Vec<(Spanned<&'n str>, &'n Node)>,
    taken: Vec<bool>,
    known: Vec<&'static str>,
}

impl<'n> MapReader<'n> {
    /// `what` names the mapping in messages ("organization document", "address", ...).
    pub fn new(node: &'n Node, what: &'static str, cx: &mut DecodeCx) -> Option<Self> {
        let entries = map_entries(node, &format!("a mapping ({what})"), cx)?;
        Some(Self {
            what,
            span: cx.span(node),
            taken: vec![false; entries.len()],
            entries,
            known: Vec::new(),
        })
    }

    pub fn span(&self) -> Span {
        self.span
    }

    /// The node under `name`, if present. Marks `name` as a known field.
    pub fn field(&mut self, name: &'static str) -> Option<&'n Node> {
        if !self.known.contains(&name) {
            self.known.push(name);
        }
        let index = self.entries.iter().position(|(k, _)| k.value == name)?;
        self.taken[index] = true;
        Some(self.entries[index].1)
    }

    /// Where the key `name` was written, if present.
    pub fn key_span(&self, name: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == name)
            .map(|(k, _)| k.span)
    }

    pub fn optional<T: Decode>(&mut self, name: &'static str, cx: &mut DecodeCx) -> Option<T> {
        self.field(name).and_then(|node| T::decode(node, cx))
    }

    pub fn required<T: Decode>(&mut self, name: &'static str, cx: &mut DecodeCx) -> Option<T> {
        match self.field(name) {
            Some(node) => T::decode(node, cx),
            None => {
                cx.report(
                    ManifestError::new("missing_field", format!("missing required field `{name}`"))
                        .at(self.span, format!("this {} has no `{name}`", self.what))
                        .help(format!("add `{name}:` to this {}", self.what)),
                );
                None
            }
        }
    }

    /// Reports every key that no `field` call asked for, suggesting the closest known field.
    pub fn finish(&self, cx: &mut DecodeCx) {
        for ((key, _), taken) in self.entries.iter().zip(&self.taken) {
            if *taken {
                continue;
            }
            let help = match did_you_mean(key.value, self.known.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("known fields: {}", self.known.join(", ")),
            };
            cx.report(
                ManifestError::new("unknown_field", format!("unknown field `{}`", key.value))
                    .at(key.span, format!("not a field of {}", self.what))
                    .help(help),
            );
        }
    }
}

/// Reads a string and maps it through `parse`, reporting with a "did you mean" when it fails.
pub fn decode_keyword<T>(
    node: &Node,
    cx: &mut DecodeCx,
    what: &str,
    choices: &[&'static str],
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let text = String::decode(node, cx)?;
    if let Some(value) = parse(&text) {
        return Some(value);
    }
    let help = match did_you_mean(&text, choices.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("expected one of: {}", choices.join(", ")),
    };
    cx.report(
        ManifestError::new("invalid_value", format!("invalid {what}"))
            .at(cx.span(node), format!("not a valid {what}"))
            .help(help),
    );
    None
}
