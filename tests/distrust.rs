//! What orgform refuses to trust: each misbehaviour of a real vendor, taught to the sandbox as
//! a deterministic fault, makes `plan` and `apply` (the real binary, over real HTTP) stop within
//! a bounded time with an error naming the problem, with zero write requests, nothing created
//! or deleted, and nothing sent to another origin. Once the fault is gone, the same workspace
//! plans clean (convergence).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::plan::support::Scenario;
use crate::support::run_orgform_async;

/// Organizations seeded per vendor: more than one page (100) of each listing.
const ORGS: usize = 150;

/// A listener on another origin that records whatever reaches it: nothing ever should.
struct Foreign {
    url: String,
    received: Arc<Mutex<Vec<String>>>,
}

impl Foreign {
    async fn start() -> Foreign {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    let n = socket.read(&mut buffer).await.unwrap_or(0);
                    log.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buffer[..n]).into_owned());
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                        .await;
                });
            }
        });
        Foreign { url, received }
    }

    fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

/// A workspace whose manifests match the seeded live state exactly, so a healthy plan is empty;
/// Scalekit prunes (so a listing trusted when it should not be would delete), and every
/// vendor's manifests declare every organization (so a short listing would create).
async fn world(vendor: &str) -> Scenario {
    let policy = if vendor == "scalekit" || vendor == "workos" {
        "policy:\n  prune: true\n  max_deletes: 1000\n"
    } else {
        ""
    };
    let scenario = Scenario::new(vendor, policy).await;
    let mut manifests = String::new();
    let mut seed = String::new();
    match vendor {
        "scalekit" => {
            // Members too: one per tenant, and a platform admin in every tenant (so that a
            // user list trusted when it should not be would remove members).
            seed.push_str("scalekit:\n  organizations:\n");
            let mut users = String::from("  users:\n");
            for n in 0..ORGS {
                seed.push_str(&format!(
                    "    - {{ display_name: Tenant {n}, external_id: tenant-{n}, metadata: {{ managed_by: orgform }} }}\n"
                ));
                users.push_str(&format!(
                    "    - {{ email: a@tenant-{n}.example, memberships: [{{ organization: tenant-{n}, roles: [admin] }}] }}\n"
                ));
                manifests.push_str(&format!(
                    "---\norganization: tenant-{n}\nname: Tenant {n}\nmembers: [{{ email: a@tenant-{n}.example, role: admin }}, {{ email: ops@platform.example, role: admin }}]\n"
                ));
            }
            let everywhere: Vec<String> = (0..ORGS)
                .map(|n| format!("{{ organization: tenant-{n}, roles: [admin] }}"))
                .collect();
            users.push_str(&format!(
                "    - {{ email: ops@platform.example, memberships: [{}] }}\n",
                everywhere.join(", ")
            ));
            seed.push_str(&users);
        }
        "nirvana" => {
            seed.push_str("nirvana:\n  organizations:\n");
            for n in 0..ORGS {
                seed.push_str(&format!(
                    "    - {{ name: Tenant {n}, memberships: [{{ user_id: usr_{n}, role: owner }}] }}\n"
                ));
                manifests.push_str(&format!(
                    "---\norganization: tenant-{n}\nname: Tenant {n}\n"
                ));
            }
        }
        "workos" => {
            // Members of the first tenants, so that a member list is read and trusted or not.
            seed.push_str("workos:\n  organizations:\n");
            let mut users = String::from("  users:\n");
            for n in 0..ORGS {
                seed.push_str(&format!(
                    "    - {{ name: Tenant {n}, external_id: tenant-{n}, metadata: {{ managed_by: orgform }} }}\n"
                ));
                let members = if n < 3 {
                    users.push_str(&format!(
                        "    - {{ email: a@tenant-{n}.example, memberships: [{{ organization: tenant-{n}, roles: [admin] }}] }}\n"
                    ));
                    format!("members: [{{ email: a@tenant-{n}.example, role: admin }}]\n")
                } else {
                    String::new()
                };
                manifests.push_str(&format!(
                    "---\norganization: tenant-{n}\nname: Tenant {n}\n{members}"
                ));
            }
            seed.push_str(&users);
        }
        "pingone" => {
            // The default seed's organization and its five licenses.
            manifests.push_str("organization: ping\nname: Example Organization\nlicenses:\n  - { package: INTERNAL, status: ACTIVE }\n");
        }
        other => panic!("no vendor {other}"),
    }
    if !seed.is_empty() {
        scenario.sandbox.seed(&seed).await;
    }
    scenario.manifest("tenants.yaml", &manifests);
    scenario
}

