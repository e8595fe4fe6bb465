//! The command line's groups, one module each: each parses its
//! subcommands' arguments, calls a desk (`keting_desk`), and prints.
//! Nothing here decides or writes to the database itself.
//!
//! [`activities`], [`members`], [`gym`], [`doors`], [`alarms`], [`alerts`] (alarms told off-site), [`claims`], [`devices`], [`points`], [`vending`],
//! [`bookings`] (resources, packages, bookings, the pianos), [`checkin`],
//! [`phones`] (residents' own phones), [`staff`] (roles and PINs), [`stats`], [`screenshot`], [`backup`].

pub mod activities;
pub mod alarms;
pub mod alerts;
pub mod backup;
pub mod bookings;
pub mod checkin;
pub mod claims;
pub mod devices;
pub mod doors;
pub mod gym;
pub mod members;
pub mod phones;
pub mod points;
pub mod screenshot;
pub mod staff;
pub mod stats;
pub mod vending;
