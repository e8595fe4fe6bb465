//! The Modbus side of a simulated controller that is all holding
//! registers (the vending controller, the robot): reads of any range
//! (0x03, at most 125 words) and one command block written whole (0x10);
//! any other write is refused as a wrong address, any other function as
//! not supported.

use std::time::Instant;

use tokio_modbus::{ExceptionCode, Request, Response};

/// A simulated controller's registers, read and commanded at `now`.
pub trait HoldingRegisters {
    /// Where the command block starts.
    const COMMAND_AT: u16;
    /// The register at `addr`.
    fn register(&self, addr: u16, now: Instant) -> Result<u16, ExceptionCode>;
    /// The command block, written whole.
    fn command(&mut self, words: &[u16], now: Instant) -> Result<(), ExceptionCode>;
}

/// The answer of `device` to `req` at `now`.
pub fn answer<D: HoldingRegisters>(
    device: &mut D,
    req: Request<'static>,
    now: Instant,
) -> Result<Option<Response>, ExceptionCode> {
    match req {
        Request::ReadHoldingRegisters(addr, count) => {
            if count == 0 || count > 125 {
                return Err(ExceptionCode::IllegalDataValue);
            }
            let words = (addr..addr.saturating_add(count))
                .map(|a| device.register(a, now))
                .collect::<Result<Vec<u16>, _>>()?;
            Ok(Some(Response::ReadHoldingRegisters(words)))
        }
        Request::WriteMultipleRegisters(addr, words) if addr == D::COMMAND_AT => {
            device.command(&words, now)?;
            let n = u16::try_from(words.len()).map_err(|_| ExceptionCode::IllegalDataValue)?;
            Ok(Some(Response::WriteMultipleRegisters(addr, n)))
        }
        Request::WriteMultipleRegisters(..) | Request::WriteSingleRegister(..) => {
            Err(ExceptionCode::IllegalDataAddress)
        }
        _ => Err(ExceptionCode::IllegalFunction),
    }
}
