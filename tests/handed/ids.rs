//! Ids orgform puts into request paths: a vendor answer holding an id that could not be a
//! vendor id (`/`, `..`, `?`, `#`, `%2F`) is refused where it is decoded, at refresh, so that no
//! request ever leaves for another path. Every answer whose ids orgform later uses in a path is
//! mangled in turn.

use serde_json::json;

use super::{orgform, writes};
use crate::plan::support::Scenario;

/// The hostile ids: each would turn a request for one object into one for another.
const HOSTILE: [&str; 6] = [
    "../../organizations/victim?",
    "org_1/domains",
    "..",
    "org_1?x=1",
    "org_1#frag",
    "org_1%2F..%2Fvictim",
];

/// A vendor answer and the JSON Pointer of an id in it that orgform puts into a path later.
struct Place {
    vendor: &'static str,
    route: &'static str,
    pointer: &'static str,
}

const PLACES: [Place; 7] = [
    Place {
        vendor: "scalekit",
        route: "/scalekit/api/v1/organizations",
        pointer: "/organizations/0/id",
    },
    Place {
        vendor: "scalekit",
        route: "/scalekit/api/v1/organizations/{organization_id}/domains",
        pointer: "/domains/0/id",
    },
    Place {
        vendor: "scalekit",
        route: "/scalekit/api/v1/organizations/{organization_id}/users",
        pointer: "/users/0/id",
    },
    Place {
        vendor: "nirvana",
        route: "/nirvana/v1/organizations",
        pointer: "/items/0/id",
    },
    Place {
        vendor: "nirvana",
        route: "/nirvana/v1/organizations/{organization_id}/memberships",
        pointer: "/items/0/user_id",
    },
    Place {
        vendor: "pingone",
        route: "/pingone/v1/organizations",
        pointer: "/_embedded/organizations/0/id",
    },
    Place {
        vendor: "pingone",
        route: "/pingone/v1/organizations/{organization_id}/licenses",
        pointer: "/_embedded/licenses/0/id",
    },
];

/// A workspace with one organization per vendor whose plan has work for every id: Scalekit
/// removes a domain and a member, Nirvana renames (PATCH by id), PingOne reads licenses.
async fn world(vendor: &str) -> Scenario {
    let scenario = Scenario::new(vendor, "policy:\n  max_member_removals: 100%\n").await;
    match vendor {
        "scalekit" => {
            scenario
                .sandbox
                .seed("scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme, metadata: { managed_by: orgform }, domains: [{ domain: old-acme.example }] }\n    - { display_name: Victim, external_id: victim }\n  users:\n    - { email: ada@acme.example, memberships: [{ organization: acme, roles: [admin] }] }\n")
                .await;
            scenario.manifest(
                "acme.yaml",
                "organization: acme\nname: Acme Corp\ndomains: []\nmembers: []\n",
            );
        }
        "nirvana" => {
            scenario
                .sandbox
                .seed("nirvana:\n  organizations:\n    - { name: Acme, memberships: [{ user_id: usr_1, role: owner }] }\n")
                .await;
            scenario.manifest(
                "acme.yaml",
                "organization: acme\nname: Acme\nbilling_email: billing@acme.example\nmembers: [{ user: usr_1, role: owner }]\n",
            );
        }
        _ => scenario.manifest(
            "ping.yaml",
            "organization: ping\nname: Example Organization\nlicenses:\n  - { package: INTERNAL, status: ACTIVE }\n",
        ),
    }
    scenario
}

#[tokio::test(flavor = "multi_thread")]
async fn an_implausible_id_in_any_answer_is_refused_at_refresh_with_no_request_elsewhere() {
    let mut failures = Vec::new();
    for place in &PLACES {
        let scenario = world(place.vendor).await;
        let dir = scenario.dir.path().to_str().unwrap().to_owned();
        for hostile in HOSTILE {
            for command in [&["plan", &dir][..], &["apply", &dir, "--auto-approve"]] {
                scenario
                    .sandbox
                    .faults(json!({ "scripts": [{ "method": "GET", "route": place.route, "nth": 1, "times": 1000, "mangle": { "set": { place.pointer: hostile } } }] }))
                    .await;
                let (code, stdout, stderr) = orgform(command).await;
                if code != 1 || !stderr.contains("is not a plausible id") {
                    failures.push(format!(
                        "{} {} = {hostile:?}: {} exited {code}\n{stdout}{stderr}",
                        place.route, place.pointer, command[0]
                    ));
                }
            }
        }
        let written = writes(&scenario).await;
        if !written.is_empty() {
            failures.push(format!("{}: writes were sent: {written:?}", place.route));
        }
        // Every request went to a route of the vendor orgform meant to ask: the log's path
        // never holds a hostile segment.
        for request in scenario.sandbox.requests().await {
            let path = request["path"].as_str().unwrap_or_default();
            if path.contains("victim") || path.contains("..") || path.contains("%2F") {
                failures.push(format!("{}: a request went to {path}", place.route));
            }
        }
        // Without the fault the same workspace applies and converges.
        scenario.sandbox.faults(json!({})).await;
        let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
        if code != 0 {
            failures.push(format!(
                "{}: healthy apply exited {code}\n{stdout}{stderr}",
                place.route
            ));
        }
        let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
        if code != 0 {
            failures.push(format!(
                "{}: plan after apply exited {code}\n{stdout}{stderr}",
                place.route
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Ids written in manifests go into paths too: one that is not a vendor id is a diagnostic.
#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_id_that_is_not_a_vendor_id_is_a_diagnostic() {
    let scenario = world("scalekit").await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme Corp\nid: ../victim\nmembers: [{ user: \"usr_1/../x\", role: admin }]\n",
    );
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, _, stderr) = orgform(&["validate", &dir]).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.matches("is not a vendor id").count(), 2, "{stderr}");
}
