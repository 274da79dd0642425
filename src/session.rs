//! One command's connection to a workspace: the validated desired state, the embedded sandbox
//! when a provider asks for it, and a connected client per provider.

use std::collections::BTreeMap;
use std::path::Path;

use crate::manifest::{Diagnostics, LoadedWorkspace, ManifestError};
use crate::model::{DesiredState, LiveState, ResourceAddress, load_desired_state};
use crate::plan::identity::IdentityError;
use crate::provider::settings::{ClientOverrides, SandboxEndpoint, connect};
use crate::provider::{AnyProvider, ApiError, RefreshError, RefreshOptions, SetupError, refresh};
use crate::sandbox::{self, RunningSandbox, SandboxOptions};

/// Where the embedded sandbox keeps its state, inside the workspace.
pub const SANDBOX_DB: &str = ".orgform/sandbox.sqlite";
/// Where the local locks live, inside the workspace.
pub use crate::lock::file::LOCK_DIR;

/// Why a command could not do its work; each kind is reported in full by `output`.
#[derive(Debug)]
pub enum Failure {
    Manifest(Vec<ManifestError>),
    Setup(Vec<SetupError>),
    Api(Vec<ApiError>),
    Usage(String),
    Sandbox(String),
    Lock(Box<crate::lock::LockError>),
}

impl Failure {
    /// The failure as plain text, each error on a line (for reports; the terminal gets the
    /// rendered diagnostics).
    pub fn plain_text(&self) -> String {
        let lines: Vec<String> = match self {
            Failure::Manifest(errors) => errors.iter().map(|e| e.to_string()).collect(),
            Failure::Setup(errors) => errors.iter().map(|e| e.to_string()).collect(),
            Failure::Api(errors) => errors.iter().map(|e| e.to_string()).collect(),
            Failure::Usage(message) | Failure::Sandbox(message) => vec![message.clone()],
            Failure::Lock(error) => vec![error.to_string()],
        };
        lines.join("\n")
    }
}

pub struct Session {
    /// The desired state of the providers selected (all of them, or those `--provider` named).
    pub desired: DesiredState,
    /// The providers `--provider` selected (empty: every provider of the workspace).
    pub selected: Vec<String>,
    pub workspace: LoadedWorkspace,
    pub providers: BTreeMap<String, AnyProvider>,
    sandbox: Option<RunningSandbox>,
}

impl Session {
    /// What a saved plan records of this workspace: where it is, and a digest of its files.
    pub fn saved_workspace(&self) -> crate::plan::SavedWorkspace {
        let root = &self.workspace.root;
        crate::plan::SavedWorkspace {
            dir: std::path::absolute(root).unwrap_or_else(|_| root.clone()),
            manifests_sha256: self.workspace.sources.digest(root),
            files: self.workspace.sources.file_digests(root),
        }
    }

    /// Loads the workspace and connects every provider (starting the sandbox if one needs it).
    pub async fn open(
        dir: &Path,
        env: &crate::manifest::Env,
        overrides: ClientOverrides,
    ) -> Result<Session, Failure> {
        Self::open_only(dir, env, overrides, &[]).await
    }

