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
        birth: keting_link::connection::ONLINE.to_vec(),
        subscriptions: subscriptions.iter().map(|s| s.to_string()).collect(),
        keep_alive: Duration::from_secs(5),
        persistent_session: true,
        tls: None,
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

/// The test site's key: every agent under test trusts it.
pub fn site_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
}

/// `action` as command `id` for `device`, sealed as the centre does:
/// numbered above every number sealed before in this process.
pub fn sealed(
    device: &str,
    id: &str,
    action: keting_core::messages::Action,
    deadline_ms: i64,
) -> Vec<u8> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let now = u64::try_from(keting_link::clock::now().as_unix_millis()).unwrap();
    let seq = SEQ.fetch_max(now, Ordering::SeqCst).max(now) + 1;
    SEQ.fetch_max(seq, Ordering::SeqCst);
    let command = keting_core::messages::Command {
        v: keting_core::messages::PROTOCOL_VERSION,
        to: keting_core::ids::DeviceId::new(device).unwrap(),
        seq,
        id: keting_core::messages::MessageId::new(id).unwrap(),
        deadline_ms,
        action,
    };
    keting_core::signed_command::seal(&site_key(), &command)
}
