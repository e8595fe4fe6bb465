//! The demo site's devices, simulated in this process. The gym door: a relay
//! board on Modbus TCP (loopback, any free port) and the real door agent
//! driving it, with a simulated contact that a simulated person opens after
//! each grant. The drinks machine: the simulated vending controller on
//! Modbus TCP and the real vending agent (its catalogue is in the demo site).
//! The eight AI pianos: a relay board on Modbus TCP and the real piano-bank
//! agent, each piano's panel drawn to `<data>/agents/pianos/piano-N.png`.
//! The moxibustion robot: its simulated controller and the real robot agent.
//! Its scanner is the `keting/v1/<site>/sim/gym-door/scan` topic, so anyone
//! can try the door with `mosquitto_pub`; its panel is written to
//! `<data>/agents/gym-door/panel.png`.

use std::path::PathBuf;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use keting_core::ids::DeviceId;
use keting_core::pass::encode_public_key;
use keting_device_agents::config::AgentConfig;
use keting_device_agents::run::{SimHardware, run_agent};
use keting_hardware::relay_board::sim::{SimRelayBoard, serve_tcp};
use keting_hardware::robot::sim::SimRobot;
use keting_hardware::sim::modbus_tcp;
use keting_hardware::vending::sim::SimVending;
use keting_link::clock::now;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{CentreConfig, CentreError};
use crate::demo_ids::{DEMO_PIANO_COUNT, DEMO_PIANOS, DEMO_ROBOT};
use keting_store::resources;
use keting_store::{Store, doors};

/// The demo door's device id.
pub const DEMO_DOOR: &str = "gym-door";
/// The demo door's contact line.
const CONTACT: &str = "GPIO27";

pub use crate::demo_ids::DEMO_VENDING;

/// The demo devices, ready to run.
pub struct DemoDevices {
    listener: TcpListener,
    board: SimRelayBoard,
    agent: AgentConfig,
    vending_listener: TcpListener,
    vending: SimVending,
    vending_agent: AgentConfig,
    pianos_listener: TcpListener,
    pianos_board: SimRelayBoard,
    pianos_agent: AgentConfig,
    robot_listener: TcpListener,
    robot: SimRobot,
    robot_agent: AgentConfig,
    sim: SimHardware,
    /// Where the door's panel is drawn.
    pub panel_png: PathBuf,
}

