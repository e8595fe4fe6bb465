//! The vending agent against a real Mosquitto and the simulated machine on
//! Modbus TCP: one drink per redemption id however often the command comes,
//! every failure reported as what it is, a query for an unseen id cancelling
//! it, and a vend in doubt settled by asking the machine.

use std::time::Duration;

use keting_core::messages::{Ack, Action, MessageId, Outcome, VendOutcome, VendingStatus, decode};
use keting_device_agents::config::AgentConfig;
use keting_device_agents::run::{SimHardware, run_agent};
use keting_hardware::sim::modbus_tcp;
use keting_hardware::vending::sim::{SimVending, VendingFault};
use keting_link::connection::{LinkEvent, LinkHandle};
use tokio::sync::{mpsc, oneshot};

use crate::util::{Mosquitto, config, link, sealed, wait_for};

const CMD: &str = "keting/v1/demo/device/vending/cmd";

struct Machine {
    _broker: Mosquitto,
    sim: SimVending,
    kiosk: LinkHandle,
    events: mpsc::Receiver<LinkEvent>,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Machine {
    async fn start(vend_limit_s: u64) -> Self {
        let broker = Mosquitto::start().await;
        let sim = SimVending::new(6, 2);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(modbus_tcp::serve(
            listener,
            sim.clone(),
            std::future::pending(),
        ));
        let dir = tempfile::tempdir().unwrap();
        let public = keting_core::pass::encode_public_key(
            &ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key(),
        );
        let toml = format!(
            "site = \"demo\"\ndevice = \"vending\"\nsite_public_key = \"{public}\"\nstate_dir = \"{}\"\n\
             [broker]\nhost = \"127.0.0.1\"\nport = {}\n\
             [vending]\nbus = \"tcp:127.0.0.1:{port}\"\nvend_limit_s = {vend_limit_s}\n",
            dir.path().join("agent").display(),
            broker.port
        );
        let agent_config = AgentConfig::parse(&toml).unwrap();
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(async move {
            run_agent(agent_config, None, SimHardware::default(), async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let (kiosk, mut events, _t) = link(
            dir.path(),
            config(broker.port, "kiosk", &["keting/v1/demo/device/vending/#"]),
        );
        wait_for(&mut events, |e| *e == LinkEvent::Connected).await;
        let mut m = Self {
            _broker: broker,
            sim,
            kiosk,
            events,
            _stop: stop,
            _dir: dir,
        };
        // The agent is up once its status says the machine is idle.
        m.status(|s| s.state == "idle").await;
        m
    }

    async fn send(&self, id: &str, action: Action, deadline_in_ms: i64) {
        let deadline_ms = keting_link::clock::now().as_unix_millis() + deadline_in_ms;
        let payload = sealed("vending", id, action, deadline_ms);
        self.kiosk.publish(CMD, &payload, false).await.unwrap();
    }

    /// The next ack for command `id`: the redemption's outcome.
    async fn outcome(&mut self, id: &str) -> VendOutcome {
        match self.ack(id).await {
            Outcome::Vended { result, .. } => result,
            other => panic!("{other:?}"),
        }
    }

    /// The self-test's report, each check as (passed, name, detail).
    async fn self_test(&mut self, id: &str, test_vend: Option<u8>) -> Vec<(bool, String, String)> {
        self.send(id, Action::SelfTest { test_vend }, 30_000).await;
        match self.ack(id).await {
            Outcome::SelfTested { checks } => checks
                .into_iter()
                .map(|c| (c.passed, c.check, c.detail))
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    /// The next ack for command `id`, verified as the machine's.
    async fn ack(&mut self, id: &str) -> Outcome {
        let LinkEvent::Message { payload, .. } = wait_for(&mut self.events, |e| {
            matches!(e, LinkEvent::Message { topic, payload, .. } if topic.ends_with("/ack")
                && decode::<Ack>(&keting_core::signed_answer::unchecked(payload)).is_ok_and(|a| a.id.as_str() == id))
        })
        .await
        else {
            unreachable!()
        };
        // Signed by the machine's own key, made in its state directory.
        let machine =
            keting_device_agents::identity::load_or_create(&self._dir.path().join("agent"))
                .unwrap()
                .verifying_key();
        let answer = keting_core::signed_answer::open(
            &payload,
            CMD.replace("/cmd", "/ack").as_str(),
            &machine,
        )
        .expect("the outcome is signed by the machine's key");
        decode::<Ack>(&answer).unwrap().outcome
    }

    async fn vend(&mut self, id: &str, slot: u8) -> VendOutcome {
        self.send(id, Action::Vend { slot }, 30_000).await;
        self.outcome(id).await
    }

    async fn query(&mut self, id: &str, redemption: &str) -> VendOutcome {
        let redemption = MessageId::new(redemption).unwrap();
        self.send(id, Action::VendQuery { redemption }, 30_000)
            .await;
        self.outcome(id).await
    }

    async fn status(&mut self, want: impl Fn(&VendingStatus) -> bool) -> VendingStatus {
        let LinkEvent::Message { payload, .. } = wait_for(&mut self.events, |e| {
            matches!(e, LinkEvent::Message { topic, payload, .. } if topic.ends_with("/status")
                && decode::<VendingStatus>(&keting_core::signed_answer::unchecked(payload)).is_ok_and(|s| want(&s)))
        })
        .await
        else {
            unreachable!()
        };
        decode(&keting_core::signed_answer::unchecked(&payload)).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_drink_per_redemption_however_often_the_command_comes() {
    let mut m = Machine::start(10).await;
    assert_eq!(m.vend("r-1", 1).await, VendOutcome::Dispensed);
    // The same command again (delivered twice), and a query: the same answer.
    assert_eq!(m.vend("r-1", 1).await, VendOutcome::Dispensed);
    assert_eq!(m.query("q-1", "r-1").await, VendOutcome::Dispensed);
    assert_eq!((m.sim.dispensed(), m.sim.commands()), (1, 1));
    assert_eq!(m.vend("r-2", 1).await, VendOutcome::Dispensed);
    assert_eq!(m.sim.dispensed(), 2);
    // The slot is empty now; a jammed slot; the service door open.
    assert_eq!(m.vend("r-3", 1).await, VendOutcome::Empty);
    m.sim.set_jammed(2, true);
    assert_eq!(m.vend("r-4", 2).await, VendOutcome::Jammed);
    m.sim.set_door_open(true);
    assert_eq!(m.vend("r-5", 3).await, VendOutcome::DoorOpen);
    assert_eq!(m.sim.dispensed(), 2);
    m.sim.set_door_open(false);
    // The status says what the machine senses.
    let s = m.status(|s| s.stock.len() == 6).await;
    assert_eq!(s.stock[0], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_before_the_vend_cancels_it_and_a_late_vend_never_happens() {
    let mut m = Machine::start(10).await;
    assert_eq!(m.query("q-1", "r-9").await, VendOutcome::NotVended);
    assert_eq!(m.vend("r-9", 1).await, VendOutcome::NotVended);
    // A command past its deadline is not carried out either.
    m.send("r-10", Action::Vend { slot: 1 }, -1).await;
    assert_eq!(m.outcome("r-10").await, VendOutcome::NotVended);
    assert_eq!(m.sim.dispensed(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vend_in_doubt_is_settled_by_asking_the_machine() {
    let mut m = Machine::start(2).await;
    // Slower than the agent waits: in doubt, then the query finds it dropped.
    m.sim.set_vend_time(Duration::from_millis(2_500));
    assert_eq!(m.vend("r-1", 1).await, VendOutcome::InDoubt);
    assert_eq!(m.query("q-1", "r-1").await, VendOutcome::Dispensed);
    assert_eq!(m.sim.dispensed(), 1);
    // The machine stops answering mid-way: in doubt; it answers again and
    // never took the command: not vended, nothing dropped.
    m.sim.set_vend_time(Duration::from_millis(100));
    m.sim.set_fault(Some(VendingFault::NoReply));
    assert_eq!(m.vend("r-2", 1).await, VendOutcome::InDoubt);
    m.sim.set_fault(None);
    // A new vend first settles the one in doubt, then vends.
    assert_eq!(m.vend("r-3", 1).await, VendOutcome::Dispensed);
    assert_eq!(m.query("q-2", "r-2").await, VendOutcome::NotVended);
    assert_eq!(m.sim.dispensed(), 2);
    m.send("c-1", Action::Republish, 30_000).await;
    let s = m.status(|_| true).await;
    assert_eq!(s.state, "idle", "the machine answers again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_machine_shows_as_unavailable() {
    let mut m = Machine::start(2).await;
    m.sim.set_fault(Some(VendingFault::NoReply));
    // The agent's status poll notices within its period; ask for it now.
    m.send("c-1", Action::Republish, 30_000).await;
    let s = m.status(|s| s.state == "unavailable").await;
    assert!(s.stock.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_test_reads_the_machine_and_a_test_vend_drops_one_drink() {
    let mut m = Machine::start(5).await;
    let report = m.self_test("check-1", Some(3)).await;
    assert!(report.iter().all(|(passed, ..)| *passed), "{report:?}");
    let names: Vec<&str> = report.iter().map(|(_, n, _)| n.as_str()).collect();
    assert!(
        names[0].starts_with("vending controller (tcp:127.0.0.1:"),
        "{names:?}"
    );
    assert_eq!(
        &names[1..],
        [
            "service door",
            "in order",
            "stock sensed",
            "vends in doubt",
            "test vend (slot 3)"
        ]
    );
    assert_eq!(
        report[3].2, "slots 1 to 6: 2 2 2 2 2 2",
        "read before the test vend"
    );
    assert_eq!(m.sim.dispensed(), 1);
    assert_eq!(m.sim.stock(3), 1);

    // The door open, the stock not sensed, a slot the machine lacks: each
    // row says so; without --test-vend nothing drops.
    m.sim.set_door_open(true);
    m.sim.set_stock_sensed(false);
    let report = m.self_test("check-2", None).await;
    let failed: Vec<&str> = report
        .iter()
        .filter(|(p, ..)| !p)
        .map(|(_, n, _)| n.as_str())
        .collect();
    assert_eq!(failed, ["service door", "stock sensed"], "{report:?}");
    m.sim.set_door_open(false);
    let report = m.self_test("check-3", Some(9)).await;
    let last = report.last().unwrap();
    assert!(!last.0 && last.2.contains("slots 1 to 6"), "{report:?}");
    assert_eq!(m.sim.dispensed(), 1, "no second drink");
}
