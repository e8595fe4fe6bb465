//! keting-provision from the command line against temporary site
//! directories, and its broker files in a real Mosquitto.

#![allow(clippy::unwrap_used)]

mod broker;
mod cli;
mod label;
