//! The engineers' field app: each notification for an engineer is
//! published with QoS 1 on `{engineer_topic}/{engineer id}` through
//! `[mqtt]`'s broker, as the same JSON a webhook gets, and counts as sent
//! once the broker has acknowledged it (PUBACK). One connection of its own
//! (client id `{mqtt.client_id}-notify`), opened when needed and opened
//! again after any failure or a long idle spell.

use super::SendError;
use crate::outputs::notify::outbox::Notification;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use std::time::Instant;
use tokio::sync::Mutex;

pub struct FieldApp {
    options: MqttOptions,
    link: Mutex<Option<Link>>,
}

struct Link {
    client: AsyncClient,
    events: EventLoop,
    used: Instant,
}

impl FieldApp {
    pub fn new(options: MqttOptions) -> FieldApp {
        FieldApp { options, link: Mutex::new(None) }
    }

    pub async fn send(&self, n: &Notification) -> Result<(), SendError> {
        let mut slot = self.link.lock().await;
        // The link is out of its slot while in use: an attempt that fails
        // or is cancelled (timed out) drops it, and the next one connects
        // afresh. Between sends nobody polls the connection, so no
        // keep-alives go out: past half the keep-alive it is renewed too.
        let fresh = |l: &Link| l.used.elapsed() <= self.options.keep_alive() / 2;
        let mut l = slot.take().filter(fresh).unwrap_or_else(|| {
            let (client, events) = AsyncClient::new(self.options.clone(), 4);
            Link { client, events, used: Instant::now() }
        });
        publish(&mut l, &n.address, n.payload.as_bytes().to_vec()).await?;
        l.used = Instant::now();
        *slot = Some(l);
        Ok(())
    }
}

/// Publishes and waits for the broker's PUBACK of that very message.
async fn publish(l: &mut Link, topic: &str, payload: Vec<u8>) -> Result<(), SendError> {
    let broken = |e: &dyn std::fmt::Display| SendError::Transient(format!("MQTT {topic}: {e}"));
    l.client.publish(topic, QoS::AtLeastOnce, false, payload).await.map_err(|e| broken(&e))?;
    let mut pkid = None;
    loop {
        match l.events.poll().await.map_err(|e| broken(&e))? {
            Event::Outgoing(Outgoing::Publish(id)) => pkid = Some(id),
            Event::Incoming(Packet::PubAck(ack)) if Some(ack.pkid) == pkid => return Ok(()),
            _ => {}
        }
    }
}
