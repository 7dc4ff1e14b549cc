//! Telemetry in: the MQTT event loop, the decode step that feeds detection or
//! the dead letters, the ordered acknowledgement of QoS 1 messages, the
//! budget that bounds what is held in between, and the broker embedded for
//! the zero-setup demo.

mod acks;
#[cfg(feature = "demo")]
pub mod broker;
mod budget;
mod commit;
mod config;
mod event_loop;
mod internal_events;
mod mqtt;
mod pipeline;
mod session;

pub use acks::{AckQueue, PendingAck};
pub use budget::{Budget, Held, Limits};
pub use commit::acknowledge_committed;
pub use config::{BrokerUrl, EmbeddedBrokerConfig, IngestConfig, MqttConfig};
pub use mqtt::{connect, options as mqtt_options, Delivery, MqttAcker, MqttError};
pub use pipeline::{run as run_pipeline, PipelineContext};
