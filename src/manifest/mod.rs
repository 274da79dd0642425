//! Files → spanned, typed documents: YAML parsing with budgets, `${VAR}` interpolation,
//! decoding that reports every problem, and the diagnostics that describe them.

mod decode;
mod diagnostic;
mod document;
mod interpolate;
mod load;
mod node;
mod plain_yaml;
mod source;
mod span;
pub mod templates;
mod values;

pub use decode::{Decode, DecodeCx, MapReader, NamedMap};
pub use diagnostic::{Diagnostics, ManifestError, did_you_mean};
pub use document::*;
pub use interpolate::{Env, InterpolationError, interpolate};
pub use load::{
    CONFIG_FILE, LoadedWorkspace, Part, decode_config, decode_manifest, parse_documents,
    parse_options, parts, read_workspace,
};
pub use node::{Node, NodeSpan, Value};
pub use source::{SourceFile, Sources};
pub use span::{FileId, Span, Spanned};
pub use values::*;
