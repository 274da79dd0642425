//! What several benchmarks share (each example includes this file with `#[path]`).

/// The sandbox's request statistics (`GET /_sandbox/stats`) at `base`.
pub async fn sandbox_stats(http: &reqwest::Client, base: &str) -> serde_json::Value {
    http.get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .expect("the sandbox answers")
        .json()
        .await
        .expect("the stats are JSON")
}
