//! Modbus RTU framing on the simulator's side of the line (what a noisy
//! RS-485 bus delivers), and the bus addresses a configuration names.

use keting_hardware::bus::BusAddress;
use keting_hardware::relay_board::sim::SimRelayBoard;
use keting_hardware::sim::rtu_pty::answer_frames;

/// Feeds `data` to the framing in two pieces (a frame may span reads), and
/// parses it as a bus address.
pub fn run(data: &[u8]) {
    let board = SimRelayBoard::new();
    let (first, rest) = data.split_at(data.len() / 2);
    let mut buf = first.to_vec();
    let _ = answer_frames(&mut buf, &board, 1);
    buf.extend_from_slice(rest);
    let _ = answer_frames(&mut buf, &board, 1);
    assert!(buf.len() <= 512 + rest.len().max(first.len()));
    let _ = String::from_utf8_lossy(data).parse::<BusAddress>();
}
