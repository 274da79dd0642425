//! A YAML document as a tree of nodes that remember where they were written.
//!
//! Manifests are first read into this untyped tree and only then decoded (see `decode.rs`), so that
//! decoding can report every problem in a document rather than stopping at the first one as a
//! serde derive would.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A byte range inside the document's own file (the file is known to whoever holds the tree),
/// or inside `file` for nodes merged in from another file (a template in `orgform.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    pub offset: usize,
    pub len: usize,
    pub file: Option<super::FileId>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub span: NodeSpan,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; duplicate keys are kept so they can be reported.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// How a type error names what it found.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// Marks this node and everything under it as written in `file`, so that it can be merged
    /// into a document of another file and still point at where it was written.
    pub fn written_in(&mut self, file: super::FileId) {
        self.each_span(&mut |span| span.file = Some(file));
    }

    /// Moves this node and everything under it `by` bytes later in its file: a document parsed
    /// from a part of a file, placed where the part is.
    pub fn shift(&mut self, by: usize) {
        self.each_span(&mut |span| span.offset += by);
    }

    /// Calls `f` on the span of this node and of every node under it.
    fn each_span(&mut self, f: &mut impl FnMut(&mut NodeSpan)) {
        f(&mut self.span);
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.each_span(f)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.each_span(f);
                v.each_span(f);
            }),
            _ => {}
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<Value>::deserialize(deserializer)?;
        let span = spanned.referenced.span();
        let offset = span.byte_offset().unwrap_or(span.offset());
        let len = span.byte_len().unwrap_or(span.len());
        Ok(Node {
            span: NodeSpan {
                offset: usize::try_from(offset).unwrap_or(usize::MAX),
                len: usize::try_from(len).unwrap_or(0),
                file: None,
            },
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        String::from_utf8(v.to_vec())
            .map(Value::Str)
            .map_err(|_| E::custom("binary values are not supported"))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}
