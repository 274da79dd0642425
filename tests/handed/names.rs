//! Names are compared in Unicode NFC form: a live name in decomposed form matches the
//! manifest's composed one (and `previously`), so no create makes a permanent duplicate.

use super::{orgform, writes};
use crate::plan::support::Scenario;

const COMPOSED: &str = "Caf\u{e9} Ltd";
const DECOMPOSED: &str = "Cafe\u{301} Ltd";

#[tokio::test(flavor = "multi_thread")]
async fn decomposed_and_composed_names_match() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario
        .sandbox
        .seed(&format!(
            "nirvana:\n  organizations:\n    - {{ name: \"{DECOMPOSED}\" }}\n    - {{ name: \"Old B\\u00e9b\\u00e9\" }}\n"
        ))
        .await;
    // The second organization was renamed; its earlier name is written decomposed.
    scenario.manifest(
        "cafe.yaml",
        &format!("organization: cafe\nname: {COMPOSED}\n---\norganization: bebe\nname: New Bebe\npreviously: [\"Old Be\\u0301be\\u0301\"]\n"),
    );
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy"),
        "{stdout}"
    );
    assert!(stdout.contains("org.bebe"), "{stdout}");
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    // One rename, and no create: no duplicate of the café.
    let written = writes(&scenario).await;
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].starts_with("\"PATCH\" "), "{written:?}");
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}
