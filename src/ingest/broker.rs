//! The MQTT broker embedded for `upkeep demo` and the tests: rumqttd on
//! loopback, so the zero-setup path needs no installed server. Production
//! runs against an external broker (`upkeep run`).

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("port {port} on 127.0.0.1 is not free for the embedded broker: {source}")]
    PortTaken { port: u16, source: std::io::Error },
    #[error("invalid embedded broker config: {0}")]
    Config(String),
    #[error("cannot start the embedded broker thread: {0}")]
    Thread(std::io::Error),
}

/// Starts rumqttd on `127.0.0.1:port` (0 picks a free port) in its own
/// threads and returns the port it listens on.
pub fn start(port: u16) -> Result<u16, BrokerError> {
    let port = free_port(port)?;
    let config = config(port, 1 << 20)?;
    std::thread::Builder::new()
        .name("embedded-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded broker stopped");
            }
        })
        .map_err(BrokerError::Thread)?;
    wait_until_listening(port);
    Ok(port)
}

fn free_port(port: u16) -> Result<u16, BrokerError> {
    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
        .map_err(|source| BrokerError::PortTaken { port, source })?;
    listener.local_addr().map(|a| a.port()).map_err(|source| BrokerError::PortTaken { port, source })
}

fn wait_until_listening(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    tracing::warn!(port, "embedded broker is slow to listen");
}

/// rumqttd's own config schema, filled in for a single local v4 listener.
fn config(port: u16, max_payload: usize) -> Result<rumqttd::Config, BrokerError> {
    let text = format!(
        r#"
id = 0
[router]
id = 0
max_connections = 1000
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "embedded-v4"
listen = "127.0.0.1:{port}"
next_connection_delay_ms = 0
[v4.1.connections]
connection_timeout_ms = 60000
max_payload_size = {max_payload}
max_inflight_count = 500
dynamic_filters = true
"#
    );
    toml::from_str(&text).map_err(|e| BrokerError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_config_parses() {
        let c = config(18831, 1024).unwrap();
        assert!(c.v4.is_some());
    }

    #[test]
    fn a_taken_port_is_reported_not_ignored() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        assert!(matches!(free_port(port), Err(BrokerError::PortTaken { .. })));
    }
}
