//! Reading a workspace directory: `orgform.yaml` plus every manifest below it.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Options};

use super::decode::{Decode, DecodeCx};
use super::diagnostic::{Diagnostics, ManifestError};
use super::document::{OrganizationDocument, WorkspaceConfig};
use super::interpolate::Env;
use super::node::Node;
use super::source::Sources;
use super::span::{FileId, Span};
use super::templates::Template;

/// The name of the workspace's root configuration file.
pub const CONFIG_FILE: &str = "orgform.yaml";

/// A manifest larger than this is refused before parsing.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Limits that keep a hostile or broken file from exhausting time or memory: alias bombs are cut
/// off after a bounded number of replayed events, and nesting deeper than any manifest needs is
/// refused before it can overflow a stack. Manifests nest about 6 levels; 32 leaves room while
/// keeping the recursive decoder well inside a 2 MiB thread stack even in debug builds (where 63
/// levels were measured to overflow it).
pub fn parse_options() -> Options {
    let mut options = Options::default();
    options.budget = Some(parse_budget());
    options.alias_limits.max_total_replayed_events = 100_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.with_snippet = false;
    options
}

pub(super) fn parse_budget() -> Budget {
    let mut budget = Budget::default();
    budget.max_depth = 32;
    // Generous for many organizations in one file; the 64 MiB file limit bounds them anyway.
    budget.max_events = 50_000_000;
    budget.max_nodes = 20_000_000;
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    // Many organizations may share one file (the default allows 1,024 documents).
    budget.max_documents = 1_000_000;
    budget
}

/// The workspace as read from disk: where it is, every file's text (diagnostics quote them,
/// and a saved plan records their digest) and `orgform.yaml`. The decoded documents are not kept: each becomes an
/// organization of the desired state as soon as it is decoded.
#[derive(Debug)]
pub struct LoadedWorkspace {
    pub root: PathBuf,
    pub sources: Sources,
    pub config: WorkspaceConfig,
}

/// The files of a workspace, read into `sources`: `orgform.yaml` and every manifest, in path
/// order. What cannot be read is reported; the other files are still read.
pub fn read_workspace(
    root: &Path,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> (Option<FileId>, Vec<FileId>) {
    let config_path = root.join(CONFIG_FILE);
    if !root.is_dir() {
        diags.push(
            ManifestError::new(
                "no_workspace",
                format!("{} is not a directory", root.display()),
            )
            .help("pass the workspace directory, the one that holds orgform.yaml"),
        );
        return (None, Vec::new());
    }
    if !config_path.is_file() {
        diags.push(
            ManifestError::new("no_workspace", format!("no {CONFIG_FILE} in {}", root.display()))
                .help("a workspace is a directory with orgform.yaml at its root (see examples/quickstart)"),
        );
        return (None, Vec::new());
    }

    let mut manifest_paths = Vec::new();
    collect_manifests(root, root, &mut manifest_paths, diags);
    manifest_paths.sort();

    let config_text = read_text(&config_path);
    let config_file = read_source(config_path, config_text, sources, diags);
    // Reading is mostly waiting on the file system: all cores wait at once.
    let texts: Vec<_> = manifest_paths
        .par_iter()
        .map(|path| read_text(path))
        .collect();
    let manifest_files = manifest_paths
        .into_iter()
        .zip(texts)
        .filter_map(|(path, text)| read_source(path, text, sources, diags))
        .collect();
    (config_file, manifest_files)
}

/// Decodes `orgform.yaml`, already read into `sources`.
pub fn decode_config(
    file: FileId,
    sources: &Sources,
    env: &Env,
    diags: &mut Diagnostics,
) -> Option<WorkspaceConfig> {
    let reported = diags.len();
    let mut docs = parse_documents(file, sources, diags).into_iter();
    let first = docs.next();
    if let Some(extra) = docs.next() {
        diags.push(
            ManifestError::new(
                "multiple_documents",
                format!("{CONFIG_FILE} must hold a single document"),
            )
            .at(
                Span::new(file, extra.span.offset, extra.span.len),
                "a second document starts here",
            )
            .help("orgform.yaml holds providers and policy only; put organizations in other files"),
        );
    }
    match first {
        Some(node) => decode_in::<WorkspaceConfig>(file, &node, sources, env, diags),
        // A syntax error was reported already: the file is broken, not empty.
        None if diags.len() > reported => None,
        None => {
            diags.push(
                ManifestError::new("missing_field", format!("{CONFIG_FILE} is empty"))
                    .at(Span::new(file, 0, 0), "expected `providers:`")
                    .help("declare at least one provider, e.g.\nproviders:\n  main:\n    kind: scalekit\n    sandbox: true"),
            );
            None
        }
    }
}

/// Whole documents of one manifest file: the unit that loading parses and decodes on one core.
/// A large file is cut at its document markers into parts of about [`PART_BYTES`], so that a
/// workspace kept in one big file uses every core as one kept in many files does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub file: FileId,
    /// Byte range of the file's text; each part but the first begins with a `---` line.
    pub start: usize,
    pub end: usize,
}

