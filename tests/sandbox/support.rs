//! A sandbox started in-process for one test, and a small client for it.

use std::sync::OnceLock;

use orgform::sandbox::{self, RunningSandbox, SandboxOptions};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

pub struct TestSandbox {
    pub running: RunningSandbox,
    pub http: reqwest::Client,
}

/// How a request authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    Bearer(String),
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestSandbox {
    pub async fn start() -> Self {
        Self::start_with(SandboxOptions::default()).await
    }

    pub async fn start_with(options: SandboxOptions) -> Self {
        let running = sandbox::start(options).await.expect("the sandbox starts");
        Self {
            running,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> Answer {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            self.url(path)
        };
        let mut request = self.http.request(method, url);
        if let Auth::Bearer(token) = auth {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Answer {
        self.call(Method::GET, path, auth, None).await
    }

    pub fn nirvana(&self) -> Auth {
        Auth::Bearer("sandbox-nirvana-key".into())
    }

    pub fn workos(&self) -> Auth {
        Auth::Bearer("sandbox-workos-key".into())
    }

    pub async fn scalekit(&self) -> Auth {
        let response = self
            .http
            .post(self.url("/scalekit/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "sandbox-client"),
                ("client_secret", "sandbox-secret"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        Auth::Bearer(body["access_token"].as_str().unwrap().to_owned())
    }

    pub async fn pingone(&self) -> Auth {
        let response = self
            .http
            .post(self.url("/pingone/auth/sandbox-env/as/token"))
            .basic_auth("sandbox-client", Some("sandbox-secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        Auth::Bearer(body["access_token"].as_str().unwrap().to_owned())
    }

    pub async fn seed(&self, fixture: &str) -> Value {
        let response = self
            .http
            .post(self.url("/_sandbox/seed"))
            .header("content-type", "application/yaml")
            .body(fixture.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Chooses the vendor shapes served (`POST /_sandbox/shapes`).
    pub async fn shapes(&self, config: Value) {
        let response = self
            .http
            .post(self.url("/_sandbox/shapes"))
            .json(&config)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{config}");
    }

    pub async fn faults(&self, config: Value) {
        let response = self
            .http
            .post(self.url("/_sandbox/faults"))
            .json(&config)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// The JSON a control route answers to GET.
    async fn control(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn stats(&self) -> Value {
        self.control("/_sandbox/stats").await
    }

    /// The faults in force (`GET /_sandbox/faults`).
    pub async fn shown_faults(&self) -> Value {
        self.control("/_sandbox/faults").await
    }

    /// The vendor shapes served (`GET /_sandbox/shapes`).
    pub async fn shown_shapes(&self) -> Value {
        self.control("/_sandbox/shapes").await
    }

    /// The request log (`GET /_sandbox/requests`): every vendor request in answer order.
    pub async fn requests(&self) -> Vec<Value> {
        let log = self.control("/_sandbox/requests").await;
        log.as_array().expect("a list").clone()
    }

    /// How many requests `stats` counted for METHOD + route with `status`.
    pub async fn count(&self, method: &str, route: &str, status: u16) -> u64 {
        let stats = self.stats().await;
        stats["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["method"] == json!(method)
                    && r["route"] == json!(route)
                    && r["status"] == json!(status)
            })
            .map(|r| r["count"].as_u64().unwrap())
            .sum()
    }
}

/// A Scalekit user's membership in the organization `org` (by id).
pub fn membership_in<'a>(user: &'a Value, org: &str) -> &'a Value {
    user["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organization_id"] == json!(org))
        .expect("a membership in the organization")
}

/// Key sets, for checking vendor shapes field by field.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

fn load_spec(file: &str) -> Option<Value> {
    let text = crate::support::vendor_document(&format!("vendor-specs/{file}"))?;
    let mut options = serde_saphyr::Options::default();
    options.budget = None;
    let mut spec: Value =
        serde_saphyr::from_str_with_options(&text, options).expect("the spec parses");
    unique_required(&mut spec);
    Some(spec)
}

/// A spec quirk: WorkOS's `OrganizationList` (and other lists) name `list_metadata` twice in
/// `required`, which JSON Schema forbids (its items must be unique) and which makes the
/// validator report the property missing although it is there. Each `required` list is
/// reduced to its unique names; nothing else of the spec is changed.
fn unique_required(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(names)) = map.get_mut("required") {
                let mut seen = std::collections::BTreeSet::new();
                names.retain(|n| seen.insert(n.to_string()));
            }
            map.values_mut().for_each(unique_required);
        }
        Value::Array(items) => items.iter_mut().for_each(unique_required),
        _ => {}
    }
}

fn spec(vendor: &str) -> Option<&'static Value> {
    static SCALEKIT: OnceLock<Option<Value>> = OnceLock::new();
    static PINGONE: OnceLock<Option<Value>> = OnceLock::new();
    static WORKOS: OnceLock<Option<Value>> = OnceLock::new();
    match vendor {
        "workos" => WORKOS.get_or_init(|| load_spec("workos-openapi.yaml")),
        "scalekit" => SCALEKIT.get_or_init(|| load_spec("scalekit-openapi.yaml")),
        "pingone" => PINGONE.get_or_init(|| load_spec("pingone-management-openapi.yaml")),
        other => panic!("no spec for {other}"),
    }
    .as_ref()
}

/// Asserts that `value` satisfies `components/schemas/<schema>` of the vendor's OpenAPI spec
/// (skipped, with a note, where the spec is not available: see `vendor_document`).
pub fn assert_matches_spec(vendor: &str, schema: &str, value: &Value) {
    let Some(spec) = spec(vendor) else { return };
    let mut root = spec.clone();
    assert!(
        root["components"]["schemas"].get(schema).is_some(),
        "{vendor} spec has no schema {schema}"
    );
    root["$ref"] = json!(format!("#/components/schemas/{schema}"));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .expect("the spec compiles as a JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{vendor} {schema}: {errors:?}\n{value:#}"
    );
}
