//! The two ways users lay out a workspace's organizations, for the benchmarks that measure
//! both (each example includes this file with `#[path]`).

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layout {
    /// Every organization's document in one file, `orgs/all.yaml`.
    OneFile,
    /// One file per organization, `orgs/00000.yaml`, `orgs/00001.yaml`, …
    FilePerOrganization,
}

// Each example that includes this file uses part of it.
#[allow(dead_code)]
impl Layout {
    pub const BOTH: [Layout; 2] = [Layout::OneFile, Layout::FilePerOrganization];

    pub fn parse(text: &str) -> Layout {
        match text {
            "one-file" => Layout::OneFile,
            "per-org" => Layout::FilePerOrganization,
            other => panic!("a layout is one-file or per-org, not {other}"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Layout::OneFile => "one file",
            Layout::FilePerOrganization => "file per org",
        }
    }

    /// Writes `documents` (YAML documents, each starting with `---`) under `workspace/orgs/`.
    pub fn write(self, workspace: &Path, documents: &str) {
        let orgs = workspace.join("orgs");
        std::fs::create_dir_all(&orgs).unwrap();
        match self {
            Layout::OneFile => std::fs::write(orgs.join("all.yaml"), documents).unwrap(),
            Layout::FilePerOrganization => {
                for (n, document) in documents
                    .split("---\n")
                    .filter(|d| !d.is_empty())
                    .enumerate()
                {
                    std::fs::write(orgs.join(format!("{n:05}.yaml")), document).unwrap();
                }
            }
        }
    }
}
