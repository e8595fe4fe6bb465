//! The JSON protocol: every message type a device or the centre reads.

use keting_core::messages::{
    Ack, Command, DoorStatus, Event, SessionDeviceStatus, VendingStatus, decode,
};

/// Reads `data` as each message type.
pub fn run(data: &[u8]) {
    let _ = decode::<Command>(data);
    let _ = decode::<Ack>(data);
    let _ = decode::<Event>(data);
    let _ = decode::<DoorStatus>(data);
    let _ = decode::<VendingStatus>(data);
    let _ = decode::<SessionDeviceStatus>(data);
    let _ = keting_core::signed_answer::unchecked(data);
}
