//! JSON Schemas (draft 2020-12) for `orgform.yaml` and organization documents, generated from
//! the same types that decode them. `schemas/` holds the committed copies; a test fails when they
//! are stale, and `orgform schemas --out schemas` rewrites them.

use std::path::Path;

use crate::manifest::{OrganizationDocument, WorkspaceConfig};

/// File name in `schemas/` and the schema text, for each schema we publish.
pub fn schemas() -> Vec<(&'static str, String)> {
    vec![
        ("orgform.schema.json", render::<WorkspaceConfig>()),
        ("organization.schema.json", render::<OrganizationDocument>()),
    ]
}

fn render<T: schemars::JsonSchema>() -> String {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// Writes every schema into `dir`.
pub fn write_schemas(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in schemas() {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}
