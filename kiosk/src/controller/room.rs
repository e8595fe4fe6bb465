//! A room's kiosk (`kiosk --room NAME`): the room it counts attendance
//! in, and when it last greeted someone.

use std::time::Instant;

/// The room this kiosk counts attendance in, and its last greeting.
#[derive(Clone, Debug)]
pub struct RoomKiosk {
    /// The room's name, as activities name it.
    pub room: String,
    /// When it last greeted someone (the greeting then fades).
    pub greeted: Option<Instant>,
}

impl RoomKiosk {
    /// A kiosk for `room`.
    pub fn new(room: String) -> Self {
        Self {
            room,
            greeted: None,
        }
    }
}
