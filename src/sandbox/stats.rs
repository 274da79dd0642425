//! Request counts and the request log, read by tests through `GET /_sandbox/stats` and
//! `GET /_sandbox/requests`.

use std::collections::BTreeMap;

use serde::Serialize;

/// The request log keeps at most this many entries (the oldest are dropped first).
pub const LOG_CAPACITY: usize = 200_000;

#[derive(Debug)]
pub struct Stats {
    counts: BTreeMap<(String, String, String, u16), u64>,
    rate_limited: u64,
    log: std::collections::VecDeque<LoggedRequest>,
    next_seq: u64,
    started: std::time::Instant,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            counts: BTreeMap::new(),
            rate_limited: 0,
            log: Default::default(),
            next_seq: 0,
            started: std::time::Instant::now(),
        }
    }
}

/// One vendor request as it was answered.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    pub seq: u64,
    pub vendor: String,
    pub method: String,
    /// The route template, e.g. `/scalekit/api/v1/organizations/{id}`.
    pub route: String,
    /// The concrete path, e.g. `/scalekit/api/v1/organizations/org_1`.
    pub path: String,
    /// The query string as sent, e.g. `page_size=100` (tests check what a client asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The JSON body of a write, when the faults ask for bodies to be logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    pub status: u16,
    /// When it was answered, in milliseconds since the sandbox started.
    pub ms: u64,
}

#[derive(Debug, Serialize)]
pub struct StatsReport {
    pub total: u64,
    pub rate_limited: u64,
    pub by_vendor: BTreeMap<String, u64>,
    pub requests: Vec<RouteCount>,
}

#[derive(Debug, Serialize)]
pub struct RouteCount {
    pub vendor: String,
    pub method: String,
    pub route: String,
    pub status: u16,
    pub count: u64,
}

impl Stats {
    /// Counts `request` and appends it to the log, numbered and timed here.
    pub fn record(&mut self, mut request: LoggedRequest) {
        *self
            .counts
            .entry((
                request.vendor.clone(),
                request.method.clone(),
                request.route.clone(),
                request.status,
            ))
            .or_default() += 1;
        if request.status == 429 {
            self.rate_limited += 1;
        }
        self.next_seq += 1;
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        request.seq = self.next_seq;
        request.ms = self.started.elapsed().as_millis() as u64;
        self.log.push_back(request);
    }

    pub fn report(&self) -> StatsReport {
        let mut by_vendor: BTreeMap<String, u64> = BTreeMap::new();
        let requests = self
            .counts
            .iter()
            .map(|((vendor, method, route, status), count)| {
                *by_vendor.entry(vendor.clone()).or_default() += count;
                RouteCount {
                    vendor: vendor.clone(),
                    method: method.clone(),
                    route: route.clone(),
                    status: *status,
                    count: *count,
                }
            })
            .collect();
        StatsReport {
            total: by_vendor.values().sum(),
            rate_limited: self.rate_limited,
            by_vendor,
            requests,
        }
    }

    pub fn log(&self) -> Vec<LoggedRequest> {
        self.log.iter().cloned().collect()
    }

    pub fn clear(&mut self) {
        *self = Stats::default();
    }
}
