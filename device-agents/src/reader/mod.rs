//! The room reader: a scanner and a panel, no lock. A pass scanned is
//! verified here with the site key (a non-pass, another centre's or a
//! forged one is refused on the panel at once, nothing sent); a good one
//! leaves as a signed `scanned` event through the durable outbox, and the
//! centre answers with a greeting for the panel. With the centre away the
//! panel says the scan is kept: the outbox delivers it when the link is
//! back, and it counts at the time it was scanned.
//!
//! - [`agent`]: the loop: scans in, events out, the centre's greeting on
//!   the panel.

pub mod agent;
