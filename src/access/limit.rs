//! Rate limits: a token bucket per key (a principal, an address). A caller
//! over its limit is told when to come back. Memory stays bounded: once the
//! table is large, refilled buckets (callers at rest) are forgotten, and if
//! every caller is busy the one with the most requests left gives way.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Beyond this many keys, buckets that have refilled are dropped.
const MAX_KEYS: usize = 10_000;

#[derive(Debug)]
pub struct RateLimit {
    /// Requests allowed at once.
    burst: f64,
    /// Requests regained per second.
    per_sec: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    /// `per_minute` requests a minute, all of them at once at most.
    pub fn per_minute(per_minute: u32) -> RateLimit {
        let burst = f64::from(per_minute.max(1));
        RateLimit { burst, per_sec: burst / 60.0, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `key`'s bucket; `Err(wait)` when it is empty.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            buckets.retain(|_, b| self.refilled(*b, now) < self.burst);
            let fullest = buckets.iter().max_by(|a, b| self.refilled(*a.1, now).total_cmp(&self.refilled(*b.1, now)));
            if let Some(k) = fullest.filter(|_| buckets.len() >= MAX_KEYS).map(|(k, _)| k.clone()) {
                buckets.remove(&k);
            }
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: self.burst, at: now });
        let tokens = self.refilled(*bucket, now);
        if tokens < 1.0 {
            *bucket = Bucket { tokens, at: now };
            return Err(Duration::from_secs_f64((1.0 - tokens) / self.per_sec));
        }
        *bucket = Bucket { tokens: tokens - 1.0, at: now };
        Ok(())
    }

    /// Whether `key` has a request left, without taking it.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        match buckets.get(key).map(|b| self.refilled(*b, now)) {
            Some(tokens) if tokens < 1.0 => Err(Duration::from_secs_f64((1.0 - tokens) / self.per_sec)),
            _ => Ok(()),
        }
    }

    fn refilled(&self, b: Bucket, now: Instant) -> f64 {
        (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.per_sec).min(self.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_says_when_to_return_and_refills() {
        let limit = RateLimit::per_minute(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limit.take("ann", t0).is_ok());
        }
        let wait = limit.take("ann", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 20.0).abs() < 0.01, "one request comes back every 20 s: {wait:?}");
        assert!(limit.check("ann", t0).is_err());
        assert!(limit.take("bob", t0).is_ok(), "buckets are per key");
        assert!(limit.take("ann", t0 + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn the_table_forgets_callers_at_rest_so_it_stays_bounded() {
        let limit = RateLimit::per_minute(60);
        let t0 = Instant::now();
        for i in 0..MAX_KEYS + 10 {
            limit.take(&format!("caller {i}"), t0).unwrap();
        }
        assert_eq!(limit.buckets.lock().unwrap().len(), MAX_KEYS, "busy callers: the table holds its bound");
        limit.take("late", t0 + Duration::from_secs(5)).unwrap();
        assert_eq!(limit.buckets.lock().unwrap().len(), 1, "callers at rest are forgotten");
    }
}
