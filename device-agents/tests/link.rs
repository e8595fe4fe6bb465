//! The MQTT link against a real Mosquitto: birth and last will, the outbox
//! drained after the broker comes back, resubscription after a restart.

use std::collections::BTreeSet;

use keting_link::connection::{LinkEvent, OFFLINE, ONLINE};
use keting_link::outbox::Outbox;

use crate::util::{Mosquitto, config, link, wait_for};

fn message_on(topic: &str) -> impl FnMut(&LinkEvent) -> bool + '_ {
    move |e| matches!(e, LinkEvent::Message { topic: t, .. } if t == topic)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn birth_is_retained_and_the_last_will_clears_it() {
    let broker = Mosquitto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let online = "keting/v1/test/device/door-1/online";

    let (door, mut door_events, door_task) = link(dir.path(), config(broker.port, "door-1", &[]));
    wait_for(&mut door_events, |e| *e == LinkEvent::Connected).await;

    // A watcher connecting later still sees the retained birth.
    let (_watch, mut watch_events, _t) =
        link(dir.path(), config(broker.port, "watcher", &[online]));
    let e = wait_for(&mut watch_events, message_on(online)).await;
    assert_eq!(
        e,
        LinkEvent::Message {
            topic: online.into(),
            payload: ONLINE.to_vec(),
            retained: true,
        },
        "a birth kept by the broker comes marked as kept"
    );

    // The agent dies without a word (its task is aborted, the socket closes): the will says offline.
    door_task.abort();
    drop(door);
    let e = wait_for(&mut watch_events, message_on(online)).await;
    assert_eq!(
        e,
        LinkEvent::Message {
            topic: online.into(),
            payload: OFFLINE.to_vec(),
            retained: false,
        },
        "a will published while we listen comes as said now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_queued_while_the_broker_is_down_all_arrive_once_it_is_back() {
    let broker = Mosquitto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let events_topic = "keting/v1/test/device/door-2/event";
    let (_watch, mut watch_events, _t) =
        link(dir.path(), config(broker.port, "kiosk", &[events_topic]));
    let (door, mut door_events, _d) = link(dir.path(), config(broker.port, "door-2", &[]));
    wait_for(&mut watch_events, |e| *e == LinkEvent::Connected).await;
    wait_for(&mut door_events, |e| *e == LinkEvent::Connected).await;

    let (broker_dir, port) = broker.stop().await;
    wait_for(&mut door_events, |e| {
        matches!(e, LinkEvent::Disconnected(_))
    })
    .await;
    for i in 0..50 {
        door.publish(events_topic, format!("{{\"id\":{i}}}").as_bytes(), false)
            .await
            .unwrap();
    }
    let _broker = Mosquitto::start_again(broker_dir, port).await;

    // The watcher resubscribes on its own after the restart; every event arrives.
    let mut seen = BTreeSet::new();
    while seen.len() < 50 {
        if let LinkEvent::Message { payload, .. } =
            wait_for(&mut watch_events, message_on(events_topic)).await
        {
            seen.insert(String::from_utf8(payload).unwrap());
        }
    }
    let want: BTreeSet<String> = (0..50).map(|i| format!("{{\"id\":{i}}}")).collect();
    assert_eq!(seen, want);

    // And the door's outbox is empty once the PUBACKs are in.
    wait_for(&mut door_events, |e| *e == LinkEvent::Drained).await;
    let outbox = Outbox::open(&dir.path().join("door-2.db")).unwrap();
    assert_eq!(outbox.len().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_broker_restart_the_agent_is_back_online() {
    let broker = Mosquitto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let online = "keting/v1/test/device/door-3/online";
    let (_door, mut door_events, _d) = link(dir.path(), config(broker.port, "door-3", &[]));
    wait_for(&mut door_events, |e| *e == LinkEvent::Connected).await;

    let broker = broker.restart().await;
    wait_for(&mut door_events, |e| *e == LinkEvent::Connected).await;
    let (_watch, mut watch_events, _t) =
        link(dir.path(), config(broker.port, "watcher-3", &[online]));
    let e = wait_for(&mut watch_events, message_on(online)).await;
    assert_eq!(
        e,
        LinkEvent::Message {
            topic: online.into(),
            payload: ONLINE.to_vec(),
            retained: true,
        }
    );
}

/// A roster of a big centre is far over rumqttc's default 10 KiB packet
/// limit; found by the door benchmark (300 members never reached the door).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_mebibyte_retained_message_goes_through() {
    let broker = Mosquitto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let topic = "keting/v1/test/device/door-4/roster";
    let (kiosk, mut kiosk_events, _k) = link(dir.path(), config(broker.port, "kiosk-4", &[]));
    wait_for(&mut kiosk_events, |e| *e == LinkEvent::Connected).await;
    let big: Vec<u8> = (0..1024 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    kiosk.publish(topic, &big, true).await.unwrap();
    wait_for(&mut kiosk_events, |e| *e == LinkEvent::Drained).await;
    let (_door, mut door_events, _d) = link(dir.path(), config(broker.port, "door-4", &[topic]));
    let e = wait_for(&mut door_events, message_on(topic)).await;
    assert_eq!(
        e,
        LinkEvent::Message {
            topic: topic.into(),
            payload: big,
            retained: true,
        }
    );
}
