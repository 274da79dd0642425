//! The emulated vendors: the sandbox's list of them, each served under its own path prefix.

use serde::{Deserialize, Serialize};

/// The emulated vendors; also the path prefix each is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Nirvana,
    Scalekit,
    #[serde(rename = "pingone")]
    PingOne,
    Workos,
}

impl Vendor {
    pub const ALL: [Vendor; 4] = [
        Vendor::Nirvana,
        Vendor::Scalekit,
        Vendor::PingOne,
        Vendor::Workos,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Nirvana => "nirvana",
            Vendor::Scalekit => "scalekit",
            Vendor::PingOne => "pingone",
            Vendor::Workos => "workos",
        }
    }

    /// The vendor whose prefix starts `path`.
    pub fn of_path(path: &str) -> Option<Vendor> {
        Vendor::ALL.into_iter().find(|v| {
            path.strip_prefix('/')
                .is_some_and(|p| p.starts_with(v.as_str()))
        })
    }
}
