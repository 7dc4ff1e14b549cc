//! Which QoS 1 packet ids the engine holds on the broker session. A packet id
//! names a message for as long as the session lasts, across reconnects: the
//! ack of a message received before a reconnect is still valid when the
//! broker resumed the session, and the broker's redelivery of a message the
//! engine still holds is skipped rather than processed twice. Only a session
//! the broker lost (`session_present = false`) voids what was held.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Received, in decode/detection/ticketing.
    Processing,
    /// Its ack is queued; confirmed once the client reports it written.
    AckQueued,
}

/// What to do with a received publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// A new message: process it; its ack is valid on session `session`.
    Take { session: u64 },
    /// A redelivery of a message already being processed: its ack will cover it.
    AlreadyHeld,
}

#[derive(Debug, Default)]
pub struct SessionState {
    inner: Mutex<Inner>,
}

/// What a CONNACK meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connected {
    /// The session acks are valid on from now.
    pub session: u64,
    /// The broker had no session although one existed before: what it
    /// queued for the engine meanwhile is gone.
    pub lost: bool,
}

#[derive(Debug, Default)]
struct Inner {
    session: u64,
    held: HashMap<u16, Phase>,
    /// A CONNACK came before (the first one never finds a session lost).
    connected_before: bool,
}

impl SessionState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A CONNACK. A resumed session keeps what is held, except acks that
    /// may have been lost with the old connection (the broker redelivers
    /// those messages and they are processed again; readings and tickets
    /// are idempotent). A new session voids every held ack.
    pub fn connected(&self, session_present: bool) -> Connected {
        let mut s = self.lock();
        if session_present {
            s.held.retain(|_, phase| *phase == Phase::Processing);
        } else {
            s.session += 1;
            s.held.clear();
        }
        let lost = s.connected_before && !session_present;
        s.connected_before = true;
        Connected { session: s.session, lost }
    }

    pub fn received(&self, pkid: u16, dup: bool) -> Receipt {
        let mut s = self.lock();
        if dup && s.held.get(&pkid) == Some(&Phase::Processing) {
            return Receipt::AlreadyHeld;
        }
        if pkid != 0 {
            s.held.insert(pkid, Phase::Processing);
        }
        Receipt::Take { session: s.session }
    }

    /// Whether an ack for a message received on `session` may go out now
    /// (it is then marked as queued).
    pub fn may_ack(&self, pkid: u16, session: u64) -> bool {
        let mut s = self.lock();
        if s.session != session {
            return false;
        }
        s.held.insert(pkid, Phase::AckQueued);
        true
    }

    /// The client wrote the ack of `pkid` on the wire.
    pub fn ack_written(&self, pkid: u16) {
        let mut s = self.lock();
        if s.held.get(&pkid) == Some(&Phase::AckQueued) {
            s.held.remove(&pkid);
        }
    }

    pub fn current(&self) -> u64 {
        self.lock().session
    }

    pub fn held(&self) -> usize {
        self.lock().held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redelivery_of_a_message_in_processing_is_skipped_and_its_ack_stays_valid() {
        let s = SessionState::default();
        let session = s.connected(false).session;
        assert_eq!(s.received(7, false), Receipt::Take { session });
        // The connection drops; the broker resumes the session and redelivers 7.
        assert_eq!(s.connected(true), Connected { session, lost: false });
        assert_eq!(s.received(7, true), Receipt::AlreadyHeld);
        assert!(s.may_ack(7, session), "the ack is valid on the resumed session");
        s.ack_written(7);
        assert_eq!(s.held(), 0);
    }

    #[test]
    fn an_ack_lost_with_the_connection_lets_the_redelivery_through() {
        let s = SessionState::default();
        let session = s.connected(false).session;
        s.received(3, false);
        assert!(s.may_ack(3, session));
        // Not written before the drop: the client discards queued acks.
        s.connected(true);
        assert_eq!(s.received(3, true), Receipt::Take { session });
    }

    #[test]
    fn a_lost_session_voids_every_held_ack() {
        let s = SessionState::default();
        let old = s.connected(false).session;
        s.received(1, false);
        let new = s.connected(false);
        assert!(new.lost, "a session the broker forgot after the first connect is a lost one");
        let new = new.session;
        assert_ne!(old, new);
        assert!(!s.may_ack(1, old), "packet id 1 may name another message now");
        assert_eq!(s.received(1, true), Receipt::Take { session: new });
    }

    #[test]
    fn the_first_connect_never_finds_a_session_lost() {
        let s = SessionState::default();
        assert!(!s.connected(false).lost, "a fresh start has no session to lose");
        assert!(!s.connected(true).lost);
    }

    #[test]
    fn a_resumed_session_the_broker_later_forgot_is_lost() {
        let s = SessionState::default();
        assert!(!s.connected(true).lost, "resumed at the first connect");
        assert!(s.connected(false).lost, "connected before, and now the broker has no session for us");
    }
}
