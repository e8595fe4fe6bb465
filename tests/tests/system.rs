//! Whole-system tests: the kiosk (headless), the device agent and Mosquitto
//! as real processes on loopback, the relay board simulated on Modbus TCP
//! in this process, faults injected with kill -9 and broker restarts.
//! `./run-tests` builds the binaries first.

#![allow(clippy::unwrap_used)]

mod activities;
mod alerts;
mod alerts_refused;
mod architecture;
mod bookings;
mod centre_service;
mod chaos;
mod dashboard;
mod dashboard_devices;
mod district;
mod door_clock;
mod first_boot;
mod gym_door;
mod gym_night;
mod home_assistant;
mod packages;
mod provisioned;
mod readme_steps;
mod residents;
mod site_bed;
mod vending;
mod wire_capture;
