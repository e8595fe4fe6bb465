//! Home Assistant's view of the centre, as Home Assistant would read it
//! from the broker: the discovery configs (retained, under
//! `homeassistant/`) name the door's state and availability topics, the
//! door is available while its agent is up and unavailable once the broker
//! publishes its last will, and today's visits follow the check-ins.

use std::time::Duration;

use keting_system_tests::mosquitto::Mosquitto;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};

use crate::site_bed::{SiteBed, kiosk_cli};

const WAIT: Duration = Duration::from_secs(30);

/// A client subscribed to some filters, and what arrived so far.
struct Watch {
    _client: AsyncClient,
    events: EventLoop,
    early: std::collections::VecDeque<(String, Vec<u8>)>,
}

/// A client subscribed to `filters` (SUBACKs received; retained messages
/// that came in between are kept).
async fn subscriber(port: u16, filters: &[&str]) -> Watch {
    let mut o = MqttOptions::new(
        format!("home-assistant-{}", filters.len()),
        "127.0.0.1",
        port,
    );
    o.set_keep_alive(Duration::from_secs(10));
    o.set_max_packet_size(2 << 20, 2 << 20);
    let (c, mut events) = AsyncClient::new(o, 64);
    for f in filters {
        c.subscribe(*f, QoS::AtLeastOnce).await.unwrap();
    }
    let mut early = std::collections::VecDeque::new();
    let mut acked = 0;
    while acked < filters.len() {
        match events.poll().await.unwrap() {
            Event::Incoming(Packet::SubAck(_)) => acked += 1,
            Event::Incoming(Packet::Publish(p)) => {
                early.push_back((p.topic.clone(), p.payload.to_vec()));
            }
            _ => {}
        }
    }
    Watch {
        _client: c,
        events,
        early,
    }
}

/// The next publish on a topic `want` accepts: (topic, payload).
async fn next(w: &mut Watch, want: impl Fn(&str, &[u8]) -> bool) -> (String, Vec<u8>) {
    while let Some((t, p)) = w.early.pop_front() {
        if want(&t, &p) {
            return (t, p);
        }
    }
    tokio::time::timeout(WAIT, async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) = w.events.poll().await.unwrap()
                && want(&p.topic, &p.payload)
            {
                return (p.topic.clone(), p.payload.to_vec());
            }
        }
    })
    .await
    .expect("the message came")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_assistant_sees_the_door_available_until_its_last_will_and_the_visits_of_today() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 300)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut events = subscriber(broker.port, &["homeassistant/#"]).await;
    let (topic, config) = next(&mut events, |t, _| t.ends_with("/gym-door_lock/config")).await;
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert!(
        topic.starts_with("homeassistant/binary_sensor/keting_"),
        "{topic}"
    );
    assert_eq!(config["device_class"], "lock");
    let availability = config["availability"][0]["topic"]
        .as_str()
        .unwrap()
        .to_owned();
    let state = config["state_topic"].as_str().unwrap().to_owned();
    assert_eq!(
        availability,
        format!("keting/v1/{}/device/gym-door/online", bed.site)
    );
    let (visits_topic, visits_config) = next(&mut events, |t, _| {
        t.ends_with("/centre_visits_today/config")
    })
    .await;
    let visits_config: serde_json::Value = serde_json::from_slice(&visits_config).unwrap();
    assert!(
        visits_topic.starts_with("homeassistant/sensor/"),
        "{visits_topic}"
    );
    let visits = visits_config["state_topic"].as_str().unwrap().to_owned();

    // What those topics say: the door online and locked, no visit yet.
    let mut seen = subscriber(broker.port, &[&availability, &state, &visits]).await;
    let online =
        |p: &[u8]| serde_json::from_slice::<serde_json::Value>(p).unwrap()["online"].as_bool();
    next(&mut seen, |t, p| {
        t == availability && online(p) == Some(true)
    })
    .await;
    // The status travels signed: as Home Assistant's template reads it
    // (`value_json.answer | from_json`), the door is locked.
    next(&mut seen, |t, p| {
        let envelope = serde_json::from_slice::<serde_json::Value>(p).unwrap();
        t == state
            && envelope["answer"]
                .as_str()
                .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
                .is_some_and(|s| s["state"] == "locked")
    })
    .await;
    // A check-in at the kiosk: today's visits go up.
    let (_, pass) = bed.member("王秀英");
    kiosk_cli(&bed.data(), &["checkin", &pass]);
    next(&mut seen, |t, p| {
        t == visits && serde_json::from_slice::<serde_json::Value>(p).unwrap()["visits"] == 1
    })
    .await;
    // The agent vanishes: the broker's last will makes it unavailable.
    agent.kill9().await;
    next(&mut seen, |t, p| {
        t == availability && online(p) == Some(false)
    })
    .await;
    kiosk.stop().await;
}