/// About how large a part of a big manifest file is.
pub const PART_BYTES: usize = 256 * 1024;

/// The parts of `file`. A document marker is a line that begins with `---` followed by a space,
/// a tab or the line's end: YAML forbids such a line inside any content (block or quoted
/// scalars, flow collections), so a cut there never falls inside a document. A file with a
/// directive (`%YAML`, which belongs to the document after it) is not cut.
pub fn parts(file: FileId, sources: &Sources) -> Vec<Part> {
    let text: &str = &sources.get(file).text;
    let whole = Part {
        file,
        start: 0,
        end: text.len(),
    };
    if text.len() < 2 * PART_BYTES || text.starts_with('%') || text.contains("\n%") {
        return vec![whole];
    }
    let bytes = text.as_bytes();
    let is_marker = |at: usize| {
        bytes[at..].starts_with(b"---")
            && bytes
                .get(at + 3)
                .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    };
    let mut parts = Vec::new();
    let mut start = 0;
    let mut from = PART_BYTES;
    while from < text.len() {
        let Some(found) = line_starts(bytes, from).find(|&at| is_marker(at)) else {
            break;
        };
        if found > start {
            parts.push(Part {
                file,
                start,
                end: found,
            });
            start = found;
        }
        from = found + PART_BYTES;
    }
    parts.push(Part {
        file,
        start,
        end: text.len(),
    });
    parts
}

/// The starts of the lines of `bytes` that begin at or after `from`.
fn line_starts(bytes: &[u8], from: usize) -> impl Iterator<Item = usize> + '_ {
    bytes[from.saturating_sub(1)..]
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(move |(i, _)| from.saturating_sub(1) + i + 1)
        .filter(move |&at| at < bytes.len())
}

/// Decodes the organization documents of one part of a manifest, with `templates` from
/// `orgform.yaml`. Parts are independent of each other here, so that they can be decoded in
/// parallel.
pub fn decode_manifest(
    part: Part,
    templates: &[Template],
    sources: &Sources,
    env: &Env,
    diags: &mut Diagnostics,
) -> Vec<OrganizationDocument> {
    let file = part.file;
    let mut documents = Vec::new();
    for node in parse_part(part, sources, diags) {
        let since = diags.len();
        let mut cx = DecodeCx {
            file,
            sources,
            env,
            diags,
        };
        let Some((node, uses)) = super::templates::expand(&node, templates, &mut cx) else {
            if let Some(span) = super::templates::extends_span(&node, &cx) {
                diags.point_back_since(since, file, span, "the template is used here");
            }
            continue;
        };
        documents.extend(OrganizationDocument::decode(&node, &mut cx));
        // A template's bad field is reported at the template, and at the document using it.
        if let Some(first_use) = uses.first() {
            diags.point_back_since(since, file, *first_use, "the template is used here");
        }
    }
    documents
}

