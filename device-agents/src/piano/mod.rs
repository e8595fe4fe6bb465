//! The piano-bank agent: each piano's power on a relay channel, a session
//! timer per piano that powers it off at the end on its own (kiosk or no
//! kiosk, restart or no restart), a panel per piano with the player's name
//! and the minutes left, a warning before the end, and an "end" button.

//!
//! [`agent`] is the loop; [`panel_words`] what a panel says;
//! [`sessions_file`] the sessions on disk (shared with the robot agent).

pub mod agent;
pub mod panel_words;
pub mod sessions_file;