/// Registers the demo door and prepares its simulated hardware.
pub async fn prepare(
    config: &CentreConfig,
    broker: &(String, u16),
) -> Result<DemoDevices, CentreError> {
    let err = |e: &dyn std::fmt::Display| CentreError::Demo(e.to_string());
    let id = DeviceId::new(DEMO_DOOR).map_err(|e| err(&e))?;
    let mut store = Store::open(&config.database)?;
    store.write(|tx| doors::add(tx, &id, "健身房", now()))?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| err(&e))?;
    let board_port = listener.local_addr().map_err(|e| err(&e))?.port();
    let state_dir = config.data_dir.join("agents").join(DEMO_DOOR);
    let panel_png = state_dir.join("panel.png");
    std::fs::create_dir_all(&state_dir).map_err(|e| err(&e))?;
    let key = VerifyingKey::from_bytes(&config.site.public_key).map_err(|e| err(&e))?;
    let toml = format!(
        "site = {site:?}\ndevice = {DEMO_DOOR:?}\nsite_public_key = {key:?}\nstate_dir = {state:?}\n\
         [broker]\nhost = {host:?}\nport = {port}\n\
         [door]\ngpio = \"sim\"\n\
         strike = {{ kind = \"relay\", bus = \"tcp:127.0.0.1:{board_port}\", unit = 1, channel = 1 }}\n\
         contact = {{ line = {CONTACT:?} }}\nscanner = {{ kind = \"sim\" }}\n\
         exit_button = {{ line = \"GPIO22\" }}\nhelp_button = {{ line = \"GPIO23\" }}\n\
         exit_scanner = {{ kind = \"sim\" }}\nalarm_output = {{ bus = \"tcp:127.0.0.1:{board_port}\", channel = 2 }}\n\
         panel = {{ kind = \"png\", path = {png:?} }}\nutc_offset_minutes = {offset}\n",
        site = config.site.site_id.as_str(),
        key = encode_public_key(&key),
        state = state_dir.display().to_string(),
        host = broker.0,
        port = broker.1,
        png = panel_png.display().to_string(),
        offset = config.site.calendar.offset_minutes(),
    );
    let agent = AgentConfig::parse(&toml).map_err(|e| err(&e))?;
    let vending_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| err(&e))?;
    let vending_port = vending_listener.local_addr().map_err(|e| err(&e))?.port();
    let vending_state = config.data_dir.join("agents").join(DEMO_VENDING);
    let vending_toml = format!(
        "site = {site:?}
device = {DEMO_VENDING:?}
site_public_key = {key:?}
state_dir = {state:?}
         [broker]
host = {host:?}
port = {port}
         [vending]
bus = \"tcp:127.0.0.1:{vending_port}\"\n",
        site = config.site.site_id.as_str(),
        key = encode_public_key(&key),
        state = vending_state.display().to_string(),
        host = broker.0,
        port = broker.1,
    );
    let vending_agent = AgentConfig::parse(&vending_toml).map_err(|e| err(&e))?;
    let pianos_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| err(&e))?;
    let pianos_port = pianos_listener.local_addr().map_err(|e| err(&e))?.port();
    let pianos_state = config.data_dir.join("agents").join(DEMO_PIANOS);
    std::fs::create_dir_all(&pianos_state).map_err(|e| err(&e))?;
    let pianos: Vec<String> = (1..=DEMO_PIANO_COUNT)
        .map(|c| {
            let png = pianos_state.join(format!("piano-{c}.png"));
            format!(
                "{{ channel = {c}, name = \"{c}号钢琴\", panel = {{ kind = \"png\", path = {:?} }} }}",
                png.display().to_string()
            )
        })
        .collect();
    let pianos_toml = format!(
        "site = {site:?}\ndevice = {DEMO_PIANOS:?}\nsite_public_key = {key:?}\nstate_dir = {state:?}\n\
         [broker]\nhost = {host:?}\nport = {port}\n\
         [piano_bank]\nbus = \"tcp:127.0.0.1:{pianos_port}\"\ngpio = \"sim\"\npianos = [{list}]\n",
        site = config.site.site_id.as_str(),
        key = encode_public_key(&key),
        state = pianos_state.display().to_string(),
        host = broker.0,
        port = broker.1,
        list = pianos.join(", "),
    );
    let pianos_agent = AgentConfig::parse(&pianos_toml).map_err(|e| err(&e))?;
    let robot_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| err(&e))?;
    let robot_port = robot_listener.local_addr().map_err(|e| err(&e))?.port();
    let robot_toml = format!(
        "site = {site:?}\ndevice = {DEMO_ROBOT:?}\nsite_public_key = {key:?}\nstate_dir = {state:?}\n\
         [broker]\nhost = {host:?}\nport = {port}\n[robot]\nbus = \"tcp:127.0.0.1:{robot_port}\"\n",
        site = config.site.site_id.as_str(),
        key = encode_public_key(&key),
        state = config
            .data_dir
            .join("agents")
            .join(DEMO_ROBOT)
            .display()
            .to_string(),
        host = broker.0,
        port = broker.1,
    );
    let robot_agent = AgentConfig::parse(&robot_toml).map_err(|e| err(&e))?;
    // Each demo device's own key, made in its state directory as on a real
    // device, and trusted here as a claim would: their answers are signed.
    for agent in [&agent, &vending_agent, &pianos_agent, &robot_agent] {
        let key = keting_device_agents::identity::load_or_create(&agent.state_dir)
            .map_err(|e| err(&e))?;
        store.write(|tx| {
            keting_store::device_keys::put(tx, &agent.device, &key.verifying_key(), "demo", now())
        })?;
    }
    store
        .write(|tx| {
            for c in 1..=DEMO_PIANO_COUNT {
                resources::put(tx, &crate::demo::piano(c)?)?;
            }
            resources::put(tx, &crate::demo::robot()?)?;
            Ok::<_, crate::demo_error::DemoError>(())
        })
        .map_err(|e| CentreError::Demo(e.to_string()))?;
    // The machine holds what the demo's catalogue says, and takes 1.5 s a drink.
    let vending = SimVending::new(4, 8);
    vending.set_stock(3, 0);
    vending.set_vend_time(Duration::from_millis(1500));
    Ok(DemoDevices {
        listener,
        board: SimRelayBoard::new(),
        agent,
        vending_listener,
        vending,
        vending_agent,
        pianos_listener,
        pianos_board: SimRelayBoard::new(),
        pianos_agent,
        robot_listener,
        robot: SimRobot::new(),
        robot_agent,
        sim: SimHardware::default(),
        panel_png,
    })
}

