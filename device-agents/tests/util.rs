//! Link helpers for the tests (the broker comes from the system-test bed).

use std::path::Path;
use std::time::Duration;

use keting_link::connection::{self, LinkConfig, LinkEvent, LinkHandle};
use keting_link::outbox::Outbox;
use tokio::sync::mpsc;

pub use keting_system_tests::mosquitto::Mosquitto;

pub fn config(port: u16, client_id: &str, subscriptions: &[&str]) -> LinkConfig {
    LinkConfig {
        host: "127.0.0.1".into(),
        port,
        client_id: client_id.into(),
        credentials: None,
        online_topic: format!("keting/v1/test/device/{client_id}/online"),
        subscriptions: subscriptions.iter().map(|s| s.to_string()).collect(),
        keep_alive: Duration::from_secs(5),
        persistent_session: true,
    }
}

/// A link with its own outbox in `dir`.
pub fn link(
    dir: &Path,
    config: LinkConfig,
) -> (
    LinkHandle,
    mpsc::Receiver<LinkEvent>,
    tokio::task::JoinHandle<()>,
) {
    let outbox = Outbox::open(&dir.join(format!("{}.db", config.client_id))).unwrap();
    connection::spawn(config, outbox)
}

/// Waits (bounded) for the first event that `want` accepts.
pub async fn wait_for(
    events: &mut mpsc::Receiver<LinkEvent>,
    mut want: impl FnMut(&LinkEvent) -> bool,
) -> LinkEvent {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let e = events.recv().await.expect("link running");
            if want(&e) {
                return e;
            }
        }
    })
    .await
    .expect("event within 30 s")
}
