//! The control plane refuses what a web page could send it (a cross-origin request, a form
//! body) and, with a control token, anyone without it; `/_sandbox/health` answers everyone.

use orgform::sandbox::SandboxOptions;
use serde_json::{Value, json};

use super::support::TestSandbox;
use crate::support::run_orgform;

/// What the control routes would show changed: the stats, the faults, the shapes and the
/// organizations a seed adds.
async fn state(sandbox: &TestSandbox) -> Value {
    let auth = sandbox.scalekit().await;
    let organizations = sandbox
        .get("/scalekit/api/v1/organizations?page_size=100", &auth)
        .await
        .body["total_size"]
        .clone();
    json!({ "faults": sandbox.shown_faults().await, "shapes": sandbox.shown_shapes().await, "organizations": organizations })
}

const ROUTES: [(&str, &str); 4] = [
    ("/_sandbox/reset?empty=true", ""),
    (
        "/_sandbox/seed",
        "scalekit:\n  organizations:\n    - { display_name: Planted }\n",
    ),
    ("/_sandbox/faults", "{\"latency_ms\": 5000}"),
    ("/_sandbox/shapes", "{\"nirvana\": {\"errors\": \"flat\"}}"),
];

/// POSTs `body` to `route` with the `Origin` and `Content-Type` given; the answer's status.
async fn post(
    sandbox: &TestSandbox,
    route: &str,
    origin: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> reqwest::StatusCode {
    let mut request = sandbox.http.post(sandbox.url(route)).body(body.to_owned());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap().status()
}

const EVIL: Option<&str> = Some("http://evil.example");

#[tokio::test]
async fn browser_requests_to_the_control_plane_are_refused_and_change_nothing() {
    let sandbox = TestSandbox::start().await;
    sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Kept }\n")
        .await;
    let before = state(&sandbox).await;
    for (route, body) in ROUTES {
        // A form on another site, posted by the browser: it carries its Origin.
        for content_type in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain",
        ] {
            let status = post(&sandbox, route, EVIL, Some(content_type), body).await;
            assert_eq!(status, 403, "{route} {content_type}");
        }
        // The same body without an Origin (a page's no-cors request could not drop it, but a
        // form type alone is refused too).
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(
            post(&sandbox, route, None, form, body).await,
            415,
            "{route}"
        );
        if !body.is_empty() {
            let untyped = post(&sandbox, route, None, None, body).await;
            assert_eq!(untyped, 415, "{route}: a body needs its type");
        }
        // JSON from another origin is refused as well.
        let json = Some("application/json");
        assert_eq!(
            post(&sandbox, route, EVIL, json, body).await,
            403,
            "{route}"
        );
    }
    assert_eq!(state(&sandbox).await, before, "nothing changed");

    // The sandbox's own origin, with a typed body, is served.
    let own = sandbox.url("");
    let origin = Some(own.trim_end_matches('/'));
    let shapes = "{\"nirvana\": {\"errors\": \"flat\"}}";
    let status = post(
        &sandbox,
        "/_sandbox/shapes",
        origin,
        Some("application/json"),
        shapes,
    )
    .await;
    assert_eq!(status, 200);
}

/// A DNS-rebinding page reaches the sandbox under the attacker's name, with an `Origin` that
/// matches it: the `Host` names neither an IP address, `localhost`, nor a configured name.
#[tokio::test]
async fn a_rebinding_host_is_refused_and_a_configured_name_is_served() {
    let sandbox = TestSandbox::start_with(SandboxOptions {
        host_names: vec!["sandbox".into()],
        ..SandboxOptions::default()
    })
    .await;
    let before = state(&sandbox).await;
    let port = sandbox.running.addr.port();
    let send = |host: String, route: &'static str, body: &'static str| {
        sandbox
            .http
            .post(sandbox.url(route))
            .header("host", host.clone())
            .header("origin", format!("http://{host}"))
            .header("content-type", "application/yaml")
            .body(body)
            .send()
    };
    for host in [
        format!("attacker.example:{port}"),
        format!("localhost.attacker.example:{port}"),
        "127.0.0.1:1".to_owned(),
        "attacker.example".to_owned(),
    ] {
        for (route, body) in ROUTES {
            let answer = send(host.clone(), route, body).await.unwrap();
            assert_eq!(answer.status(), 403, "{host} {route}");
        }
    }
    assert_eq!(state(&sandbox).await, before, "nothing changed");
    for host in [
        format!("sandbox:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let answer = send(host.clone(), "/_sandbox/faults", "{}").await.unwrap();
        assert_eq!(answer.status(), 200, "{host}");
    }
}

#[tokio::test]
async fn with_a_control_token_the_control_plane_needs_it_and_health_does_not() {
    let sandbox = TestSandbox::start_with(SandboxOptions {
        control_token: Some("ctl-secret-token".into()),
        ..SandboxOptions::default()
    })
    .await;
    for (route, body) in ROUTES {
        for token in [
            None,
            Some("wrong-token-value"),
            Some("ctl-secret-token-but-longer"),
        ] {
            let mut request = sandbox
                .http
                .post(sandbox.url(route))
                .header("content-type", "application/yaml")
                .body(body.to_owned());
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), 401, "{route} {token:?}");
            let text = answer.text().await.unwrap();
            assert!(!text.contains("ctl-secret-token"), "{text}");
        }
    }
    for route in ["/_sandbox/stats", "/_sandbox/requests", "/_sandbox/faults"] {
        let answer = sandbox.http.get(sandbox.url(route)).send().await.unwrap();
        assert_eq!(answer.status(), 401, "{route}");
        let answer = sandbox
            .http
            .get(sandbox.url(route))
            .bearer_auth("ctl-secret-token")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{route}");
    }
    let answer = sandbox
        .http
        .post(sandbox.url("/_sandbox/faults"))
        .bearer_auth("ctl-secret-token")
        .json(&json!({ "latency_ms": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let health = sandbox
        .http
        .get(sandbox.url("/_sandbox/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    // The vendor routes keep the vendors' own auth.
    let auth = sandbox.scalekit().await;
    let listed = sandbox.get("/scalekit/api/v1/organizations", &auth).await;
    assert_eq!(listed.status, 200);
}

#[test]
fn serving_beyond_loopback_needs_a_control_token() {
    let (code, stdout, stderr) = run_orgform(
        &["sandbox", "serve", "--addr", "0.0.0.0:0"],
        &[("ORGFORM_SANDBOX_CONTROL_TOKEN", "")],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("without a control token") || stderr.contains("--control-token is empty"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run_orgform(&["sandbox", "serve", "--addr", "0.0.0.0:0"], &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("refusing to serve on 0.0.0.0:0 without a control token"),
        "{stderr}"
    );
}