impl DemoDevices {
    /// Runs the simulated hardware, the simulated person and the agents
    /// until `stop` turns true. The agents stop first (the door locks its
    /// strike on the way out), then the hardware they drive.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let (hardware_stop_tx, hardware_stop) = watch::channel(false);
        tracing::info!(
            "demo gym door: scan with mosquitto_pub -t keting/v1/{}/sim/{DEMO_DOOR}/scan -m PASS (the exit reader: .../exit_scan; the help button: .../line/GPIO23 -m active); panel in {}",
            self.agent.site,
            self.panel_png.display()
        );
        tokio::spawn(serve_tcp(
            self.listener,
            self.board.clone(),
            stopped(hardware_stop.clone()),
        ));
        tokio::spawn(walk_through(
            self.board.clone(),
            self.sim.clone(),
            stop.clone(),
        ));
        tokio::spawn(modbus_tcp::serve(
            self.vending_listener,
            self.vending.clone(),
            stopped(hardware_stop.clone()),
        ));
        let vending = tokio::spawn(run_agent(
            self.vending_agent,
            None,
            SimHardware::default(),
            stopped(stop.clone()),
        ));
        tokio::spawn(serve_tcp(
            self.pianos_listener,
            self.pianos_board,
            stopped(hardware_stop.clone()),
        ));
        tokio::spawn(modbus_tcp::serve(
            self.robot_listener,
            self.robot,
            stopped(hardware_stop.clone()),
        ));
        let robot = tokio::spawn(run_agent(
            self.robot_agent,
            None,
            SimHardware::default(),
            stopped(stop.clone()),
        ));
        let pianos = tokio::spawn(run_agent(
            self.pianos_agent,
            None,
            SimHardware::default(),
            stopped(stop.clone()),
        ));
        if let Err(e) = run_agent(self.agent, None, self.sim, stopped(stop)).await {
            tracing::error!("demo gym door: {e}");
        }
        match robot.await {
            Ok(Err(e)) => tracing::error!("demo robot: {e}"),
            Err(e) => tracing::error!("demo robot: {e}"),
            Ok(Ok(())) => {}
        }
        match pianos.await {
            Ok(Err(e)) => tracing::error!("demo pianos: {e}"),
            Err(e) => tracing::error!("demo pianos: {e}"),
            Ok(Ok(())) => {}
        }
        match vending.await {
            Ok(Err(e)) => tracing::error!("demo vending machine: {e}"),
            Err(e) => tracing::error!("demo vending machine: {e}"),
            Ok(Ok(())) => {}
        }
        let _ = hardware_stop_tx.send(true);
    }
}

/// A simulated person: when the strike releases, opens the door a moment
/// later and closes it behind them.
async fn walk_through(board: SimRelayBoard, sim: SimHardware, mut stop: watch::Receiver<bool>) {
    let mut relays = board.changes();
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            changed = relays.wait_for(|r| r[0]) => if changed.is_err() { return },
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        sim.gpio.drive(CONTACT, true);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        sim.gpio.drive(CONTACT, false);
        let _ = relays.wait_for(|r| !r[0]).await;
    }
}