fn decode_in<T: Decode>(
    file: FileId,
    node: &Node,
    sources: &Sources,
    env: &Env,
    diags: &mut Diagnostics,
) -> Option<T> {
    let mut cx = DecodeCx {
        file,
        sources,
        env,
        diags,
    };
    T::decode(node, &mut cx)
}

/// Every `*.yaml`/`*.yml` below `dir`, skipping dot-entries and the root `orgform.yaml`.
/// Directory symlinks are not followed, so a link cycle cannot trap the walk.
/// Every manifest path under `dir`. What cannot be looked at is a diagnostic, never a silent
/// skip: a manifest left out would be an organization `prune` deletes. Symlinks are followed
/// (directories once each, so a loop ends).
fn collect_manifests(root: &Path, dir: &Path, out: &mut Vec<PathBuf>, diags: &mut Diagnostics) {
    let mut visited = std::collections::BTreeSet::new();
    if let Ok(canonical) = dir.canonicalize() {
        visited.insert(canonical);
    }
    collect_in(root, dir, out, &mut visited, diags);
}

fn is_manifest_name(name: &std::ffi::OsStr) -> bool {
    let bytes = name.as_encoded_bytes();
    bytes.ends_with(b".yaml") || bytes.ends_with(b".yml")
}

fn unreadable(path: &Path, what: &str, help: &str) -> ManifestError {
    ManifestError::new("unreadable_path", format!("{}: {what}", path.display()))
        .help(help.to_owned())
}

fn collect_in(
    root: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
    visited: &mut std::collections::BTreeSet<PathBuf>,
    diags: &mut Diagnostics,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diags.push(
                ManifestError::new(
                    "io",
                    format!("cannot read directory {}: {e}", dir.display()),
                )
                .help("check that the directory exists and is readable"),
            );
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                diags.push(unreadable(
                    dir,
                    &format!("cannot list an entry: {e}"),
                    "check the directory's permissions",
                ));
                continue;
            }
        };
        let os_name = entry.file_name();
        if os_name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        // What a symlink points at needs a look (a dangling or looping one fails here); other
        // entries say what they are without one, which matters in a workspace of 100,000 files.
        let kind = match entry.file_type() {
            Ok(kind) if !kind.is_symlink() => Ok(kind),
            _ => std::fs::metadata(&path).map(|m| m.file_type()),
        };
        let is_dir = kind.as_ref().is_ok_and(|k| k.is_dir());
        if !is_dir && !is_manifest_name(&os_name) {
            continue;
        }
        if os_name.to_str().is_none() {
            diags.push(unreadable(
                &path,
                "the name is not valid UTF-8",
                "rename it: manifests and the directories holding them need UTF-8 names",
            ));
            continue;
        }
        let kind = match kind {
            Ok(kind) => kind,
            Err(e) => {
                let what = if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                    format!("a symlink that cannot be followed (dangling or looping): {e}")
                } else {
                    format!("cannot be looked at: {e}")
                };
                diags.push(unreadable(
                    &path,
                    &what,
                    "fix or remove the link, or the file's permissions",
                ));
                continue;
            }
        };
        if kind.is_dir() {
            match path.canonicalize() {
                Ok(canonical) if visited.insert(canonical.clone()) => {
                    collect_in(root, &path, out, visited, diags);
                }
                Ok(_) => diags.push(unreadable(
                    &path,
                    "a directory reached a second time through a symlink (a loop)",
                    "remove the symlink that leads back into the workspace",
                )),
                Err(e) => diags.push(unreadable(
                    &path,
                    &format!("cannot be resolved: {e}"),
                    "fix or remove the link",
                )),
            }
        } else if kind.is_file() && !(dir == root && os_name == CONFIG_FILE) {
            out.push(path);
        } else if !kind.is_file() {
            diags.push(unreadable(
                &path,
                "not a regular file",
                "a manifest must be a file; rename it if it is not one",
            ));
        }
    }
}

