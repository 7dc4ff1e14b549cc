//! Notifications end to end on real components: the outbox in SQLite and
//! PostgreSQL, a webhook receiver over HTTP, aiosmtpd with STARTTLS
//! (`UPKEEP_TEST_SMTP_URL`), Mosquitto (`UPKEEP_TEST_MQTT_URL`). Tickets
//! are written through the ticket store, as the engine writes them; the
//! notifications output is started as the engine starts it.

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use upkeep::db::Db;
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::model::{now_ms, EngineerId, Severity, Span};
use upkeep::outputs::notify::config::{NotifyConfig, WebhookConfig};
use upkeep::outputs::notify::{Filter, Status};
use upkeep::outputs::{OutputContext, Outputs, OutputsConfig};
use upkeep::rules::RuleSet;
use upkeep::tickets::{Begun, NewTicket, TicketState};

const SECRET: &str = "a webhook secret of some length";

/// What the receiver saw: headers and body of every POST, answered 500
/// for the first `fail_first`.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    fail_first: usize,
}

impl Receiver {
    fn seen(&self) -> Vec<(HeaderMap, String)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let mut seen = r.seen.lock().unwrap();
    seen.push((headers, body));
    if seen.len() <= r.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

/// A webhook receiver on a free port; its URL.
async fn receiver(fail_first: usize) -> (String, Receiver) {
    let r = Receiver { fail_first, ..Default::default() };
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, r)
}

fn webhook(name: &str, url: &str) -> WebhookConfig {
    WebhookConfig {
        name: name.into(),
        url: url.into(),
        secret: SECRET.into(),
        events: vec![],
        language: Default::default(),
    }
}

/// Fast retries, no quiet hours, no channel but those given.
fn config(webhooks: Vec<WebhookConfig>) -> NotifyConfig {
    let midnight = chrono::NaiveTime::MIN;
    NotifyConfig {
        poll: Span(50),
        retry_min: Span(50),
        retry_max: Span(200),
        max_attempts: 3,
        timeout: Span::from_secs(5),
        quiet_start: midnight,
        quiet_end: midnight,
        engineer_mqtt: false,
        webhooks,
        ..Default::default()
    }
}

struct World {
    db: Db,
    fleet: Arc<Fleet>,
    rules: Arc<RuleSet>,
}

