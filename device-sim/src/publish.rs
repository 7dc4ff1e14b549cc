//! Publishing messages to the MQTT broker, with delivery confirmation.
//!
//! The engine is scored against ground truth, so "sent" must mean "the broker
//! has it": [`publish`] only returns once every QoS 1/2 message is
//! acknowledged. rumqttc's own session replay is not relied on (with a clean
//! session it drops unacknowledged messages on reconnect), so this module
//! keeps every unacknowledged message itself and, after a connection error,
//! opens a fresh connection and re-sends them (at-least-once).
//!
//! Acks are matched to messages by packet id. rumqttc reports
//! `Outgoing::Publish(pkid)` in request order, and since we never have more
//! messages outstanding than its in-flight limit, packet ids cannot collide.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{Message, SimError, Simulator};

/// Where and how to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishConfig {
    /// `mqtt://host[:port]` or `tcp://host[:port]` (plain TCP; default port 1883).
    pub broker_url: String,
    /// MQTT client id; must be unique among clients connected to the broker.
    pub client_id: String,
    /// Topics are `{topic_prefix}/{asset_id}`.
    pub topic_prefix: String,
    /// 0, 1 (default) or 2.
    pub qos: u8,
    /// Maximum messages per second; `None` = as fast as the broker acks.
    pub rate: Option<f64>,
    /// Live: a message whose event time (its last tick) is still ahead of
    /// the wall clock waits until then, so a run that reaches the present
    /// goes on in real time.
    pub hold_until_due: bool,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            broker_url: "mqtt://127.0.0.1:1883".into(),
            client_id: format!("device-sim-{}", std::process::id()),
            topic_prefix: "upkeep/telemetry".into(),
            qos: 1,
            rate: None,
            hold_until_due: false,
        }
    }
}

/// Delivery counters (confirmed deliveries only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishStats {
    /// Messages delivered (acknowledged for QoS 1/2), malformed ones included.
    pub messages: u64,
    /// Valid readings in delivered messages.
    pub readings: u64,
    /// Malformed messages delivered.
    pub malformed: u64,
    /// Wall time since `publish` started.
    pub elapsed: Duration,
    /// Malformed messages delivered, by kind name (as in the ground truth).
    pub malformed_by_kind: BTreeMap<String, u64>,
    /// Event time of the newest delivered message, epoch ms.
    pub last_event_ts_ms: Option<i64>,
    /// Connection attempts after a failed or lost connection.
    pub reconnects: u64,
}

/// Messages handed to rumqttc but not yet acknowledged; must not exceed its
/// in-flight limit (see module docs). Also the request channel capacity.
const WINDOW: u16 = 256;
/// Give up when no connection could be established for this long.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const MAX_PACKET: usize = 16 * 1024 * 1024;
/// Most idle time a rate-limited run may make up for in one burst.
const MAX_BURST: Duration = Duration::from_millis(5);

/// Publishes every message of `sim`; see [`publish_messages`].
pub async fn publish(
    sim: Simulator,
    cfg: &PublishConfig,
    progress: impl FnMut(&PublishStats),
) -> Result<PublishStats, SimError> {
    publish_messages(sim, cfg, progress).await
}

/// Publishes `messages` in order and returns once all are delivered
/// (acknowledged by the broker for QoS 1/2). Reconnects and re-sends on
/// connection errors; fails if the broker stays unreachable for 30 s.
/// `progress` is called about once a second.
pub async fn publish_messages(
    messages: impl IntoIterator<Item = Message>,
    cfg: &PublishConfig,
    mut progress: impl FnMut(&PublishStats),
) -> Result<PublishStats, SimError> {
    let qos = match cfg.qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        q => return Err(SimError::Config(format!("qos must be 0, 1 or 2, not {q}"))),
    };
    let gap = match cfg.rate {
        None => None,
        Some(r) if r.is_finite() && r > 0.0 => Some(Duration::from_secs_f64(1.0 / r)),
        Some(r) => return Err(SimError::Config(format!("rate must be positive, not {r}"))),
    };
    if cfg.topic_prefix.contains(['+', '#']) {
        return Err(SimError::Config("topic prefix must not contain wildcards".into()));
    }
    let options = mqtt_options(cfg)?;
    let started = Instant::now();
    let mut run = Run {
        cfg,
        qos,
        gap,
        source: messages.into_iter().peekable(),
        exhausted: false,
        due_at: None,
        out: Outstanding::default(),
        stats: PublishStats::default(),
        next_slot: started,
    };
    let mut conn = Connection::open(&options);
    let mut down_since = Some(started);
    let mut backoff = MIN_BACKOFF;
    let mut ticker = tokio::time::interval_at((started + Duration::from_secs(1)).into(), Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        run.fill(&conn.client)?;
        if run.done() {
            break;
        }
        let failure = tokio::select! {
            event = conn.events.recv() => match event {
                Some(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                    down_since = None;
                    backoff = MIN_BACKOFF;
                    None
                }
                Some(Ok(event)) => run.on_event(event),
                Some(Err(e)) => Some(e.to_string()),
                None => Some("event loop stopped".to_string()),
            },
            _ = tokio::time::sleep_until(run.next_slot.into()), if run.rate_limited() => None,
            _ = tokio::time::sleep_until(run.due_at.unwrap_or(started).into()), if run.due_at.is_some() => {
                run.due_at = None;
                None
            }
            _ = ticker.tick() => {
                run.stats.elapsed = started.elapsed();
                progress(&run.stats);
                None
            }
        };

        if let Some(reason) = failure {
            let since = *down_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= GIVE_UP_AFTER {
                return Err(SimError::Mqtt(format!(
                    "no connection to {} for {}s: {reason}",
                    cfg.broker_url,
                    since.elapsed().as_secs()
                )));
            }
            tracing::warn!(%reason, unacknowledged = run.out.len(), "MQTT connection lost; reconnecting");
            run.out.requeue();
            drop(conn);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            run.stats.reconnects += 1;
            conn = Connection::open(&options);
        }
    }

    conn.close().await;
    run.stats.elapsed = started.elapsed();
    Ok(run.stats)
}

