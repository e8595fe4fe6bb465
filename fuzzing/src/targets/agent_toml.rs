//! The device agent's configuration, as a technician might mistype it.

use keting_device_agents::config::AgentConfig;

/// Parses `data` as an `agent.toml`.
pub fn run(data: &[u8]) {
    let _ = AgentConfig::parse(&String::from_utf8_lossy(data));
}
