//! The text of every file read from a workspace, kept so diagnostics can quote it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::NamedSource;

use super::span::FileId;

/// One file as read from disk.
#[derive(Debug)]
pub struct SourceFile {
    /// The path shown to the user: the workspace directory as given, joined with the file's path.
    pub path: PathBuf,
    pub text: Arc<str>,
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

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.get(id).path
    }

    /// The file as miette wants it for a labelled snippet.
    pub fn named(&self, id: FileId) -> NamedSource<Arc<str>> {
        let file = self.get(id);
        NamedSource::new(file.path.display().to_string(), file.text.clone()).with_language("yaml")
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}