/// State of one `publish_messages` call that survives reconnects.
struct Run<'a, I: Iterator<Item = Message>> {
    cfg: &'a PublishConfig,
    qos: QoS,
    /// Minimum spacing between messages when rate-limited.
    gap: Option<Duration>,
    source: std::iter::Peekable<I>,
    exhausted: bool,
    /// When the next message's event time comes (`hold_until_due`).
    due_at: Option<Instant>,
    out: Outstanding,
    stats: PublishStats,
    /// Earliest time the next message may go out (rate limit).
    next_slot: Instant,
}

impl<I: Iterator<Item = Message>> Run<'_, I> {
    /// Next message to send: re-sends first, then new ones.
    fn next_message(&mut self) -> Option<(u64, Message)> {
        if let Some(entry) = self.out.retry.pop_front() {
            return Some(entry);
        }
        if self.exhausted || self.due_at.is_some() {
            return None;
        }
        if self.cfg.hold_until_due {
            let ahead = self.source.peek().map_or(0, |m| m.last_ts_ms - chrono::Utc::now().timestamp_millis());
            if ahead > 0 {
                self.due_at = Some(Instant::now() + Duration::from_millis(ahead.unsigned_abs()));
                return None;
            }
        }
        let next = self.source.next();
        self.exhausted = next.is_none();
        next.map(|m| (self.out.take_seq(), m))
    }

    fn window_open(&self) -> bool {
        self.out.len() < WINDOW as usize
    }

    /// Waiting only for the rate limiter (not for acks, not finished).
    fn rate_limited(&self) -> bool {
        self.gap.is_some()
            && self.window_open()
            && ((!self.exhausted && self.due_at.is_none()) || !self.out.retry.is_empty())
    }

    fn done(&self) -> bool {
        self.exhausted && self.out.len() == 0 && self.out.retry.is_empty()
    }

    /// Hands messages to the client while the window and the rate allow.
    fn fill(&mut self, client: &AsyncClient) -> Result<(), SimError> {
        while self.window_open() && self.gap.is_none_or(|_| Instant::now() >= self.next_slot) {
            let Some((seq, msg)) = self.next_message() else {
                return Ok(());
            };
            let topic = msg.topic(&self.cfg.topic_prefix);
            if topic.contains(['+', '#']) || msg.payload.len() + topic.len() + 16 > MAX_PACKET {
                return Err(SimError::Config(format!("cannot publish to {topic:?} ({} bytes)", msg.payload.len())));
            }
            if client.try_publish(topic, self.qos, false, msg.payload.clone()).is_err() {
                // The event loop has stopped; its error event arrives next.
                self.out.retry.push_front((seq, msg));
                return Ok(());
            }
            self.out.submitted.push_back((seq, msg));
            if let Some(gap) = self.gap {
                // Idle time banks as burst credit up to a few timer ticks (the
                // timer wakes at most every millisecond, so a rate above
                // 1,000/s needs several messages per wake), never more.
                let floor = Instant::now().checked_sub(gap.max(MAX_BURST)).unwrap_or(self.next_slot);
                self.next_slot = self.next_slot.max(floor) + gap;
            }
        }
        Ok(())
    }

    /// Tracks delivery; returns a reason to reconnect if state is out of sync.
    fn on_event(&mut self, event: Event) -> Option<String> {
        match event {
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                if let Some(entry) = self.out.submitted.pop_front() {
                    if self.qos == QoS::AtMostOnce {
                        self.stats.record(&entry.1);
                    } else {
                        self.out.inflight.insert(pkid, entry);
                    }
                }
            }
            Event::Incoming(Packet::PubAck(ack)) if self.qos == QoS::AtLeastOnce => {
                self.out.ack(ack.pkid, &mut self.stats);
            }
            Event::Incoming(Packet::PubComp(comp)) if self.qos == QoS::ExactlyOnce => {
                self.out.ack(comp.pkid, &mut self.stats);
            }
            // Cannot happen while the window holds; resync by reconnecting.
            Event::Outgoing(Outgoing::AwaitAck(pkid)) => {
                return Some(format!("packet id {pkid} collided"));
            }
            _ => {}
        }
        None
    }
}

