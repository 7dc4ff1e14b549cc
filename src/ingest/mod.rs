//! Telemetry in: the MQTT event loop, the decode step that feeds detection or
//! the dead letters, the ordered acknowledgement of QoS 1 messages, and the
//! broker embedded for the zero-setup demo.

mod acks;
pub mod broker;
mod mqtt;
mod pipeline;

pub use acks::{AckQueue, PendingAck};
pub use mqtt::{connect, Delivery, MqttAcker, MqttError};
pub use pipeline::{run as run_pipeline, PipelineContext};
