//! The access tokens the sandbox issued (Scalekit's and PingOne's client credentials).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use super::vendor::Vendor;

/// Issued tokens and when they expire. Tokens live in memory: after a restart clients get a
/// 401 and fetch a new one, as they must after any expiry.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: HashMap<String, (Vendor, Instant)>,
    counter: u64,
}

impl Tokens {
    pub fn issue(&mut self, vendor: Vendor, ttl: Duration) -> String {
        self.counter += 1;
        let now = Instant::now();
        self.issued.retain(|_, (_, expiry)| *expiry > now);
        let nonce = RandomState::new().hash_one(self.counter);
        let token = format!("sbx_{}_{}_{nonce:016x}", vendor.as_str(), self.counter);
        self.issued.insert(token.clone(), (vendor, now + ttl));
        token
    }

    /// Whether `token` was issued for `vendor` and has not expired.
    pub fn is_valid(&self, vendor: Vendor, token: &str) -> bool {
        self.issued
            .get(token)
            .is_some_and(|(v, expiry)| *v == vendor && *expiry > Instant::now())
    }
}
