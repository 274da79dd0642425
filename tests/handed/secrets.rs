//! Secrets in connection strings: the lock server's password, in each of the three places a
//! connection string keeps one, never reaches any output when the server cannot be reached.

use crate::plan::support::Scenario;
use crate::support::run_orgform_async;

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_lock_server_never_shows_its_password() {
    let scenario = Scenario::new("nirvana", "lock:\n  postgres: ${ORGFORM_LOCK_URL}\n").await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    // Port 1 on loopback: nothing listens there, so every form fails to connect.
    for url in [
        "postgres://orgform:pw-in-userinfo@127.0.0.1:1/locks",
        "postgresql://127.0.0.1:1/locks?user=orgform&password=pw-in-query&connect_timeout=2",
        "host=127.0.0.1 port=1 user=orgform password='pw-in-pairs' dbname=locks connect_timeout=2",
    ] {
        let (code, stdout, stderr) = run_orgform_async(
            &["apply", &dir, "--auto-approve", "-v"],
            &[
                ("TEST_NIRVANA_KEY", "sandbox-nirvana-key"),
                ("ORGFORM_LOCK_URL", url),
            ],
        )
        .await;
        assert_eq!(code, 1, "{url}: {stdout}{stderr}");
        assert!(
            stderr.contains("cannot lock with the Postgres server at"),
            "{stderr}"
        );
        assert!(stderr.contains("***"), "{url}: {stderr}");
        assert!(
            !format!("{stdout}{stderr}").contains("pw-in-"),
            "{url}: {stdout}{stderr}"
        );
    }
    assert_eq!(
        scenario
            .sandbox
            .count("POST", "/nirvana/v1/organizations", 200)
            .await,
        0
    );
}
