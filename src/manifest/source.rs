//! The text of every file read from a workspace, kept so diagnostics can quote it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use super::span::FileId;

/// One file as read from disk.
#[derive(Debug)]
pub struct SourceFile {
    /// The path shown to the user: the workspace directory as given, joined with the file's path.
    pub path: PathBuf,
    pub text: Arc<str>,
    /// Where each line starts, computed when a diagnostic first needs it.
    lines: std::sync::OnceLock<Arc<[usize]>>,
}

impl SourceFile {
    /// The byte offsets where lines start, breaking lines as miette does (`\n`, `\r\n`, `\r`).
    fn line_starts(&self) -> Arc<[usize]> {
        self.lines
            .get_or_init(|| {
                let bytes = self.text.as_bytes();
                let mut starts = vec![0];
                let mut i = 0;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                            i += 1;
                            starts.push(i + 1);
                        }
                        b'\r' | b'\n' => starts.push(i + 1),
                        _ => {}
                    }
                    i += 1;
                }
                starts.into()
            })
            .clone()
    }

    /// The 1-based line and column (in characters) of byte `offset`.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let starts = self.line_starts();
        let line = line_of(&starts, offset);
        let start = starts[line];
        let column = self
            .text
            .get(start..offset.min(self.text.len()))
            .map_or(0, |s| s.chars().count());
        (line + 1, column + 1)
    }
}

/// The 0-based line holding byte `offset`, by binary search in the line starts.
fn line_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&start| start <= offset).max(1) - 1
}

/// A file as miette quotes it in a diagnostic. miette's own sources find a span's line by
/// scanning from the file's start, so a file with many diagnostics took quadratic time (200,000
/// bad documents did not finish in two minutes); this one finds the lines by binary search in
/// the file's line index, and lets miette lay out only the few lines around the span.
#[derive(Debug, Clone)]
pub struct IndexedSource {
    name: String,
    text: Arc<str>,
    lines: Arc<[usize]>,
}

impl SourceCode for IndexedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let end = span.offset() + span.len();
        if end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        // One line more on each side than asked for, so miette sees the same line breaks around
        // the context as in the whole file.
        let first = line_of(&self.lines, span.offset()).saturating_sub(context_lines_before + 1);
        let last = line_of(&self.lines, end.saturating_sub(1).max(span.offset()))
            + context_lines_after
            + 2;
        let start = self.lines[first];
        let stop = self.lines.get(last).copied().unwrap_or(self.text.len());
        let window = &self.text.as_bytes()[start..stop];
        let local = SourceSpan::new((span.offset() - start).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        let data = &self.text.as_bytes()[start + inner.span().offset()..][..inner.span().len()];
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            SourceSpan::new((inner.span().offset() + start).into(), inner.span().len()),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

/// Every file read while loading a workspace, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: PathBuf, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 files"));
        self.files.push(SourceFile {
            path,
            text: text.into(),
            lines: std::sync::OnceLock::new(),
        });
        id
    }

    /// A SHA-256 digest of every file read (its path below `root` and its text, in the order
    /// read): a saved plan records it, so that it is not applied to other manifests.
    pub fn digest(&self, root: &Path) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for file in &self.files {
            let relative = file.path.strip_prefix(root).unwrap_or(&file.path);
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            hasher.update(file.text.as_bytes());
            hasher.update([0]);
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A SHA-256 digest of each file's text by its path below `root` (`/`-separated): a saved
    /// plan records them only to name the files that changed since it was made (the
    /// workspace's check is [`Sources::digest`]).
    pub fn file_digests(&self, root: &Path) -> std::collections::BTreeMap<String, String> {
        use sha2::{Digest, Sha256};
        self.files
            .iter()
            .map(|file| {
                let relative = file.path.strip_prefix(root).unwrap_or(&file.path);
                let name = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let digest = Sha256::digest(file.text.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                (name, digest)
            })
            .collect()
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.get(id).path
    }

    /// The file as miette wants it for a labelled snippet.
    pub fn named(&self, id: FileId) -> IndexedSource {
        let file = self.get(id);
        IndexedSource {
            name: file.path.display().to_string(),
            text: file.text.clone(),
            lines: file.line_starts(),
        }
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The indexed source quotes exactly what miette's own source quotes.
        #[test]
        fn quotes_what_miettes_own_source_quotes(
            text in "([a-c ]{0,6}(\n|\r\n|\r)){0,12}[a-c]{0,4}",
            start in 0usize..80,
            len in 0usize..20,
            before in 0usize..3,
            after in 0usize..3,
        ) {
            let mut sources = Sources::default();
            let id = sources.add(PathBuf::from("f.yaml"), text.as_str());
            let indexed = sources.named(id);
            let start = start.min(text.len());
            let len = len.min(text.len() - start);
            let span = SourceSpan::new(start.into(), len);
            let ours = indexed.read_span(&span, before, after);
            let theirs = text.as_bytes().read_span(&span, before, after);
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) => {
                    prop_assert_eq!(ours.data(), theirs.data());
                    prop_assert_eq!(ours.span(), theirs.span());
                    prop_assert_eq!(ours.line(), theirs.line());
                    prop_assert_eq!(ours.column(), theirs.column());
                    prop_assert_eq!(ours.line_count(), theirs.line_count());
                }
                (Err(_), Err(_)) => {}
                (ours, theirs) => prop_assert!(false, "{:?} vs {:?}", ours.is_ok(), theirs.is_ok()),
            }
        }
    }
}
