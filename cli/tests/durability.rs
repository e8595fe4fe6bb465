//! A `kill -9` in the middle of writes loses nothing that was acknowledged.

use std::io::{BufRead, BufReader, Write};
use std::thread;

use keting_store::Store;
use keting_store::checkins::{self, CheckinId};

use crate::util::TestKiosk;

#[test]
fn every_acknowledged_check_in_survives_kill_9() {
    const ACKS_BEFORE_KILL: usize = 300;
    let k = TestKiosk::new();
    let passes: Vec<String> = (0..5)
        .map(|i| k.add_member(&format!("居民{i}")).1)
        .collect();

    let mut child = k.spawn_checkin_from_stdin();
    let mut stdin = child.stdin.take().unwrap();
    // Feed scans until the pipe breaks (the process is killed), bounded.
    let feeder = thread::spawn(move || {
        for i in 0..100_000 {
            if writeln!(stdin, "{}", passes[i % passes.len()]).is_err() {
                return;
            }
        }
    });
    let mut acked = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        acked.push(CheckinId(v["checkin_id"].as_i64().unwrap()));
        if acked.len() == ACKS_BEFORE_KILL {
            child.kill().unwrap(); // SIGKILL
            break;
        }
    }
    child.wait().unwrap();
    feeder.join().unwrap();
    assert_eq!(acked.len(), ACKS_BEFORE_KILL);

    let store = Store::open(&k.data().join("keting.db")).unwrap();
    let lost: Vec<_> = acked
        .iter()
        .filter(|id| !checkins::exists(store.conn(), **id).unwrap())
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
