//! State survives a restart with the same database file.

use orgform::sandbox::SandboxOptions;
use reqwest::Method;
use serde_json::json;

use super::support::TestSandbox;

#[tokio::test]
async fn state_survives_a_restart_with_the_same_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.sqlite");
    let options = || SandboxOptions {
        db: Some(db.clone()),
        ..SandboxOptions::default()
    };

    let first = TestSandbox::start_with(options()).await;
    let nirvana = first.nirvana();
    let org = first
        .call(
            Method::POST,
            "/nirvana/v1/organizations",
            &nirvana,
            Some(json!({ "name": "Acme" })),
        )
        .await
        .body;
    let scalekit = first.scalekit().await;
    let sk = first
        .call(
            Method::POST,
            "/scalekit/api/v1/organizations",
            &scalekit,
            Some(json!({ "display_name": "Acme", "external_id": "acme" })),
        )
        .await
        .body;
    first.running.stop().await;

    let second = TestSandbox::start_with(options()).await;
    let id = org["id"].as_str().unwrap();
    assert_eq!(
        second
            .get(&format!("/nirvana/v1/organizations/{id}"), &nirvana)
            .await
            .body,
        org
    );
    let scalekit = second.scalekit().await;
    let again = second
        .get("/scalekit/api/v1/organizations:external/acme", &scalekit)
        .await;
    assert_eq!(again.body, sk);
    // Ids keep counting from where they were; the default seed is not loaded twice.
    let next = second
        .call(
            Method::POST,
            "/nirvana/v1/organizations",
            &nirvana,
            Some(json!({ "name": "Beta" })),
        )
        .await
        .body;
    assert_ne!(next["id"], org["id"]);
    let pingone = second.pingone().await;
    assert_eq!(
        second.get("/pingone/v1/organizations", &pingone).await.body["count"],
        1
    );
}
