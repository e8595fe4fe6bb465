//! The test bed shared by the system tests (`tests/tests/`) and the device
//! agents' own tests: a real Mosquitto on a free loopback port, free ports,
//! the workspace's binaries started as real processes, and a centre with a
//! simulated vending machine ([`vending_site`]).
//!
//! [`mosquitto`] starts the broker, [`binaries`] the programs, [`latency`]
//! prints the benchmarks' percentiles, [`capture`] records what crosses
//! loopback (tcpdump), [`site_tls`] makes a site CA and certificates for a
//! TLS broker, [`http`] speaks HTTP/1.1 to the staff dashboard, [`nats`]
//! starts a three-node JetStream cluster, [`postgres`] a PostgreSQL 15.
//!
//! Nothing here sleeps for a fixed time to wait for something: a broker is
//! ready when it logs its listening socket, a process when it says so.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod binaries;
pub mod capture;
pub mod http;
pub mod latency;
pub mod mosquitto;
pub mod nats;
pub mod postgres;
pub mod site_tls;
pub mod vending_site;

/// A TCP port nobody listens on right now (loopback), never one this
/// process was given before: the kernel may hand a just-released port out
/// again, and a test asking for three ports in a row got the same one twice.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if GIVEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(port)
        {
            return port;
        }
    }
}