impl PublishStats {
    fn record(&mut self, msg: &Message) {
        self.messages += 1;
        self.readings += msg.readings as u64;
        if let Some(kind) = msg.malformed {
            self.malformed += 1;
            *self.malformed_by_kind.entry(kind.as_str().to_string()).or_default() += 1;
        }
        self.last_event_ts_ms = Some(self.last_event_ts_ms.map_or(msg.last_ts_ms, |t| t.max(msg.last_ts_ms)));
    }
}

/// Messages not yet confirmed, each tagged with its send order.
#[derive(Default)]
struct Outstanding {
    next_seq: u64,
    /// To (re-)send before taking new messages.
    retry: VecDeque<(u64, Message)>,
    /// Handed to the client, packet id not yet known.
    submitted: VecDeque<(u64, Message)>,
    /// Written to the broker, waiting for the ack.
    inflight: HashMap<u16, (u64, Message)>,
}

impl Outstanding {
    fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Messages currently held by the client or the broker.
    fn len(&self) -> usize {
        self.submitted.len() + self.inflight.len()
    }

    fn ack(&mut self, pkid: u16, stats: &mut PublishStats) {
        if let Some((_, msg)) = self.inflight.remove(&pkid) {
            stats.record(&msg);
        }
    }

    /// After a lost connection everything unconfirmed goes back to the front
    /// of the queue, in original order.
    fn requeue(&mut self) {
        let mut lost: Vec<_> = self.inflight.drain().map(|(_, e)| e).chain(self.submitted.drain(..)).collect();
        lost.sort_by_key(|(seq, _)| *seq);
        for entry in lost.into_iter().rev() {
            self.retry.push_front(entry);
        }
    }
}

/// One broker connection: the client handle plus a task driving rumqttc's
/// event loop and forwarding its events (the event loop must be polled
/// continuously and is not safe to cancel mid-poll, hence its own task).
struct Connection {
    client: AsyncClient,
    events: mpsc::Receiver<Result<Event, ConnectionError>>,
    task: JoinHandle<()>,
}

impl Connection {
    fn open(options: &MqttOptions) -> Self {
        let (client, mut eventloop) = AsyncClient::new(options.clone(), WINDOW as usize);
        let (tx, events) = mpsc::channel(1024);
        let task = tokio::spawn(async move {
            loop {
                let event = eventloop.poll().await;
                let failed = event.is_err();
                if tx.send(event).await.is_err() || failed {
                    break;
                }
            }
        });
        Connection { client, events, task }
    }

    /// Sends DISCONNECT and waits (briefly) for it to go out.
    async fn close(mut self) {
        if self.client.try_disconnect().is_err() {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(event)) = self.events.recv().await {
                if event == Event::Outgoing(Outgoing::Disconnect) {
                    break;
                }
            }
        })
        .await;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn mqtt_options(cfg: &PublishConfig) -> Result<MqttOptions, SimError> {
    let (host, port) = broker_address(&cfg.broker_url)?;
    let mut options = MqttOptions::new(cfg.client_id.clone(), host, port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true)
        .set_inflight(WINDOW)
        .set_max_packet_size(64 * 1024, MAX_PACKET);
    Ok(options)
}

/// Splits `mqtt://host[:port][/]` (or `tcp://`, or bare `host:port`).
fn broker_address(url: &str) -> Result<(String, u16), SimError> {
    let bad = |reason: &str| SimError::BrokerUrl { url: url.to_string(), reason: reason.to_string() };
    let rest = match url.split_once("://") {
        Some(("mqtt" | "tcp", rest)) => rest,
        Some(_) => return Err(bad("only mqtt:// and tcp:// (plain TCP) are supported")),
        None => url,
    };
    let authority = rest.trim_end_matches('/');
    if authority.contains(['/', '?', '@']) {
        return Err(bad("expected only host and port"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse::<u16>().map_err(|_| bad("invalid port"))?),
        _ => (authority, 1883),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad("missing host"));
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests;
