//! The robot agent: starts the booked session's program on the moxibustion
//! robot's controller, watches it, stops it at the end of the slot, and
//! reports how it ended (a fault included, so the kiosk gives the package
//! session back).

//!
//! [`agent`] is the loop.

pub mod agent;
