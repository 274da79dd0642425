//! Where vendor logic may live: a vendor is one folder (`src/provider/<vendor>/`, its emulator
//! in `src/sandbox/`), and everything else consults the vendor's description. This test keeps
//! apply, plan, export, the model and the manifest free of any vendor's name in code.

use std::path::{Path, PathBuf};

/// The vendors, as their `ProviderKind` variants and module names.
const VENDORS: &[(&str, &str)] = &[
    ("Nirvana", "nirvana"),
    ("Scalekit", "scalekit"),
    ("PingOne", "pingone"),
    ("Workos", "workos"),
];

/// Files that may name vendors: the lists of vendor kinds and modules, and the property tests
/// that feed every vendor's decoders.
const VENDOR_LISTS: &[&str] = &[
    "src/manifest/values.rs",
    "src/provider/any.rs",
    "src/provider/mod.rs",
    "src/provider/decoder_properties.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code lines of a file: comments and its `#[cfg(test)]` module left out.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut code = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]" && lines.get(i + 1).is_some_and(|l| l.starts_with("mod ")) {
            break;
        }
        if !trimmed.starts_with("//") {
            code.push((i + 1, *line));
        }
    }
    code
}

/// Where `line` names a vendor: its kind, its sandbox variant, or its module.
fn names_a_vendor(line: &str) -> Option<&'static str> {
    VENDORS.iter().find_map(|(variant, module)| {
        let kind = format!("ProviderKind::{variant}");
        let sandbox = format!("Vendor::{variant}");
        let path = format!("{module}::");
        let as_module = line.match_indices(&path).any(|(at, _)| {
            !line[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        (line.contains(&kind) || line.contains(&sandbox) || as_module).then_some(*module)
    })
}

#[test]
fn vendor_logic_lives_in_the_vendors_folders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut found = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let in_vendor_folder = VENDORS
            .iter()
            .any(|(_, module)| relative.starts_with(&format!("src/provider/{module}/")));
        if in_vendor_folder
            || relative.starts_with("src/sandbox/")
            || VENDOR_LISTS.contains(&relative.as_str())
        {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in code_lines(&text) {
            if let Some(vendor) = names_a_vendor(line) {
                found.push(format!("{relative}:{number}: {vendor}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "vendor logic outside the vendor's folder (consult its Description instead):\n{}",
        found.join("\n")
    );
    // The check can fail: it sees a vendor named in code.
    assert_eq!(names_a_vendor("ProviderKind::Workos => 1,"), Some("workos"));
    assert_eq!(
        names_a_vendor("super::scalekit::routes::USERS"),
        Some("scalekit")
    );
    assert_eq!(names_a_vendor("let nirvana_like = 1;"), None);
}
