//! The vending agent: drives the drinks machine for redemptions, exactly
//! once per redemption id, and remembers every outcome.
//!
//! - [`agent`]: the loop: vend and query commands, the machine's status.
//! - [`vend_log`]: the durable record of every redemption id.

pub mod agent;
pub mod vend_log;
