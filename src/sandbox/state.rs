//! What a running sandbox holds and every handler shares: the store, the credentials it
//! accepts, tokens, faults, statistics, the vendor shapes and the control plane's guard. The
//! vendor emulators depend on this and on the shared helpers, never on the module that routes
//! to them.

use std::sync::{Arc, Mutex, MutexGuard};

use super::faults::Faults;
use super::shapes::Shapes;
use super::stats::{Stats, StatsReport};
use super::store::Store;
use super::tokens::Tokens;

/// The credentials the sandbox accepts (docs/sandbox.md gives the defaults).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub nirvana_api_key: String,
    pub scalekit_client_id: String,
    pub scalekit_client_secret: String,
    pub pingone_environment_id: String,
    pub pingone_client_id: String,
    pub pingone_client_secret: String,
    pub workos_api_key: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            nirvana_api_key: "sandbox-nirvana-key".into(),
            scalekit_client_id: "sandbox-client".into(),
            scalekit_client_secret: "sandbox-secret".into(),
            pingone_environment_id: "sandbox-env".into(),
            pingone_client_id: "sandbox-client".into(),
            pingone_client_secret: "sandbox-secret".into(),
            workos_api_key: "sandbox-workos-key".into(),
        }
    }
}

/// Everything a running sandbox holds.
pub struct Sandbox {
    pub store: Store,
    pub credentials: Credentials,
    pub(super) tokens: Mutex<Tokens>,
    pub(super) faults: Mutex<Faults>,
    pub(super) stats: Mutex<Stats>,
    pub(super) shapes: Mutex<Shapes>,
    /// When set, the control plane takes only requests that carry it.
    pub(super) control_token: Option<String>,
    /// The port served and the names (besides IP literals and `localhost`) the control plane
    /// answers to: a `Host` of any other name is a DNS-rebinding page.
    pub(super) served: ServedAs,
}

/// What a request's `Host` must say for the control plane to answer it.
#[derive(Debug, Clone, Default)]
pub struct ServedAs {
    pub port: u16,
    pub host_names: Vec<String>,
}

impl ServedAs {
    /// Whether `host` (a `Host` header: `name[:port]`) names this sandbox: the port served and
    /// an IP literal, `localhost`, or a configured name.
    pub fn accepts(&self, host: &str) -> bool {
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !port.contains(']') => (name, port.parse::<u16>().ok()),
            _ => (host, Some(80)),
        };
        if port != Some(self.port) {
            return false;
        }
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<std::net::IpAddr>().is_ok()
            || bare.eq_ignore_ascii_case("localhost")
            || self.host_names.iter().any(|n| n.eq_ignore_ascii_case(bare))
    }

    pub fn describe(&self) -> String {
        let mut names = vec!["an IP address".to_owned(), "localhost".to_owned()];
        names.extend(self.host_names.iter().cloned());
        format!("{} with port {}", names.join(", "), self.port)
    }
}

pub type Shared = Arc<Sandbox>;

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sandbox {
    /// The vendor shapes served now.
    pub fn shapes(&self) -> Shapes {
        *lock(&self.shapes)
    }

    pub fn set_shapes(&self, shapes: Shapes) {
        *lock(&self.shapes) = shapes;
    }

    pub fn stats(&self) -> StatsReport {
        lock(&self.stats).report()
    }

    pub fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }

    pub fn token_ttl(&self) -> Option<u64> {
        lock(&self.faults).config.token_ttl_seconds
    }
}