/// Every request that changed something (token requests aside), from the sandbox's log.
pub async fn writes(scenario: &Scenario) -> Vec<String> {
    scenario
        .sandbox
        .requests()
        .await
        .iter()
        .filter(|r| r["method"] != "GET" && !r["route"].as_str().unwrap().ends_with("token"))
        .map(|r| format!("{} {}", r["method"], r["path"]))
        .collect()
}

/// Runs the binary with a bound on its time, so a hang fails the test instead of stalling it.
pub async fn orgform(args: &[&str]) -> (i32, String, String) {
    let credentials = [
        ("TEST_SECRET", "sandbox-secret"),
        ("TEST_NIRVANA_KEY", "sandbox-nirvana-key"),
        ("TEST_WORKOS_KEY", "sandbox-workos-key"),
    ];
    tokio::time::timeout(
        Duration::from_secs(120),
        run_orgform_async(args, &credentials),
    )
    .await
    .unwrap_or_else(|_| panic!("orgform {args:?} did not end within 120 s"))
}

/// One misbehaviour: a fault configuration (`{FOREIGN}` stands for the other origin's URL)
/// and what the error must say.
struct Case {
    name: &'static str,
    vendor: &'static str,
    faults: &'static str,
    expect: &'static str,
    /// Extra arguments for both commands (e.g. `--timeout`).
    args: &'static [&'static str],
}

const SK_LIST: &str = "/scalekit/api/v1/organizations";
/// The environment's users, where Scalekit members of a whole fleet are read from.
const SK_USERS: &str = "/scalekit/api/v1/users";
const NV_LIST: &str = "/nirvana/v1/organizations";
const P1_LIST: &str = "/pingone/v1/organizations";
const WO_LIST: &str = "/workos/organizations";
const WO_MEMBERS: &str = "/workos/user_management/organization_memberships";

