//! `keting-sim`: every device simulator as one program, so a technician can
//! try an agent with no hardware, and a test can kill the agent without
//! killing the device.
//!
//! ```sh
//! keting-sim relay-board --listen 127.0.0.1:1502     # Modbus TCP
//! keting-sim vending --rtu-pty                        # Modbus RTU on a new pty: prints its path
//! keting-sim robot --listen 0.0.0.0:1503
//! ```
//!
//! It prints one line saying where the device is (the port it listens on,
//! or the pty an agent opens as its `rtu:` bus), then what the device does
//! (a relay switching, a drink dropping), and runs until Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use keting_hardware::relay_board::sim::SimRelayBoard;
use keting_hardware::robot::sim::SimRobot;
use keting_hardware::sim::modbus_tcp;
use keting_hardware::sim::rtu_pty::{ModbusSim, RtuPty};
use keting_hardware::vending::sim::SimVending;
use tokio::net::TcpListener;

/// Keting's device simulators on a real Modbus bus (TCP, or RTU on a
/// pseudo-terminal), for trying an agent with no hardware.
#[derive(Parser)]
#[command(name = "keting-sim", version)]
struct Cli {
    #[command(subcommand)]
    device: Device,
}

#[derive(Subcommand)]
enum Device {
    /// An 8-channel relay board (Waveshare-style, with its pulse timer):
    /// door strikes, piano power.
    RelayBoard {
        #[command(flatten)]
        bus: Bus,
        /// A board without the "flash on/off" pulse timer (answers it with
        /// an exception), to try `board_timer = false`.
        #[arg(long)]
        no_pulse_timer: bool,
    },
    /// The drinks machine's controller.
    Vending {
        #[command(flatten)]
        bus: Bus,
        /// How many slots it has (1 to 16).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=16))]
        slots: u8,
        /// Drinks in each slot at the start.
        #[arg(long, default_value_t = 10)]
        stock: u16,
    },
    /// The moxibustion robot's controller.
    Robot {
        #[command(flatten)]
        bus: Bus,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct Bus {
    /// Serve Modbus TCP at HOST:PORT (port 0: any free port, printed).
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// Serve Modbus RTU on a new pseudo-terminal; its path is printed
    /// (give it to the agent as `bus = "rtu:/dev/pts/N@9600"`).
    #[arg(long)]
    rtu_pty: bool,
    /// The Modbus unit id on RTU.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=247))]
    unit: u8,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.device {
        Device::RelayBoard {
            bus,
            no_pulse_timer,
        } => {
            let board = SimRelayBoard::new();
            board.set_pulse_timer(!no_pulse_timer);
            let watched = board.clone();
            tokio::spawn(async move {
                let mut changes = watched.changes();
                let mut was = *changes.borrow();
                while changes.changed().await.is_ok() {
                    let now = *changes.borrow();
                    for (i, (a, b)) in was.iter().zip(now.iter()).enumerate() {
                        if a != b {
                            println!("relay {} {}", i + 1, if *b { "on" } else { "off" });
                        }
                    }
                    was = now;
                }
            });
            serve("relay board", board, &bus).await
        }
        Device::Vending { bus, slots, stock } => {
            let machine = SimVending::new(slots, stock);
            let watched = machine.clone();
            tokio::spawn(async move {
                let mut seen = 0;
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let n = watched.dispensed();
                    if n != seen {
                        seen = n;
                        println!("drinks dispensed: {n}");
                    }
                }
            });
            serve(
                &format!("vending machine ({slots} slots of {stock})"),
                machine,
                &bus,
            )
            .await
        }
        Device::Robot { bus } => serve("robot", SimRobot::new(), &bus).await,
    }
}

/// Serves `device` on `bus` until Ctrl-C or SIGTERM.
async fn serve<S: ModbusSim + Clone + Sync>(what: &str, device: S, bus: &Bus) -> Result<()> {
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    if let Some(addr) = &bus.listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let at = listener.local_addr()?;
        println!("{what}: Modbus TCP at {at} (agent: bus = \"tcp:{at}\")");
        modbus_tcp::serve(listener, device, stop).await?;
    } else if bus.rtu_pty {
        let pty = RtuPty::serve(device, bus.unit).context("cannot open a pseudo-terminal")?;
        println!(
            "{what}: Modbus RTU unit {} at {} (agent: bus = \"rtu:{}@9600\")",
            bus.unit,
            pty.path().display(),
            pty.path().display()
        );
        stop.await;
        drop(pty);
    } else {
        bail!("say where: --listen HOST:PORT or --rtu-pty");
    }
    println!("{what}: stopped");
    Ok(())
}
