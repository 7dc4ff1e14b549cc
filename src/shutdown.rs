//! A shutdown signal shared by every task: set once (Ctrl-C, `--duration`,
//! or the end of a test), observed cheaply.

use tokio::sync::watch;

/// Sets the signal; dropping it sets it too, so no task outlives its owner.
pub struct Trigger(watch::Sender<bool>);

#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

impl Drop for Trigger {
    fn drop(&mut self) {
        self.fire();
    }
}

impl Shutdown {
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the signal is set (or its trigger is gone).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|set| *set).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_when_fired_or_dropped() {
        let (t, mut s) = channel();
        assert!(!s.is_set());
        t.fire();
        s.wait().await;
        let (t2, mut s2) = channel();
        drop(t2);
        s2.wait().await;
        assert!(s2.is_set());
    }
}
