//! One exponential backoff for every retry loop (database writes, the
//! database at start-up, MQTT reconnects, InfluxDB writes): the delay doubles
//! from `min` to `max`, with up to 20% jitter so engines that failed together
//! do not come back in lockstep, and every wait ends at once on shutdown.

use crate::shutdown::Shutdown;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        let min = min.max(Duration::from_millis(1));
        Backoff { min, max: max.max(min), next: min }
    }

    /// Back to the shortest delay after a success.
    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// The delay before the next attempt; the one after it doubles.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        base.mul_f64(1.0 - 0.2 * rand::random::<f64>())
    }

    /// Sleeps the next delay; false when `stop` fired first.
    pub async fn wait(&mut self, stop: &mut Shutdown) -> bool {
        let delay = self.next_delay();
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = stop.wait() => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_bounded_jitter_and_reset() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let bounds = [100, 200, 400, 700, 700];
        for hi in bounds {
            let d = b.next_delay().as_millis() as u64;
            assert!(d <= hi && d >= hi * 8 / 10, "{d} not within 80-100% of {hi}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_wait_ends_at_once_on_shutdown() {
        let (trigger, mut stop) = crate::shutdown::channel();
        let mut b = Backoff::new(Duration::from_secs(60), Duration::from_secs(60));
        trigger.fire();
        let started = std::time::Instant::now();
        assert!(!b.wait(&mut stop).await);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
