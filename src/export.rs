//! Adoption: manifests written from live organizations, so that a workspace can start from an
//! existing vendor account and plan clean. Pure: live organizations in, file texts out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::manifest::{Key, ProviderKind};
use crate::model::LiveOrganization;
use serde_json::Value;

/// A key (`[a-z0-9][a-z0-9_-]{0,62}`) from any text: lower-cased, other characters as `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(|c| c == '-' || c == '_');
    let mut key: String = trimmed.chars().take(63).collect();
    while key.ends_with('-') {
        key.pop();
    }
    if key.is_empty() {
        "org".to_owned()
    } else {
        key
    }
}

/// A unique key for every organization: Scalekit's external id when set, otherwise the name,
/// as a slug; collisions (among them, and with the keys in `taken`, those the workspace already
/// uses) get `-2`, `-3`… in order of vendor id, so keys are stable.
pub fn assign_keys(
    kind: ProviderKind,
    organizations: &[&LiveOrganization],
    mut taken: BTreeSet<String>,
) -> BTreeMap<String, String> {
    let mut by_id: Vec<&LiveOrganization> = organizations.to_vec();
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    let mut keys = BTreeMap::new();
    for org in by_id {
        let source = match &org.external_id {
            Some(external) if kind.description().key_is_external_id => external.as_str(),
            _ => org.name.as_str(),
        };
        let base = slug(source);
        let mut key = base.clone();
        let mut n = 2;
        while taken.contains(&key) {
            let suffix = format!("-{n}");
            key = format!(
                "{}{suffix}",
                base.chars().take(63 - suffix.len()).collect::<String>()
            );
            n += 1;
        }
        debug_assert!(Key::is_valid(&key));
        taken.insert(key.clone());
        keys.insert(org.id.clone(), key);
    }
    keys
}

