//! A workspace pointed at an in-process sandbox, and a plan of it through the library.

use std::time::Duration;

use orgform::model::{LiveState, ResourceAddress};
use orgform::plan::{Plan, PlanInput, plan};
use orgform::provider::settings::ClientOverrides;
use orgform::provider::{RefreshOptions, RetryPolicy};
use orgform::render::{render_human, render_json};
use orgform::session::{Failure, Session};

pub use crate::sandbox::support::TestSandbox;

/// The time every scenario's plan is computed at.
pub const FIXED_NOW: &str = "2026-11-01T00:00:00Z";

pub struct Scenario {
    pub sandbox: TestSandbox,
    pub dir: tempfile::TempDir,
}

/// Credentials come from the environment, as in real use.
pub fn env(name: &str) -> Option<String> {
    match name {
        "TEST_SECRET" => Some("sandbox-secret".into()),
        "TEST_NIRVANA_KEY" => Some("sandbox-nirvana-key".into()),
        "TEST_WORKOS_KEY" => Some("sandbox-workos-key".into()),
        // The shared lock's server (plans take no lock, so a workspace naming it still plans).
        "ORGFORM_LOCK_URL" => std::env::var("ORGFORM_TEST_POSTGRES_URL").ok(),
        _ => None,
    }
}

/// Fast retries, so fault tests do not wait for real backoff.
pub fn fast_retries() -> ClientOverrides {
    ClientOverrides {
        parallelism: None,
        retry: Some(RetryPolicy {
            max_retries: 6,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
            timeout: Duration::from_secs(10),
            ..RetryPolicy::default()
        }),
        ..ClientOverrides::default()
    }
}

impl Scenario {
    /// A workspace with one provider `main` of `kind`, and `policy` (YAML, may be empty).
    pub async fn new(kind: &str, policy: &str) -> Scenario {
        let sandbox = TestSandbox::start().await;
        let dir = tempfile::tempdir().unwrap();
        let base = sandbox.running.base_url();
        let provider = match kind {
            "scalekit" => format!(
                "    kind: scalekit\n    url: {base}/scalekit\n    client_id: sandbox-client\n    client_secret: ${{TEST_SECRET}}\n"
            ),
            "nirvana" => format!(
                "    kind: nirvana\n    url: {base}/nirvana\n    api_key: ${{TEST_NIRVANA_KEY}}\n"
            ),
            "pingone" => format!(
                "    kind: pingone\n    url: {base}/pingone\n    auth_url: {base}/pingone/auth\n    environment_id: sandbox-env\n    client_id: sandbox-client\n    client_secret: ${{TEST_SECRET}}\n"
            ),
            "workos" => format!(
                "    kind: workos\n    url: {base}/workos\n    api_key: ${{TEST_WORKOS_KEY}}\n"
            ),
            other => panic!("no such kind {other}"),
        };
        std::fs::write(
            dir.path().join("orgform.yaml"),
            format!("providers:\n  main:\n{provider}{policy}"),
        )
        .unwrap();
        Scenario { sandbox, dir }
    }

    pub fn manifest(&self, name: &str, yaml: &str) {
        std::fs::write(self.dir.path().join(name), yaml).unwrap();
    }

    /// Seeds `n` organizations of `vendor` (`item(i)`: one entry of its `organizations:` list)
    /// and declares `n` in `orgs.yaml` (`document(i)`: one document, without its `---`).
    pub async fn seed_and_declare(
        &self,
        vendor: &str,
        n: usize,
        item: impl Fn(usize) -> String,
        document: impl Fn(usize) -> String,
    ) {
        let mut seed = format!("{vendor}:\n  organizations:\n");
        let mut manifests = String::new();
        for i in 0..n {
            seed.push_str(&format!("    - {}\n", item(i)));
            manifests.push_str(&format!("---\n{}", document(i)));
        }
        self.sandbox.seed(&seed).await;
        self.manifest("orgs.yaml", &manifests);
    }

    pub async fn session(&self, overrides: ClientOverrides) -> Session {
        match Session::open(self.dir.path(), &env, overrides).await {
            Ok(session) => session,
            Err(failure) => panic!("{failure:?}"),
        }
    }

    /// Refreshes and plans; `targets` as `--target` would give them.
    pub async fn plan(&self, targets: &[&str]) -> Result<(Plan, LiveState), Failure> {
        self.plan_with(targets, ClientOverrides::default()).await
    }

    pub async fn plan_with(
        &self,
        targets: &[&str],
        overrides: ClientOverrides,
    ) -> Result<(Plan, LiveState), Failure> {
        let session = self.session(overrides).await;
        let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        let targets: Vec<ResourceAddress> = session.targets(&targets)?;
        let mut live = session
            .refresh(&RefreshOptions {
                targets: targets.clone(),
                progress: None,
            })
            .await?;
        // Planning takes its clock from the live state: fix it, so snapshots do not age.
        live.fetched_at = FIXED_NOW.to_owned();
        let planned = plan(PlanInput {
            targets: &targets,
            keep_no_ops: true,
            ..PlanInput::whole(&session.desired, &live)
        })
        .map_err(|e| session.identity_failure(e))?;
        Ok((planned, live))
    }
}

/// The human plan without colour, and the JSON plan, for snapshots.
pub fn rendered(plan: &Plan) -> (String, String) {
    (render_human(plan, false), render_json(plan))
}

/// (action, reason) of the change at `address` with `action`, for focused assertions.
pub fn actions(plan: &Plan) -> Vec<(String, String, String)> {
    plan.resource_changes
        .iter()
        .filter(|c| c.action != orgform::plan::Action::NoOp)
        .map(|c| {
            (
                c.address.to_string(),
                c.action.as_str().to_owned(),
                serde_json::to_value(c.action_reason)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}