/// A file's bytes, or why they cannot be had; a file over [`MAX_FILE_BYTES`] is not read.
fn read_text(path: &Path) -> Result<Vec<u8>, Box<ManifestError>> {
    use std::io::Read as _;
    let cannot_read = |e: std::io::Error| {
        Box::new(
            ManifestError::new("io", format!("cannot read {}: {e}", path.display()))
                .help("check that the file exists and is readable"),
        )
    };
    let too_large = || {
        let message = format!(
            "{} is larger than {} MiB",
            path.display(),
            MAX_FILE_BYTES >> 20
        );
        Box::new(
            ManifestError::new("file_too_large", message)
                .help("split the organizations over several files"),
        )
    };
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let len = file.metadata().map_err(cannot_read)?.len();
    if len > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // Never more than the limit, even from a file that grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Adds a file read by [`read_text`] to `sources`, if it is UTF-8 text.
fn read_source(
    path: PathBuf,
    bytes: Result<Vec<u8>, Box<ManifestError>>,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<FileId> {
    let bytes = bytes.map_err(|e| diags.push(*e)).ok()?;
    match String::from_utf8(bytes) {
        Ok(text) => Some(sources.add(path, text)),
        Err(e) => {
            // Keep a lossy copy so that the error can point at the offending byte.
            let at = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let message = format!("{} is not UTF-8 text", path.display());
            let file = sources.add(path, lossy);
            diags.push(
                ManifestError::new("not_utf8", message)
                    .at(Span::new(file, at, 1), "invalid UTF-8 here")
                    .help("save the file as UTF-8"),
            );
            None
        }
    }
}

/// The documents of one file. A syntax error or a breached parse budget is reported at its
/// location and the file yields nothing: a half-read file must not look like a valid one.
pub fn parse_documents(file: FileId, sources: &Sources, diags: &mut Diagnostics) -> Vec<Node> {
    let end = sources.get(file).text.len();
    parse_part(
        Part {
            file,
            start: 0,
            end,
        },
        sources,
        diags,
    )
}

/// The documents of one part of a file, their spans in the file's own offsets. A syntax error
/// or a breached parse budget is reported at its location and the part yields nothing.
fn parse_part(part: Part, sources: &Sources, diags: &mut Diagnostics) -> Vec<Node> {
    let text = &sources.get(part.file).text[part.start..part.end];
    let mut documents = if let Some(documents) =
        super::plain_yaml::parse_plain(text, &parse_budget())
    {
        documents
    } else {
        match serde_saphyr::from_str_multiple_with_options::<Node, Vec<Node>>(text, parse_options())
        {
            Ok(documents) => documents,
            Err(error) => {
                diags.push(syntax_error(part.file, text, part.start, &error));
                return Vec::new();
            }
        }
    };
    if part.start > 0 {
        documents.iter_mut().for_each(|d| d.shift(part.start));
    }
    documents
}

/// The error inside serde-saphyr's wrappers (snippets, alias context).
fn innermost(mut error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error: inner, .. }
    | serde_saphyr::Error::WithSnippet { error: inner, .. } = error
    {
        error = inner;
    }
    error
}

/// The diagnostic for a parse error in `text`, which starts at byte `base` of `file`.
fn syntax_error(
    file: FileId,
    text: &str,
    base: usize,
    error: &serde_saphyr::Error,
) -> ManifestError {
    let detail = error.to_string();
    let detail = detail.lines().next().unwrap_or("invalid YAML");
    let (code, message, help) = if matches!(
        innermost(error),
        serde_saphyr::Error::UnknownAnchor { .. }
    ) {
        // A mistyped or missing anchor, not an attack: say so.
        (
            "yaml_syntax",
            "this alias refers to no anchor".to_owned(),
            "define the anchor (`&name`) before its alias (`*name`), in the same document: YAML anchors do not cross documents or files",
        )
    } else if detail.contains("Depth")
        || detail.contains("depth")
        || detail.contains("recursion limit")
    {
        (
            "yaml_limit",
            "YAML nests too deeply".to_owned(),
            "orgform refuses documents nested deeper than 32 levels; manifests need about 6",
        )
    } else if detail.contains("alias") || detail.contains("Alias") || detail.contains("anchor") {
        (
            "yaml_limit",
            "YAML aliases expand to too much data".to_owned(),
            "orgform refuses documents whose aliases expand without bound (\"billion laughs\"); write the values out",
        )
    } else if detail.contains("budget") {
        (
            "yaml_limit",
            format!("YAML too large: {detail}"),
            "split the organizations over several files",
        )
    } else {
        (
            "yaml_syntax",
            format!("invalid YAML: {detail}"),
            "fix the YAML syntax; a linter such as yamllint shows the exact rule",
        )
    };
    let offset = error
        .location()
        .map(|loc| {
            let span = loc.span();
            span.byte_offset().unwrap_or(span.offset()) as usize
        })
        .unwrap_or(0)
        .min(text.len());
    ManifestError::new(code, message)
        .at(Span::new(file, base + offset, 0), "here")
        .help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A big file cut into parts parses to exactly the documents, at exactly the offsets, that
    /// parsing it whole gives; cuts fall only on document markers at the start of a line.
    #[test]
    fn parts_of_a_big_file_parse_as_the_whole_file() {
        let mut text = String::from("# a comment before the first document\n");
        for i in 0..4_000 {
            text.push_str(&format!(
                "---\norganization: org-{i}\nname: \"Org {i}\"\nnote: |\n  --- not a marker: indented\n  line two\nmembers:\n  - {{ email: a@org{i}.example, role: admin }}\n"
            ));
        }
        let mut sources = Sources::default();
        let file = sources.add(PathBuf::from("big.yaml"), text.clone());
        let parts = parts(file, &sources);
        assert!(parts.len() >= 3, "{} parts", parts.len());
        assert_eq!(parts.first().unwrap().start, 0);
        assert_eq!(parts.last().unwrap().end, text.len());
        for pair in parts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            assert!(text[pair[1].start..].starts_with("---\n"));
        }
        let mut diags = Diagnostics::default();
        let whole = parse_documents(file, &sources, &mut diags);
        let pieces: Vec<Node> = parts
            .iter()
            .flat_map(|&p| parse_part(p, &sources, &mut diags))
            .collect();
        assert!(diags.is_empty());
        assert_eq!(whole.len(), 4_000);
        assert_eq!(format!("{whole:?}"), format!("{pieces:?}"));
    }

    #[test]
    fn small_files_and_files_with_directives_stay_whole() {
        let mut sources = Sources::default();
        let small = sources.add(PathBuf::from("a.yaml"), "---\na: 1\n---\nb: 2\n");
        assert_eq!(parts(small, &sources).len(), 1);
        let mut text = String::from("%YAML 1.2\n");
        for i in 0..40_000 {
            text.push_str(&format!("---\nkey: value {i}\n"));
        }
        let directive = sources.add(PathBuf::from("b.yaml"), text);
        assert_eq!(parts(directive, &sources).len(), 1);
    }

    /// A syntax error in a later part points at its place in the file.
    #[test]
    fn an_error_in_a_later_part_points_into_the_file() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("---\norganization: org-{i}\nname: x\n"));
        }
        let at = text.len();
        text.push_str("---\nname: [unclosed\n");
        let mut sources = Sources::default();
        let file = sources.add(PathBuf::from("big.yaml"), text);
        let parts = parts(file, &sources);
        assert!(parts.len() > 1);
        let mut diags = Diagnostics::default();
        for &part in &parts {
            parse_part(part, &sources, &mut diags);
        }
        let errors = diags.finish(&sources);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let offset = errors[0].span().unwrap().offset();
        assert!(offset >= at, "{offset} < {at}");
    }
}