    /// As [`Session::open`], keeping only the providers `only` names (`--provider`; empty:
    /// every one): the whole workspace is still validated, but the others are neither
    /// connected (their credentials are not needed) nor read, planned or locked, so that a CI
    /// matrix can shard a fleet by provider target.
    pub async fn open_only(
        dir: &Path,
        env: &crate::manifest::Env,
        overrides: ClientOverrides,
        only: &[String],
    ) -> Result<Session, Failure> {
        let (mut desired, workspace) =
            load_desired_state(dir, env).map_err(|(errors, _)| Failure::Manifest(errors))?;
        if !only.is_empty() {
            let unknown: Vec<&String> = only
                .iter()
                .filter(|name| !desired.providers.contains_key(*name))
                .collect();
            if !unknown.is_empty() {
                let declared: Vec<&str> = desired.providers.keys().map(String::as_str).collect();
                return Err(Failure::Usage(format!(
                    "--provider {}: orgform.yaml declares no such provider (it declares {})",
                    unknown
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    declared.join(", ")
                )));
            }
            desired.providers.retain(|name, _| only.contains(name));
            desired
                .organizations
                .retain(|_, org| only.contains(&org.provider));
        }
        let sandbox =
            if desired.providers.values().any(|p| p.sandbox) {
                let options = SandboxOptions {
                    db: Some(dir.join(SANDBOX_DB)),
                    ..SandboxOptions::default()
                };
                Some(sandbox::start(options).await.map_err(|e| {
                    Failure::Sandbox(format!("cannot start the embedded sandbox: {e}"))
                })?)
            } else {
                None
            };
        let endpoint = sandbox.as_ref().map(|s| SandboxEndpoint {
            base_url: s.base_url(),
            credentials: s.shared.credentials.clone(),
        });
        let mut providers = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, provider) in &desired.providers {
            match connect(provider, endpoint.as_ref(), env, overrides) {
                Ok(client) => {
                    let any = AnyProvider::new(provider.kind, client);
                    providers.insert(name.clone(), any);
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(Failure::Setup(errors));
        }
        let mut selected = only.to_vec();
        selected.sort();
        selected.dedup();
        let session = Session {
            desired,
            selected,
            workspace,
            providers,
            sandbox,
        };
        session.recall_paces();
        Ok(session)
    }

    /// Takes the lock of every provider target of the workspace (see [`crate::lock`]), waiting
    /// up to `timeout` for one another run holds.
    pub async fn lock(
        &self,
        operation: &str,
        timeout: std::time::Duration,
    ) -> Result<crate::lock::Held, Failure> {
        let root = &self.workspace.root;
        let info = crate::lock::LockInfo::for_this_run(operation, root);
        let targets = self.lock_targets();
        let failed = |e| Failure::Lock(Box::new(e));
        // The local lock always; the shared one as well when the workspace names one.
        let local = crate::lock::file::FileLocks::new(root.clone());
        let held = crate::lock::acquire(&local, &targets, &info, timeout)
            .await
            .map_err(failed)?;
        let Some(url) = &self.desired.lock.postgres else {
            return Ok(held);
        };
        let shared = crate::lock::postgres::PostgresLocks::connect(url.expose())
            .await
            .map_err(failed)?;
        let shared = crate::lock::acquire(&shared, &targets, &info, timeout)
            .await
            .map_err(failed)?;
        Ok(held.and(shared))
    }

    /// What each provider writes to: its vendor and base URL, or for the embedded sandbox its
    /// database file (whichever port this run's server listens on).
    fn lock_targets(&self) -> Vec<String> {
        self.desired
            .providers
            .keys()
            .map(|name| self.target_of(name))
            .collect()
    }

    /// A provider's target: the key of its lock and of its remembered pace.
    fn target_of(&self, name: &str) -> String {
        let provider = &self.desired.providers[name];
        let kind = provider.kind.as_str();
        if provider.sandbox {
            let db = self.workspace.root.join(SANDBOX_DB);
            let db = std::path::absolute(&db).unwrap_or(db);
            format!("{kind} sandbox {}", db.display())
        } else {
            let url = self.providers[name].client().base_url();
            format!("{kind} {}", crate::redact::redact(url))
        }
    }

    /// Starts each provider's pace from what earlier runs learned of its target (see
    /// [`crate::provider::pace_memory`]); `-v` says where each starts.
    fn recall_paces(&self) {
        let now = chrono::Utc::now();
        for (name, provider) in &self.providers {
            let target = self.target_of(name);
            let gate = provider.client().gate();
            let recalled = crate::provider::pace_memory::recall(&self.workspace.root, &target, now);
            if let Some(recalled) = recalled {
                gate.start_from(recalled.knowledge);
            }
            let (start, rate) = gate.start();
            let Some(rate) = rate else { continue };
            let why = match (start, recalled) {
                (crate::provider::gate::Start::Ceiling(_), _) => {
                    "its requests_per_second".to_owned()
                }
                (crate::provider::gate::Start::Learned(learned), Some(recalled)) => format!(
                    "what an earlier run learned ({}: {:.1} requests/s {})",
                    recalled.describe_age(),
                    learned.rate,
                    if learned.throttled {
                        "sustained while throttled; growing carefully beyond it"
                    } else {
                        "accepted without throttling; growing quickly beyond it"
                    }
                ),
                _ => "nothing learned yet; growing quickly until the vendor throttles".to_owned(),
            };
            tracing::info!(
                "provider `{name}` ({target}): pace starts at {rate:.1} requests/s: {why}"
            );
        }
    }

    /// Remembers what each provider's gate learned this run, for the next run to start from. A
    /// failure to write it costs the next run a slow start, never this run its result.
    pub fn remember_paces(&self) {
        let now = chrono::Utc::now();
        for (name, provider) in &self.providers {
            let Some(learned) = provider.client().gate().knowledge() else {
                continue;
            };
            let target = self.target_of(name);
            if let Err(e) =
                crate::provider::pace_memory::remember(&self.workspace.root, &target, learned, now)
            {
                tracing::warn!("cannot remember the pace of provider `{name}`: {e}");
            }
        }
    }

    /// `--target` addresses, checked against the workspace.
    pub fn targets(&self, texts: &[String]) -> Result<Vec<ResourceAddress>, Failure> {
        let mut targets = Vec::new();
        for text in texts {
            if text.contains(['*', '?']) {
                targets.extend(self.organizations_matching(text)?);
                continue;
            }
            let address: ResourceAddress = text
                .parse()
                .map_err(|e: crate::model::AddressParseError| Failure::Usage(e.to_string()))?;
            if !self
                .desired
                .organizations
                .keys()
                .any(|k| k.as_str() == address.org)
            {
                return Err(Failure::Usage(format!(
                    "--target {text}: no manifest declares organization `{}`",
                    address.org
                )));
            }
            targets.push(address);
        }
        Ok(targets)
    }

    /// The organizations whose address matches a `--target` pattern (`*` any run of
    /// characters, `?` one; brackets are literal, as in `domain[...]`).
    fn organizations_matching(&self, pattern: &str) -> Result<Vec<ResourceAddress>, Failure> {
        let mut escaped = String::with_capacity(pattern.len());
        for c in pattern.chars() {
            match c {
                '[' | ']' | '{' | '}' | '\\' => {
                    escaped.push('[');
                    escaped.push(c);
                    escaped.push(']');
                }
                c => escaped.push(c),
            }
        }
        let glob = globset::GlobBuilder::new(&escaped)
            .literal_separator(false)
            .build()
            .map_err(|e| Failure::Usage(format!("--target {pattern}: {e}")))?
            .compile_matcher();
        let matched: Vec<ResourceAddress> = self
            .desired
            .organizations
            .keys()
            .filter_map(|key| {
                format!("org.{}", key.as_str())
                    .parse::<ResourceAddress>()
                    .ok()
            })
            .filter(|address| glob.is_match(address.to_string()))
            .collect();
        if matched.is_empty() {
            return Err(Failure::Usage(format!(
                "--target {pattern}: the pattern matches no organization the manifests declare"
            )));
        }
        Ok(matched)
    }

    pub async fn refresh(&self, options: &RefreshOptions) -> Result<LiveState, Failure> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        refresh(&self.desired, &self.providers, now, options)
            .await
            .map_err(|e| match e {
                RefreshError::Api(errors) => Failure::Api(errors),
                RefreshError::Setup(errors) => Failure::Setup(errors),
                RefreshError::Identity(errors) => self.identity_failure(errors),
            })
    }

    /// Identity errors as manifest diagnostics, pointing at the organization's manifest.
    pub fn identity_failure(&self, errors: Vec<IdentityError>) -> Failure {
        let mut diags = Diagnostics::default();
        for e in errors {
            diags.push(
                ManifestError::new("identity", e.message)
                    .at(e.span, "here")
                    .help(e.help),
            );
        }
        Failure::Manifest(diags.finish(&self.workspace.sources))
    }

    /// Stops the embedded sandbox, if any.
    pub async fn close(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.stop().await;
        }
    }
}
