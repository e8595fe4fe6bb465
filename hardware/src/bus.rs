//! Where a Modbus device is: `tcp:HOST:PORT` or `rtu:/dev/ttyUSB0@9600`.
//! Configuration files and the technicians' tool use this one spelling.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A Modbus bus address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusAddress {
    /// Modbus TCP: host (name or IP) and port.
    Tcp {
        /// Host name or address.
        host: String,
        /// TCP port (502 is Modbus's).
        port: u16,
    },
    /// Modbus RTU on a serial port (8N1).
    Rtu {
        /// The serial device.
        path: String,
        /// Baud rate.
        baud: u32,
    },
}

/// Why a bus string was not understood.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a bus: write tcp:HOST:PORT (e.g. tcp:192.168.1.20:502) or rtu:DEVICE@BAUD (e.g. rtu:/dev/ttyUSB0@9600)"
)]
pub struct BusError(pub String);

impl FromStr for BusAddress {
    type Err = BusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BusError(s.to_owned());
        if let Some(rest) = s.strip_prefix("tcp:") {
            let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
            let port: u16 = port.parse().map_err(|_| bad())?;
            if host.is_empty() || port == 0 {
                return Err(bad());
            }
            return Ok(Self::Tcp {
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                port,
            });
        }
        if let Some(rest) = s.strip_prefix("rtu:") {
            let (path, baud) = rest.rsplit_once('@').ok_or_else(bad)?;
            let baud: u32 = baud.parse().map_err(|_| bad())?;
            if !path.starts_with('/') || !(1200..=921_600).contains(&baud) {
                return Err(bad());
            }
            return Ok(Self::Rtu {
                path: path.to_owned(),
                baud,
            });
        }
        Err(bad())
    }
}

impl fmt::Display for BusAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Self::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Self::Rtu { path, baud } => write!(f, "rtu:{path}@{baud}"),
        }
    }
}

impl TryFrom<String> for BusAddress {
    type Error = BusError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buses_parse_and_print_back() {
        for s in [
            "tcp:192.168.1.20:502",
            "tcp:[::1]:1502",
            "rtu:/dev/ttyUSB0@9600",
            "tcp:door-1.local:502",
        ] {
            assert_eq!(s.parse::<BusAddress>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn malformed_buses_are_refused() {
        for s in [
            "",
            "tcp:host",
            "tcp::502",
            "tcp:h:0",
            "tcp:h:99999",
            "rtu:/dev/ttyUSB0",
            "rtu:ttyUSB0@9600",
            "rtu:/dev/x@12",
            "udp:h:1",
        ] {
            assert!(s.parse::<BusAddress>().is_err(), "{s}");
        }
    }
}