fn cases() -> Vec<Case> {
    let list = |route: &str, nth: u32, rest: &str| {
        format!(
            r#"{{ "scripts": [{{ "method": "GET", "route": "{route}", "nth": {nth}, {rest} }}] }}"#
        )
    };
    // Leaked, so that the table can hold plain strings.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    vec![
        Case {
            name: "an item repeated in a page",
            vendor: "scalekit",
            faults: leak(list(
                SK_LIST,
                2,
                r#""mangle": { "repeat_first": { "at": "/organizations" } }"#,
            )),
            expect: "appeared twice",
            args: &[],
        },
        Case {
            name: "a user repeated in the environment's user list",
            vendor: "scalekit",
            faults: leak(list(
                SK_USERS,
                2,
                r#""mangle": { "repeat_first": { "at": "/users" } }"#,
            )),
            expect: "appeared twice",
            args: &[],
        },
        Case {
            name: "a user dropped from the environment's user list",
            vendor: "scalekit",
            faults: leak(list(SK_USERS, 1, r#""mangle": { "drop_first": "/users" }"#)),
            expect: "reported 151 items in all but the listing ended after 150",
            args: &[],
        },
        Case {
            name: "a membership of the wrong shape",
            vendor: "scalekit",
            faults: leak(list(
                SK_USERS,
                1,
                r#""mangle": { "set": { "/users/0/memberships/0/roles": "admin" } }"#,
            )),
            expect: "memberships: roles: invalid type: string",
            args: &[],
        },
        Case {
            name: "a WorkOS organization repeated on page 2",
            vendor: "workos",
            faults: leak(list(
                WO_LIST,
                2,
                r#""mangle": { "repeat_first": { "at": "/data" } }"#,
            )),
            expect: "appeared twice",
            args: &[],
        },
        Case {
            name: "a WorkOS cursor that repeats",
            vendor: "workos",
            faults: leak(list(WO_LIST, 2, r#""mangle": { "loop_next": true }"#)),
            expect: "link already followed",
            args: &[],
        },
        Case {
            name: "a WorkOS external id of the wrong type",
            vendor: "workos",
            faults: leak(list(
                WO_LIST,
                1,
                r#""mangle": { "set": { "/data/3/external_id": 42 } }"#,
            )),
            expect: "data[3].external_id: invalid type: integer `42`, expected a string",
            args: &[],
        },
        Case {
            name: "a WorkOS id that is empty",
            vendor: "workos",
            faults: leak(list(
                WO_LIST,
                1,
                r#""mangle": { "set": { "/data/0/id": "" } }"#,
            )),
            expect: "expected a non-empty identifier",
            args: &[],
        },
        Case {
            name: "a WorkOS page larger than asked for",
            vendor: "workos",
            faults: leak(list(
                WO_LIST,
                1,
                r#""mangle": { "repeat_first": { "at": "/data", "times": 1000 } }"#,
            )),
            expect: "held 1100 items, more than the 100 asked for",
            args: &[],
        },
        Case {
            name: "a WorkOS answer inflated (500 MB)",
            vendor: "workos",
            faults: leak(list(WO_LIST, 1, r#""mangle": { "pad_bytes": 500000000 }"#)),
            expect: "more than orgform reads (32 MiB)",
            args: &[],
        },
        Case {
            name: "a WorkOS list redirected to another origin",
            vendor: "workos",
            faults: leak(list(
                WO_LIST,
                1,
                r#""status": 307, "headers": { "location": "{FOREIGN}/organizations" }"#,
            )),
            expect: "answered 307 redirecting to http://127.0.0.1",
            args: &[],
        },
        Case {
            name: "a WorkOS member list answering another organization's membership",
            vendor: "workos",
            faults: leak(list(
                WO_MEMBERS,
                1,
                r#""times": 3, "mangle": { "set": { "/data/0/organization_id": "org_01SB9999999999999999999999" } }"#,
            )),
            expect: "the vendor answered with one of org_01SB9999999999999999999999",
            args: &[],
        },
        Case {
            name: "an item repeated on page 2",
            vendor: "nirvana",
            faults: leak(list(
                NV_LIST,
                2,
                r#""mangle": { "repeat_first": { "at": "/items" } }"#,
            )),
            expect: "appeared twice",
            args: &[],
        },
        Case {
            name: "an item dropped from a page",
            vendor: "nirvana",
            faults: leak(list(NV_LIST, 1, r#""mangle": { "drop_first": "/items" }"#)),
            expect: "reported 150 items in all but the listing ended after 149",
            args: &[],
        },
        Case {
            name: "a cursor that repeats",
            vendor: "nirvana",
            faults: leak(list(NV_LIST, 2, r#""mangle": { "loop_next": true }"#)),
            expect: "link already followed",
            args: &[],
        },
        Case {
            name: "a page token that repeats",
            vendor: "scalekit",
            faults: leak(list(SK_LIST, 2, r#""mangle": { "loop_next": true }"#)),
            expect: "link already followed",
            args: &[],
        },
        Case {
            name: "a next link pointing at itself",
            vendor: "pingone",
            faults: leak(list(
                P1_LIST,
                1,
                r#""times": 100, "mangle": { "loop_next": true }"#,
            )),
            expect: "answered inconsistently",
            args: &[],
        },
        Case {
            name: "a listing cut short (next_cursor null on page 1)",
            vendor: "nirvana",
            faults: leak(list(
                NV_LIST,
                1,
                r#""mangle": { "set": { "/pagination/next_cursor": null } }"#,
            )),
            expect: "reported 150 items in all but the listing ended after 100",
            args: &[],
        },
        Case {
            name: "a listing cut short (empty next_page_token early)",
            vendor: "scalekit",
            faults: leak(list(
                SK_LIST,
                1,
                r#""mangle": { "set": { "/next_page_token": "" } }"#,
            )),
            expect: "reported 150 items in all but the listing ended after 100",
            args: &[],
        },
        Case {
            name: "a total that lies",
            vendor: "scalekit",
            faults: leak(list(
                SK_LIST,
                1,
                r#""times": 2, "mangle": { "set": { "/total_size": 151 } }"#,
            )),
            expect: "reported 151 items in all but the listing ended after 150",
            args: &[],
        },
        Case {
            name: "a total that changes between pages",
            vendor: "nirvana",
            faults: leak(list(
                NV_LIST,
                2,
                r#""mangle": { "set": { "/pagination/total_count": 149 } }"#,
            )),
            expect: "total changed from 150 to 149",
            args: &[],
        },
        Case {
            name: "an external id of the wrong type",
            vendor: "scalekit",
            faults: leak(list(
                SK_LIST,
                1,
                r#""mangle": { "set": { "/organizations/3/external_id": 42 } }"#,
            )),
            expect: "organizations[3].external_id: invalid type: integer `42`, expected a string",
            args: &[],
        },
        Case {
            name: "a display name missing",
            vendor: "scalekit",
            faults: leak(list(
                SK_LIST,
                1,
                r#""mangle": { "remove": ["/organizations/0/display_name"] } "#,
            )),
            expect: "organizations[0]: missing field `display_name`",
            args: &[],
        },
        Case {
            name: "an id of the wrong type",
            vendor: "nirvana",
            faults: leak(list(
                NV_LIST,
                1,
                r#""mangle": { "set": { "/items/7/id": 7 } }"#,
            )),
            expect: "items[7].id: invalid type: integer `7`",
            args: &[],
        },
        Case {
            name: "an empty id",
            vendor: "pingone",
            faults: leak(list(
                P1_LIST,
                1,
                r#""mangle": { "set": { "/_embedded/organizations/0/id": "" } }"#,
            )),
            expect: "expected a non-empty identifier",
            args: &[],
        },
        Case {
            name: "a collection that is not a list",
            vendor: "scalekit",
            faults: leak(list(
                SK_LIST,
                1,
                r#""mangle": { "set": { "/organizations": "oops" } }"#,
            )),
            expect: "organizations: invalid type: string \"oops\", expected a sequence",
            args: &[],
        },
        Case {
            name: "an empty 200",
            vendor: "nirvana",
            faults: leak(list(NV_LIST, 1, r#""status": 200, "body": null"#)),
            expect: "an empty answer (status 200)",
            args: &[],
        },
        Case {
            name: "an empty 204",
            vendor: "scalekit",
            faults: leak(list(SK_LIST, 1, r#""status": 204"#)),
            expect: "an empty answer (status 204)",
            args: &[],
        },
        Case {
            name: "an empty 202",
            vendor: "pingone",
            faults: leak(list(P1_LIST, 1, r#""status": 202"#)),
            expect: "an empty answer (status 202)",
            args: &[],
        },
        Case {
            name: "a truncated body",
            vendor: "scalekit",
            faults: leak(list(SK_LIST, 1, r#""mangle": { "truncate_bytes": 300 }"#)),
            expect: "answered with an unexpected body",
            args: &[],
        },
        Case {
            name: "an inflated body (500 MB)",
            vendor: "nirvana",
            faults: leak(list(NV_LIST, 1, r#""mangle": { "pad_bytes": 500000000 }"#)),
            expect: "more than orgform reads (32 MiB)",
            args: &[],
        },
        Case {
            name: "a page larger than asked for",
            vendor: "scalekit",
            faults: leak(list(
                SK_LIST,
                1,
                r#""mangle": { "repeat_first": { "at": "/organizations", "times": 1000 } }"#,
            )),
            expect: "held 1100 items, more than the 100 asked for",
            args: &[],
        },
        Case {
            name: "a list redirected to another origin",
            vendor: "scalekit",
            faults: leak(list(
                SK_LIST,
                1,
                r#""status": 307, "headers": { "location": "{FOREIGN}/api/v1/organizations" }"#,
            )),
            expect: "answered 307 redirecting to http://127.0.0.1",
            args: &[],
        },
        Case {
            name: "the token endpoint redirected to another origin",
            vendor: "scalekit",
            faults: r#"{ "scripts": [{ "method": "POST", "route": "/scalekit/oauth/token", "nth": 1, "times": 100, "status": 307, "headers": { "location": "{FOREIGN}/oauth/token" } }] }"#,
            expect: "orgform does not follow redirects for token requests",
            args: &[],
        },
        Case {
            name: "a PingOne token endpoint redirected to another origin",
            vendor: "pingone",
            faults: r#"{ "scripts": [{ "method": "POST", "route": "/pingone/auth/{environment_id}/as/token", "nth": 1, "times": 100, "status": 308, "headers": { "location": "{FOREIGN}/as/token" } }] }"#,
            expect: "orgform does not follow redirects for token requests",
            args: &[],
        },
        Case {
            name: "a next link to another origin",
            vendor: "pingone",
            faults: leak(list(
                P1_LIST,
                1,
                r#""mangle": { "set": { "/_links/next": { "href": "{FOREIGN}/v1/organizations?cursor=2" } } }"#,
            )),
            expect: "points away from the API's origin",
            args: &[],
        },
        Case {
            name: "a next link with credentials in it",
            vendor: "pingone",
            faults: leak(list(
                P1_LIST,
                1,
                r#""mangle": { "set": { "/_links/next": { "href": "http://user:pw@{SANDBOX_HOST}/pingone/v1/organizations?cursor=2" } } }"#,
            )),
            expect: "carries credentials",
            args: &[],
        },
        Case {
            name: "a huge Retry-After",
            vendor: "nirvana",
            faults: leak(list(
                NV_LIST,
                1,
                r#""times": 100, "status": 429, "headers": { "retry-after": "999999" }"#,
            )),
            expect: "asking to wait 999999 s (Retry-After), longer than orgform waits (120 s)",
            args: &[],
        },
        Case {
            name: "a rate limit of zero",
            vendor: "nirvana",
            faults: r#"{ "rate_limit": { "nirvana": 0 } }"#,
            expect: "longer than orgform waits (120 s)",
            args: &[],
        },
        Case {
            name: "a vendor slower than the run's deadline",
            vendor: "scalekit",
            faults: r#"{ "latency_ms": 4000 }"#,
            expect: "the run's deadline (--timeout) passed",
            args: &["--timeout", "1s"],
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_misbehaviour_stops_plan_and_apply_with_no_write() {
    let mut failures = Vec::new();
    for case in cases() {
        let scenario = world(case.vendor).await;
        let foreign = Foreign::start().await;
        let host = scenario.sandbox.running.addr.to_string();
        let faults: Value = serde_json::from_str(
            &case
                .faults
                .replace("{FOREIGN}", &foreign.url)
                .replace("{SANDBOX_HOST}", &host),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let dir = scenario.dir.path().to_str().unwrap().to_owned();
        for command in [&["plan", &dir][..], &["apply", &dir, "--auto-approve"]] {
            // Posting the faults again restarts their counters: each command meets them afresh.
            scenario.sandbox.faults(faults.clone()).await;
            let args: Vec<&str> = command.iter().chain(case.args).copied().collect();
            let started = std::time::Instant::now();
            let (code, stdout, stderr) = orgform(&args).await;
            let took = started.elapsed();
            let problem = if code != 1 {
                Some(format!("exit {code}"))
            } else if !stderr.contains(case.expect) {
                Some(format!("stderr lacks `{}`", case.expect))
            } else {
                None
            };
            if let Some(problem) = problem {
                failures.push(format!(
                    "{} ({}): {}: {problem} after {took:?}\nstdout: {stdout}\nstderr: {stderr}",
                    case.name, case.vendor, command[0]
                ));
            }
        }
        let written = writes(&scenario).await;
        if !written.is_empty() {
            failures.push(format!("{}: writes were sent: {written:?}", case.name));
        }
        if !foreign.received().is_empty() {
            failures.push(format!(
                "{}: the other origin received {:?}",
                case.name,
                foreign.received()
            ));
        }
        // Convergence: without the fault, the same workspace plans clean.
        scenario.sandbox.faults(json!({})).await;
        let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
        if code != 0 {
            failures.push(format!(
                "{}: healthy plan exited {code}\n{stdout}{stderr}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_live_organizations_with_one_external_id_are_an_identity_error() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n  max_deletes: 10\n").await;
    // Scalekit (and the sandbox) keep external ids unique, so the second one is a lie of the
    // listing: the sandbox holds `acme` and `acme-copy`, and every listing says `acme` twice.
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme, metadata: { managed_by: orgform } }\n    - { display_name: Acme copy, external_id: acme-copy, metadata: { managed_by: orgform } }\n")
        .await;
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": SK_LIST, "nth": 1, "times": 1000, "mangle": { "set": { "/organizations/1/external_id": "acme" } } }] }))
        .await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    for command in [&["plan", &dir][..], &["apply", &dir, "--auto-approve"]] {
        let (code, _, stderr) = orgform(command).await;
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("matches 2 live organizations with external id `acme`"),
            "{stderr}"
        );
    }
    assert!(writes(&scenario).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_origin_redirect_of_a_read_is_followed() {
    let scenario = world("nirvana").await;
    let target = format!(
        "{}/nirvana/v1/organizations?limit=100",
        scenario.sandbox.running.base_url()
    );
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": NV_LIST, "nth": 1, "status": 302, "headers": { "location": target } }] }))
        .await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(scenario.sandbox.count("GET", NV_LIST, 302).await, 1);
}

/// Values that used to panic: a token lifetime past any clock, and fault settings past any
/// clock (refused by the sandbox with a 400 instead).
#[tokio::test(flavor = "multi_thread")]
async fn out_of_range_numbers_neither_panic_nor_hang() {
    let scenario = world("scalekit").await;
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "POST", "route": "/scalekit/oauth/token", "nth": 1, "mangle": { "set": { "/expires_in": u64::MAX } } }] }))
        .await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");

    let client = reqwest::Client::new();
    for config in [
        json!({ "latency_ms": u64::MAX }),
        json!({ "token_ttl_seconds": u64::MAX }),
        json!({ "rate_limit": { "nirvana": -1.0 } }),
        json!({ "scripts": [{ "method": "GET", "route": "/x", "nth": 1, "status": 1000 }] }),
    ] {
        let answer = client
            .post(scenario.sandbox.url("/_sandbox/faults"))
            .json(&config)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{config}");
    }
    // The sandbox still serves.
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// A listing without a total cannot prove it is complete: before creating an organization it
/// did not show, apply asks the vendor directly, and refuses to create a second one. With a
/// total (the normal case) no such look-up is made.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_total_creates_look_before_they_write() {
    let scenario = world("scalekit").await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let lookup = "/scalekit/api/v1/organizations:external/{external_id}";
    scenario
        .sandbox
        .faults(json!({ "scripts": [
            { "method": "GET", "route": SK_LIST, "nth": 1, "mangle": { "remove": ["/total_size"], "drop_first": "/organizations" } },
            { "method": "GET", "route": SK_LIST, "nth": 1, "times": 100, "mangle": { "remove": ["/total_size"] } }
        ] }))
        .await;
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("with external id `tenant-0` exists though the listing did not show it"),
        "{stdout}"
    );
    assert!(writes(&scenario).await.is_empty());
    assert_eq!(scenario.sandbox.count("GET", lookup, 200).await, 1);

    // With the vendor's total, the plan path stays request-minimal: no look-up before a create.
    scenario.sandbox.faults(json!({})).await;
    scenario.manifest("new.yaml", "organization: fresh\nname: Fresh\n");
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        scenario.sandbox.count("GET", lookup, 404).await
            + scenario.sandbox.count("GET", lookup, 200).await,
        1,
        "only the earlier look-up"
    );
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// WorkOS lists report no total: a listing cut short looks like a real end, so the plan shows
/// creates, and apply asks for each by its external id before writing and refuses.
#[tokio::test(flavor = "multi_thread")]
async fn a_workos_listing_cut_short_never_creates_a_duplicate() {
    let scenario = world("workos").await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let cut = json!({ "scripts": [{ "method": "GET", "route": WO_LIST, "nth": 1, "times": 100, "mangle": { "set": { "/list_metadata/after": null } } }] });
    scenario.sandbox.faults(cut.clone()).await;
    let (code, stdout, stderr) = orgform(&["plan", &dir]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("org.tenant-100 will be created"),
        "{stdout}"
    );
    scenario.sandbox.faults(cut).await;
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("with external id `tenant-100` exists though the listing did not show it"),
        "{stdout}"
    );
    assert!(writes(&scenario).await.is_empty());
    scenario.sandbox.faults(json!({})).await;
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// Nirvana cannot look an organization up by name, and cannot delete one: a listing without a
/// total never leads to a create.
#[tokio::test(flavor = "multi_thread")]
async fn nirvana_never_creates_on_a_listing_without_a_total() {
    let scenario = world("nirvana").await;
    scenario.manifest("new.yaml", "organization: fresh\nname: Fresh\n");
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": NV_LIST, "nth": 1, "times": 100, "mangle": { "set": { "/pagination/total_count": null } } }] }))
        .await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("cannot prove the organization is absent"),
        "{stdout}"
    );
    assert!(writes(&scenario).await.is_empty());
    scenario.sandbox.faults(json!({})).await;
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}