/// Every scalar export writes, as one YAML double-quoted string: no value changes type, and no
/// vendor text can end the scalar, start a new key or a new document (`\n---\n`). Quotes,
/// backslashes and every character YAML does not print (C0 and C1 controls, DEL, line and
/// paragraph separators, byte-order marks) are escaped.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}') => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` with each `(start, end, replacement)` applied: the bytes between are replaced, all
/// else (comments, order, other keys, formatting) kept. Ranges must not overlap.
pub fn splice(text: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, replacement) in edits {
        out.push_str(&text[at..start]);
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The `protect` and `metadata` lines of a vendor with an ownership marker (the marker itself
/// is taken out when the organization is read, and comes back as `protect`).
pub(crate) fn protect_and_metadata(org: &LiveOrganization, out: &mut String) {
    if org.protected {
        let _ = writeln!(out, "protect: true");
    }
    let metadata: Vec<String> = org
        .metadata
        .iter()
        .map(|(k, v)| format!("{}: {}", quoted(k), quoted(v)))
        .collect();
    let _ = writeln!(out, "metadata: {{{}}}", metadata.join(", "));
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

/// The manifest of one organization: every field the provider manages, and the read-only
/// values that make useful drift assertions.
pub fn manifest(
    kind: ProviderKind,
    provider: &str,
    key: &str,
    org: &LiveOrganization,
    schema: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# yaml-language-server: $schema={schema}");
    let _ = writeln!(out, "organization: {}", quoted(key));
    let _ = writeln!(out, "provider: {}", quoted(provider));
    let _ = writeln!(out, "name: {}", quoted(&org.name));
    let _ = writeln!(out, "id: {}", quoted(&org.id));
    (kind.description().export_fields)(org, &mut out);
    for field in kind.description().plain_fields {
        match org.plain.get(field.name) {
            Some(Value::Bool(b)) => {
                let _ = writeln!(out, "{}: {b}", field.name);
            }
            Some(Value::String(text)) => {
                let _ = writeln!(out, "{}: {}", field.name, quoted(text));
            }
            _ => {}
        }
    }
    if let Some(domains) = &org.domains {
        let items = domains.iter().map(|d| match d.domain_type.as_deref() {
            Some("allowed_email") => {
                format!("{{ name: {}, type: allowed_email }}", quoted(&d.name))
            }
            _ => quoted(&d.name),
        });
        let _ = writeln!(out, "domains: {}", list(items));
    }
    if let Some(Some(a)) = &org.address {
        let mut parts = vec![
            format!("line1: {}", quoted(&a.line1)),
            format!("city: {}", quoted(&a.city)),
            format!("postal_code: {}", quoted(&a.postal_code)),
            format!("country: {}", quoted(&a.country)),
        ];
        for (name, value) in [
            ("line2", &a.line2),
            ("state", &a.state),
            ("tax_id", &a.tax_id),
            ("tax_id_type", &a.tax_id_type),
        ] {
            if let Some(value) = value {
                parts.push(format!("{name}: {}", quoted(value)));
            }
        }
        let _ = writeln!(out, "address: {{ {} }}", parts.join(", "));
    }
    if let Some(members) = &org.members {
        let _ = writeln!(
            out,
            "members:{}",
            if members.is_empty() { " []" } else { "" }
        );
        for m in members {
            let who = match &m.email {
                Some(email) => format!("email: {}", quoted(email)),
                None => format!("user: {}", quoted(&m.user_id)),
            };
            let roles = match m.roles.as_slice() {
                [one] => format!("role: {}", quoted(one)),
                many => format!("roles: {}", list(many.iter().map(|r| quoted(r)))),
            };
            let _ = writeln!(out, "  - {{ {who}, {roles} }}");
        }
    }
    if let Some(licenses) = &org.licenses {
        let _ = writeln!(
            out,
            "licenses:{}",
            if licenses.is_empty() { " []" } else { "" }
        );
        let mut packages: BTreeMap<&str, usize> = BTreeMap::new();
        for l in licenses {
            *packages.entry(l.package.as_str()).or_default() += 1;
        }
        for l in licenses {
            // A package held by several licenses cannot identify one: use the id.
            let who = if packages[l.package.as_str()] == 1 && !l.package.is_empty() {
                format!("package: {}", quoted(&l.package))
            } else {
                format!("id: {}", quoted(&l.id))
            };
            let _ = writeln!(out, "  - {{ {who}, status: {} }}", quoted(&l.status));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_scalars_read_back_as_the_same_string() {
        for text in [
            "company\n---\norganization: evil",
            "a \"quoted\" \\ back",
            "\u{85}nel \u{2028} \u{feff} \u{7f} \t tab: # not a comment",
            "- [x] {y} &anchor *alias !tag %directive @ `",
            "",
        ] {
            let yaml = format!("value: {}\n", quoted(text));
            let read: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(&yaml).unwrap();
            assert_eq!(read["value"], text, "{yaml}");
        }
    }

    #[test]
    fn splices_replace_only_their_ranges() {
        let text = "# keep\nname: Old  # keep too\ntype: x\n";
        let start = text.find("Old").unwrap();
        assert_eq!(
            splice(text, vec![(start, start + 3, quoted("New"))]),
            "# keep\nname: \"New\"  # keep too\ntype: x\n"
        );
    }

    #[test]
    fn slugs_are_valid_keys_and_collisions_get_stable_suffixes() {
        assert_eq!(slug("Acme Corp, Inc."), "acme-corp-inc");
        assert_eq!(slug("  --Über Straße--  "), "ber-stra-e");
        assert_eq!(slug("!!!"), "org");
        assert!(Key::is_valid(&slug(&"x".repeat(100))));
        let orgs: Vec<LiveOrganization> = ["b", "a", "c"]
            .iter()
            .map(|id| LiveOrganization {
                id: (*id).into(),
                name: "Acme Corp".into(),
                ..LiveOrganization::default()
            })
            .collect();
        let orgs: Vec<&LiveOrganization> = orgs.iter().collect();
        let keys = assign_keys(ProviderKind::Nirvana, &orgs, BTreeSet::new());
        assert_eq!(keys["a"], "acme-corp");
        assert_eq!(keys["b"], "acme-corp-2");
        assert_eq!(keys["c"], "acme-corp-3");
        // Keys the workspace already uses are taken too.
        let keys = assign_keys(
            ProviderKind::Nirvana,
            &orgs,
            BTreeSet::from(["acme-corp".to_owned()]),
        );
        assert_eq!(keys["a"], "acme-corp-2");
    }
}
