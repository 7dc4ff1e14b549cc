//! Updates without reloading: `GET /api/v1/stream` is a server-sent event
//! stream that says `changed` whenever any ticket moves. One poller per
//! process reads the store's change mark once a second while anyone
//! listens (so a hundred open consoles cost one query a second, and none
//! cost nothing); it sees writes of every engine sharing the database. The
//! client then re-reads what it shows through the ordinary routes, so the
//! stream carries no ticket data and needs no scoping of its own.

use super::Reads;
use crate::shutdown::{Shutdown, Trigger};
use crate::tickets::TicketReader;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the poller reads the change mark.
const POLL: Duration = Duration::from_secs(1);

/// The change mark's watchers and the one poller that feeds them.
pub struct Changes {
    mark: watch::Sender<[i64; 3]>,
    polling: AtomicBool,
    /// Set when the server shuts down: every stream ends, so graceful
    /// shutdown does not wait for consoles to close their tabs.
    closing: Trigger,
    closed: Shutdown,
}

impl Default for Changes {
    fn default() -> Self {
        let (closing, closed) = crate::shutdown::channel();
        Changes { mark: watch::Sender::new([0; 3]), polling: AtomicBool::new(false), closing, closed }
    }
}

impl Changes {
    /// Ends every stream (the server is stopping).
    pub fn close(&self) {
        self.closing.fire();
    }

    /// A watcher; starts the poller if none runs.
    fn subscribe(self: &Arc<Self>, reader: &TicketReader) -> watch::Receiver<[i64; 3]> {
        let rx = self.mark.subscribe();
        self.ensure_polling(reader);
        rx
    }

    fn ensure_polling(self: &Arc<Self>, reader: &TicketReader) {
        if !self.polling.swap(true, Ordering::AcqRel) {
            tokio::spawn(Arc::clone(self).poll(reader.clone()));
        }
    }

    /// Reads the mark while anyone watches; a failed read is skipped (the
    /// next second tries again), never the end of the stream.
    async fn poll(self: Arc<Self>, reader: TicketReader) {
        let mut tick = tokio::time::interval(POLL);
        // A slow read delays the next one rather than queueing a burst.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut closed = self.closed.clone();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = closed.wait() => return,
            }
            if self.mark.receiver_count() == 0 {
                self.polling.store(false, Ordering::Release);
                // A watcher that came in meanwhile saw the poller running.
                if self.mark.receiver_count() == 0 || self.polling.swap(true, Ordering::AcqRel) {
                    return;
                }
            }
            match reader.change_mark().await {
                Ok(mark) => {
                    self.mark.send_if_modified(|m| std::mem::replace(m, mark) != mark);
                }
                Err(e) => tracing::debug!(error = %e, "change mark unreadable; trying again"),
            }
        }
    }
}

/// `event: changed` whenever a ticket moves, a comment every 15 s to keep
/// proxies from closing the connection; ends when the server stops.
pub async fn stream(State(s): State<Reads>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = s.changes.subscribe(&s.tickets);
    let closed = s.changes.closed.clone();
    let events = futures_util::stream::unfold((rx, closed), |(mut rx, mut closed)| async move {
        tokio::select! {
            changed = rx.changed() => changed.ok()?,
            () = closed.wait() => return None,
        }
        let mark = *rx.borrow_and_update();
        Some((Ok(Event::default().event("changed").data(mark[0].to_string())), (rx, closed)))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
