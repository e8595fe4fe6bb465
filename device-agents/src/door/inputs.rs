//! Forwards the door's inputs (scanner, contact, exit and help buttons, the
//! fire-alarm contact) to the agent's
//! loop as [`DoorInput`]s, one task each, so the loop sees them in order.

use keting_hardware::gpio::InputLine;
use keting_hardware::scanner::Scanner;
use tokio::sync::mpsc;

/// Something that happened at the door's hardware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DoorInput {
    /// A code was scanned.
    Scan(String),
    /// A code was scanned at the exit reader, inside.
    ExitScan(String),
    /// The door contact reads open (`true`) or closed.
    Contact(bool),
    /// The exit button was pressed (`true`) or released.
    ExitButton(bool),
    /// The help (SOS) button was pressed (`true`) or released.
    HelpButton(bool),
    /// The fire-alarm panel's contact is active (`true`) or clear.
    Fire(bool),
    /// An input failed; the message says which and why.
    Failed(String),
}

/// Reads `scanner` until it fails for good.
pub fn spawn_scanner<S: Scanner + 'static>(scanner: S, to: mpsc::Sender<DoorInput>) {
    spawn_reading(scanner, DoorInput::Scan, "scanner", to);
}

/// Reads the exit reader `scanner` until it fails for good.
pub fn spawn_exit_scanner<S: Scanner + 'static>(scanner: S, to: mpsc::Sender<DoorInput>) {
    spawn_reading(scanner, DoorInput::ExitScan, "door.exit_scanner", to);
}

fn spawn_reading<S: Scanner + 'static>(
    mut scanner: S,
    wrap: fn(String) -> DoorInput,
    name: &'static str,
    to: mpsc::Sender<DoorInput>,
) {
    tokio::spawn(async move {
        loop {
            let input = match scanner.next_scan().await {
                Ok(code) => wrap(code),
                Err(e) => {
                    let _ = to.send(DoorInput::Failed(format!("{name}: {e}"))).await;
                    return;
                }
            };
            if to.send(input).await.is_err() {
                return;
            }
        }
    });
}

/// Reads `line`'s value now, then every change; `wrap` makes the input.
pub fn spawn_line<L: InputLine + 'static>(
    mut line: L,
    wrap: fn(bool) -> DoorInput,
    name: &'static str,
    to: mpsc::Sender<DoorInput>,
) {
    tokio::spawn(async move {
        let first = line.value();
        let mut next = first.map(wrap);
        loop {
            let input = match next {
                Ok(input) => input,
                Err(e) => {
                    let _ = to.send(DoorInput::Failed(format!("{name}: {e}"))).await;
                    return;
                }
            };
            if to.send(input).await.is_err() {
                return;
            }
            next = line.changed().await.map(wrap);
        }
    });
}
