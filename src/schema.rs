//! JSON Schemas (draft 2020-12) for `orgform.yaml` and organization documents, generated from
//! the same types that decode them. `schemas/` holds the committed copies; a test fails when they
//! are stale, and `orgform schemas --out schemas` rewrites them.

use std::path::Path;

use serde_json::{Value, json};

use crate::manifest::{OrganizationDocument, ProviderKind, WorkspaceConfig};
use crate::provider::description::PlainKind;

/// Fields where `null` means "clear the live value". Everywhere else `null` is refused by the
/// decoder (absent means unmanaged; null would be ambiguous), so the schema refuses it too.
pub const NULLABLE_FIELDS: &[&str] = &["billing_email", "line2", "state", "tax_id", "tax_id_type"];

/// File name in `schemas/` and the schema text, for each schema we publish.
pub fn schemas() -> Vec<(&'static str, String)> {
    vec![
        ("orgform.schema.json", render::<WorkspaceConfig>(|_| {})),
        (
            "organization.schema.json",
            render::<OrganizationDocument>(from_descriptions),
        ),
    ]
}

fn render<T: schemars::JsonSchema>(finish: fn(&mut Value)) -> String {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    let mut value = schema.to_value();
    finish(&mut value);
    refuse_null(&mut value);
    let mut text = serde_json::to_string_pretty(&value).expect("a schema serializes");
    text.push('\n');
    text
}

/// What the vendors' descriptions say of an organization document, not its type: the plain
/// fields (held by name rather than as typed fields), each as its vendor declares it, and the
/// most metadata pairs any vendor allows.
fn from_descriptions(schema: &mut Value) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    let most_pairs = ProviderKind::VARIANTS
        .iter()
        .filter_map(|k| k.description().metadata.map(|m| m.pairs))
        .max();
    if let (Some(pairs), Some(Value::Object(metadata))) =
        (most_pairs, properties.get_mut("metadata"))
    {
        metadata.insert("maxProperties".into(), json!(pairs));
    }
    for field in ProviderKind::plain_fields() {
        let mut property = match field.kind {
            PlainKind::Bool => json!({ "type": "boolean" }),
            PlainKind::Text { max_chars } => {
                let mut text = json!({ "type": "string", "minLength": 1 });
                if let Some(max) = max_chars {
                    text["maxLength"] = json!(max);
                }
                text
            }
        };
        property["description"] = json!(field.about);
        properties.insert(field.name.to_owned(), property);
    }
}

/// schemars lets every `Option` field be `null`; remove that from every property not in
/// [`NULLABLE_FIELDS`], in the schema and all its definitions.
fn refuse_null(schema: &mut Value) {
    let Value::Object(object) = schema else {
        return;
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if !NULLABLE_FIELDS.contains(&name.as_str()) {
                strip_null(property);
            }
        }
    }
    for value in object.values_mut() {
        match value {
            Value::Object(_) => refuse_null(value),
            Value::Array(items) => items.iter_mut().for_each(refuse_null),
            _ => {}
        }
    }
}

fn strip_null(property: &mut Value) {
    let Value::Object(object) = property else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".into(), only);
        }
    }
    let Some(Value::Array(any_of)) = object.get_mut("anyOf") else {
        return;
    };
    any_of.retain(|s| s.get("type").is_none_or(|t| t != "null"));
    if any_of.len() == 1 {
        let Some(Value::Object(only)) = any_of.pop() else {
            return;
        };
        object.remove("anyOf");
        for (key, value) in only {
            object.entry(key).or_insert(value);
        }
    }
}

/// Writes every schema into `dir`.
pub fn write_schemas(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in schemas() {
        crate::files::write(&dir.join(name), text.as_bytes()).map_err(std::io::Error::other)?;
    }
    Ok(())
}
