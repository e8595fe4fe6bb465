//! The 24-hour gym door: who may enter ([`access`]), what the lock does
//! ([`lock`]), and who is inside ([`occupancy`]), from the door's passages.
//!
//! Both are sans-IO state machines. The door agent feeds them scans, door
//! contact and exit-button readings and the time, and carries out what they
//! ask (switch the strike, raise an alarm). Because they need no kiosk and no
//! network, a paid member gets in at night with the kiosk down, and a strike
//! pulse relocks on time whatever happens to the broker.

pub mod access;
pub mod lock;
pub mod occupancy;