impl World {
    fn new(db: Db) -> World {
        let rules = common::rules();
        let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: 12, seed: 1 })).unwrap());
        World { db, fleet, rules }
    }

    fn start(&self, notify: &NotifyConfig, mqtt: &upkeep::config::MqttConfig) -> Outputs {
        let (tickets, stock, metrics) = (self.db.ticket_reader(), self.db.stock(), Arc::new(Default::default()));
        let ctx = OutputContext {
            db: &self.db,
            fleet: &self.fleet,
            rules: &self.rules,
            tickets: &tickets,
            stock: &stock,
            metrics: &metrics,
        };
        let config = OutputsConfig { influx: &Default::default(), notify, mqtt };
        Outputs::start(&config, &ctx).unwrap()
    }

    /// A ticket on the first asset, assigned to the engineer at `engineer`,
    /// as dispatch assigns one when it opens it.
    async fn assigned(&self, engineer: usize) -> (String, EngineerId) {
        let asset = &self.fleet.assets()[0];
        let rule = &self.rules.for_model(&asset.model).unwrap().rules[0];
        let now = now_ms();
        let t = NewTicket {
            asset: asset.id.clone(),
            model: asset.model.clone(),
            fault: rule.fault.clone(),
            rule: rule.id.clone(),
            kind: rule.kind,
            severity: Severity::Major,
            description: rule.description.clone(),
            detected_at: now,
            response_due: now + 3_600_000,
            on_site_due: now + 86_400_000,
            resolution_due: now + 2 * 86_400_000,
            sla_tier: "major".into(),
            evidence: serde_json::json!({}),
        };
        let Begun::Opened(mut o) = self.db.tickets().begin_opening(&t, now).await.unwrap() else {
            panic!("not opened")
        };
        let id = self.fleet.engineers()[engineer].id.clone();
        o.assign(&id, "nearest qualified", false).await.unwrap();
        (o.commit().await.unwrap().to_string(), id)
    }

    async fn step(&self, ticket: &str, engineer: &EngineerId, to: TicketState) {
        let actor = upkeep::tickets::Actor::Engineer(engineer);
        self.db.tickets().transition(ticket, to, actor, "", now_ms()).await.unwrap();
    }

    async fn with_status(&self, status: Status) -> Vec<upkeep::outputs::notify::Notification> {
        let f = Filter { status: Some(status), limit: 100, ..Default::default() };
        self.db.notifications().list(&f).await.unwrap()
    }
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn signature(timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Signed deliveries retried through failures with one idempotency key; a
/// receiver that never answers makes a dead delivery, retried by hand;
/// notices written while the output is stopped go out once it starts.
async fn webhooks_deliver_at_least_once(db: Db) {
    let w = World::new(db);
    let (url, flaky) = receiver(2).await;
    let hooks = vec![webhook("flaky", &url), webhook("gone", "http://127.0.0.1:9/hook")];
    let outputs = w.start(&config(hooks.clone()), &Default::default());
    let (ticket, engineer) = w.assigned(0).await;

    until("the flaky hook's third attempt", async || flaky.seen().len() >= 3).await;
    let seen = flaky.seen();
    let keys: Vec<&str> = seen.iter().map(|(h, _)| h["idempotency-key"].to_str().unwrap()).collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "one key on every attempt: {keys:?}");
    assert_eq!(keys[0], format!("{ticket}:2:webhook:flaky"), "ticket, event, channel, recipient");
    for (headers, body) in &seen {
        let ts = headers["x-upkeep-timestamp"].to_str().unwrap();
        assert_eq!(headers["x-upkeep-signature"].to_str().unwrap(), signature(ts, body));
        assert_eq!(headers["x-upkeep-event"], "assigned");
    }
    let payload: serde_json::Value = serde_json::from_str(&seen[2].1).unwrap();
    assert_eq!(
        (payload["notice"].as_str(), payload["ticket"]["id"].as_str()),
        (Some("assigned"), Some(ticket.as_str()))
    );
    assert_eq!(payload["event"]["engineer"].as_str(), Some(engineer.as_str()));
    until("the flaky delivery recorded as sent", async || !w.with_status(Status::Sent).await.is_empty()).await;
    let sent = w.with_status(Status::Sent).await;
    assert_eq!((sent.len(), sent[0].attempts), (1, 3), "sent on the third attempt");

    until("the unreachable hook's delivery dead", async || !w.with_status(Status::Dead).await.is_empty()).await;
    let dead = w.with_status(Status::Dead).await;
    assert_eq!((dead[0].recipient.as_str(), dead[0].attempts), ("gone", 3));
    assert!(!dead[0].last_error.is_empty(), "the last error is kept");
    outputs.stop().await;

    // Stopped: the next notifiable event waits in the outbox.
    w.step(&ticket, &engineer, TicketState::Accepted).await;
    w.step(&ticket, &engineer, TicketState::EnRoute).await;
    assert_eq!(w.db.notifications().backlog().await.unwrap().outbox, 1, "on the way: one notice kept");
    assert!(w.db.notifications().retry(&dead[0].id, now_ms()).await.unwrap(), "a dead one is retried by hand");
    let outputs = w.start(&config(hooks), &Default::default());
    until("the on-the-way notice delivered after the restart", async || {
        flaky.seen().iter().any(|(h, _)| h["x-upkeep-event"] == "on_the_way")
    })
    .await;
    until("the outbox empty", async || w.db.notifications().backlog().await.unwrap().outbox == 0).await;
    outputs.stop().await;
    let retried = w.db.notifications().list(&Filter { limit: 100, ..Default::default() }).await.unwrap();
    let again = retried.iter().find(|n| n.id == dead[0].id).unwrap();
    assert!(again.attempts >= 1 && again.status != Status::Sent, "tried again after the hand retry: {again:?}");

    // The sent history is bounded; what is not sent stays.
    let forgotten = w.db.notifications().forget_sent(now_ms() + 1).await.unwrap();
    assert_eq!(forgotten, 2, "the assignment and the on-the-way message");
    let left = w.db.notifications().list(&Filter { limit: 100, ..Default::default() }).await.unwrap();
    assert!(left.iter().all(|n| n.status != Status::Sent) && left.iter().any(|n| n.id == dead[0].id), "{left:?}");
}

#[tokio::test]
async fn webhooks_deliver_at_least_once_on_sqlite() {
    let (db, _dir) = common::sqlite().await;
    webhooks_deliver_at_least_once(db).await;
}

#[tokio::test]
#[cfg_attr(no_postgres, ignore = "needs UPKEEP_TEST_DATABASE_URL")]
async fn webhooks_deliver_at_least_once_on_postgres() {
    let db = common::postgres(&common::server("UPKEEP_TEST_DATABASE_URL")).await;
    webhooks_deliver_at_least_once(db).await;
}

