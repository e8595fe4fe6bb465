//! The embedded MQTT broker (rumqttd), so one box runs a centre with nothing
//! else installed. Production sites may use Mosquitto instead
//! (`--mqtt-url`); the agents speak plain MQTT 3.1.1 to either.
//!
//! rumqttd keeps sessions and retained messages in memory: a centre restart
//! loses them, and the agents then rely on their own outbox and stored
//! roster, and on the centre re-publishing the roster when it starts.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use super::CentreError;

/// Large enough for the largest roster (1 MiB) with room to spare.
const MAX_PAYLOAD: usize = 2 * 1024 * 1024;

/// Starts the broker on `listen` (port 0: a free port; if `fallback`, a
/// free port also when that one is taken); returns the address.
pub fn start(
    listen: SocketAddr,
    fallback: bool,
    passwords: Option<&std::path::Path>,
) -> Result<SocketAddr, CentreError> {
    let addr = match TcpListener::bind(listen) {
        Ok(l) => l
            .local_addr()
            .map_err(|e| CentreError::Broker(e.to_string()))?,
        Err(e) if fallback && e.kind() == std::io::ErrorKind::AddrInUse => {
            let l = TcpListener::bind(SocketAddr::new(listen.ip(), 0))
                .map_err(|e| CentreError::Broker(e.to_string()))?;
            let addr = l
                .local_addr()
                .map_err(|e| CentreError::Broker(e.to_string()))?;
            tracing::warn!(
                "{listen} is taken (another broker?); the embedded broker listens on {addr} instead"
            );
            addr
        }
        Err(e) => {
            return Err(CentreError::Broker(format!(
                "the embedded MQTT broker cannot listen on {listen}: {e}. If a broker (Mosquitto) already \
                 runs there, use it with --mqtt-url mqtt://{listen}, or pick another --mqtt-listen address"
            )));
        }
    };
    let mut server = ServerSettings {
        name: "v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 5000,
            max_payload_size: MAX_PAYLOAD,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    if let Some(path) = passwords {
        // The same logins as the site's Mosquitto (its password file), read
        // again at every login: a device's claim login (`device label`) or
        // a retired device works or stops working without a restart. Topic
        // ACLs are Mosquitto's only: rumqttd has none.
        let logins =
            keting_provisioning::mosquitto_files::read_password_file(path).map_err(|e| {
                CentreError::Broker(format!("--mqtt-passwords {}: {e}", path.display()))
            })?;
        tracing::info!(logins = logins.len(), "embedded broker: logins required");
        let path = path.to_owned();
        server.set_auth_handler(move |_client: String, user: String, pass: String| {
            let path = path.clone();
            async move {
                match keting_provisioning::mosquitto_files::read_password_file(&path) {
                    Ok(logins) => logins
                        .get(&user)
                        .is_some_and(|h| keting_provisioning::mosquitto_files::verify(h, &pass)),
                    Err(e) => {
                        tracing::error!("--mqtt-passwords {}: {e}; login refused", path.display());
                        false
                    }
                }
            }
        });
    }
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 1010,
            max_outgoing_packet_count: 200,
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("v4".to_owned(), server)])),
        v5: None,
        ws: None,
        cluster: None,
        console: None,
        bridge: None,
        prometheus: None,
        metrics: None,
    };
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!("embedded MQTT broker stopped: {e}");
            }
        })
        .map_err(|e| CentreError::Broker(e.to_string()))?;
    // The clients connect with backoff, so nothing waits for the broker here.
    tracing::info!(%addr, "embedded MQTT broker started");
    Ok(addr)
}
