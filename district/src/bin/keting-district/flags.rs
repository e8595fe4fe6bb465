//! The flags more than one subcommand takes: the district's NATS cluster
//! and login, its time zone, the time now.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use keting_link::district_link::DistrictLogin;

#[derive(Args, Clone)]
pub struct NatsFlags {
    /// The cluster's servers, comma-separated or repeated (all three): nats://HOST:PORT or tls://HOST:PORT.
    #[arg(
        long = "nats",
        value_name = "URL",
        value_delimiter = ',',
        required = true,
        env = "KETING_DISTRICT_NATS"
    )]
    pub servers: Vec<String>,
    /// The district's name on the wire (the centres' district.toml says it too).
    #[arg(long, value_name = "NAME", env = "KETING_DISTRICT")]
    pub district: String,
    /// The service's NKey seed file (0600).
    #[arg(long, value_name = "FILE")]
    pub nkey: Option<PathBuf>,
    /// The district's CA: TLS is then required and only this CA trusted.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

impl NatsFlags {
    pub fn login(&self, role: &str) -> Result<DistrictLogin> {
        if !keting_core::district::valid_name(&self.district) {
            bail!("--district {:?}: 1 to 32 of a-z, 0-9 and -", self.district);
        }
        Ok(DistrictLogin {
            servers: self.servers.clone(),
            nkey_seed: self.nkey.clone(),
            ca: self.ca.clone(),
            client_cert: None,
            name: format!("keting-district {role}"),
            inbox_prefix: None,
        })
    }
}

/// The district's time zone, from its configuration (the unit's
/// environment file) or the command line: its days start at its local
/// midnight, and a date it is given ends at its local midnight.
#[derive(Args, Clone, Copy)]
pub struct ZoneFlag {
    /// The district's time zone as minutes east of UTC (China: 480).
    #[arg(
        long,
        value_name = "MINUTES",
        default_value_t = 480,
        allow_hyphen_values = true,
        env = "KETING_DISTRICT_UTC_OFFSET"
    )]
    pub utc_offset: i32,
}

impl ZoneFlag {
    /// The offset in minutes, once it is a real one (UTC-12 to UTC+14).
    pub fn minutes(self) -> Result<i32> {
        if !(-720..=840).contains(&self.utc_offset) {
            bail!(
                "--utc-offset {}: between -720 and 840 minutes",
                self.utc_offset
            );
        }
        Ok(self.utc_offset)
    }
}

/// When `date` ends at the district's `utc_offset` (minutes east of UTC),
/// in milliseconds since the Unix epoch; `None` past the calendar's end.
pub fn end_of_day_ms(date: time::Date, utc_offset: i32) -> Option<i64> {
    let midnight = date.next_day()?.midnight().assume_utc().unix_timestamp();
    Some((midnight - i64::from(utc_offset) * 60) * 1000)
}

/// Now, in milliseconds since the Unix epoch (the link's clock, read in one
/// place).
pub fn now_ms() -> i64 {
    keting_link::clock::now().as_unix_millis()
}

/// Who acts from the command line, for the audit: the shell's user.
pub fn command_line_actor() -> String {
    format!(
        "command line ({})",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_ends_at_the_districts_own_midnight() {
        let day = time::macros::date!(2026 - 12 - 05);
        // 2026-12-06 00:00 in Shenzhen (UTC+8) is 2026-12-05 16:00 UTC.
        assert_eq!(
            end_of_day_ms(day, 480),
            Some(1_796_515_200_000 - 8 * 3_600_000)
        );
        // A district at UTC+0 ends the day eight hours later.
        assert_eq!(end_of_day_ms(day, 0), Some(1_796_515_200_000));
    }
}