/// Decodes a subject of RFC 2047 `=?UTF-8?B?...?=` words, folded on lines of its own.
fn subject(mail: &str) -> String {
    use base64::Engine as _;
    let mut lines = mail.lines().skip_while(|l| !l.starts_with("Subject: "));
    let first = lines.next().expect("a subject").trim_start_matches("Subject: ");
    let folded = std::iter::once(first).chain(lines.take_while(|l| l.starts_with(' ')));
    let decode = |w: &str| {
        let b64 = w.trim().strip_prefix("=?UTF-8?B?").and_then(|s| s.strip_suffix("?=")).expect("an encoded-word");
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
    };
    folded.map(decode).collect()
}

#[tokio::test]
#[cfg_attr(no_smtp, ignore = "needs UPKEEP_TEST_SMTP_URL (aiosmtpd with STARTTLS)")]
async fn mail_goes_over_starttls_to_each_person_in_their_language() {
    let url = common::server("UPKEEP_TEST_SMTP_URL");
    let maildir = std::path::PathBuf::from(common::server("UPKEEP_TEST_SMTP_MAILDIR")).join("new");
    let (host, port) = url.trim_start_matches("smtp://").rsplit_once(':').unwrap();
    let (db, _dir) = common::sqlite().await;
    let w = World::new(db);
    let mut c = config(vec![]);
    c.smtp.host = host.into();
    c.smtp.port = port.parse().unwrap();
    c.smtp.ca_file = Some(common::server("UPKEEP_TEST_SMTP_CA").into());
    let outputs = w.start(&c, &Default::default());
    // The second engineer reads Chinese (the generator's one in three).
    let (ticket, engineer) = w.assigned(1).await;
    let mailbox = w.fleet.engineers()[1].contact.clone().unwrap().email.unwrap();
    let mine = |text: &String| text.contains(&format!("To: <{mailbox}>")) && text.contains(&ticket);
    let read = || -> Vec<String> {
        std::fs::read_dir(&maildir)
            .map_or(vec![], |d| d.flatten().map(|f| std::fs::read_to_string(f.path()).unwrap()).collect())
    };
    until("the engineer's mail in the maildir", async || read().iter().any(mine)).await;
    let mail = read().into_iter().find(mine).unwrap();
    let s = subject(&mail);
    assert!(s.starts_with("【一般】") || s.starts_with("【重大】"), "a Chinese subject: {s}");
    assert!(s.contains(&ticket) && mail.contains("Content-Language: zh-CN"), "{mail}");
    until("recorded as sent", async || w.with_status(Status::Sent).await.len() == 1).await;

    // The customer hears that the engineer is on the way.
    let customer_mail = w.fleet.file().customers.iter().find(|c| c.customer == w.fleet.assets()[0].customer).unwrap();
    assert!(customer_mail.contact.email.is_some());
    w.step(&ticket, &engineer, TicketState::Accepted).await;
    w.step(&ticket, &engineer, TicketState::EnRoute).await;
    until("the customer's mail sent", async || w.with_status(Status::Sent).await.len() == 2).await;
    outputs.stop().await;
}

#[tokio::test]
#[cfg_attr(no_mqtt, ignore = "needs UPKEEP_TEST_MQTT_URL")]
async fn the_field_app_gets_its_engineers_messages_on_their_topic() {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let url: upkeep::ingest::BrokerUrl = common::server("UPKEEP_TEST_MQTT_URL").parse().unwrap();
    let (db, _dir) = common::sqlite().await;
    let w = World::new(db);
    let engineer = w.fleet.engineers()[2].id.clone();
    let mut opts = MqttOptions::new(format!("field-app-{}", uuid::Uuid::new_v4().simple()), url.host.clone(), url.port);
    opts.set_keep_alive(Duration::from_secs(5));
    let (app, mut events) = AsyncClient::new(opts, 10);
    app.subscribe(format!("upkeep/notify/engineer/{engineer}"), QoS::AtLeastOnce).await.unwrap();
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = events.poll().await.unwrap() {
            break;
        }
    }
    let mqtt = upkeep::config::MqttConfig {
        url,
        client_id: format!("upkeep-test-{}", uuid::Uuid::new_v4().simple()),
        ..Default::default()
    };
    let mut c = config(vec![]);
    c.engineer_mqtt = true;
    let outputs = w.start(&c, &mqtt);
    let (ticket, _) = w.assigned(2).await;
    let payload = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) = events.poll().await.unwrap() {
                return p;
            }
        }
    })
    .await
    .expect("the engineer's message");
    assert_eq!(payload.topic, format!("upkeep/notify/engineer/{engineer}"));
    let v: serde_json::Value = serde_json::from_slice(&payload.payload).unwrap();
    assert_eq!((v["notice"].as_str(), v["ticket"]["id"].as_str()), (Some("assigned"), Some(ticket.as_str())));
    assert!(v["subject"].as_str().unwrap().contains(&ticket));
    until("recorded as sent after the broker's PUBACK", async || w.with_status(Status::Sent).await.len() == 1).await;
    outputs.stop().await;
}
