//! A simulated device on Modbus RTU, over a pseudo-terminal pair.
//!
//! [`RtuPty::serve`] opens a pty pair, keeps the master side, and serves RTU
//! frames on it from its own thread; the driver opens the slave side's path
//! (`/dev/pts/N`) exactly as it opens `/dev/ttyUSB0` on a Pi. The framing is
//! written here, independently of tokio-modbus, so the tests cross-check the
//! client against a second implementation of the standard:
//! `unit | function | data | CRC-16/MODBUS (low byte first)`. A frame with a
//! bad CRC or for another unit is ignored, as on a real RS-485 bus.
//!
//! The thread ends by itself when the [`RtuPty`] is dropped.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::thread::{self, JoinHandle};

use nix::pty::openpty;
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use tokio_modbus::{ExceptionCode, Request, Response};

use crate::relay_board::sim::{RelayFault, SimRelayBoard};

/// A simulated device that answers Modbus requests (relay board, vending
/// controller), whatever the transport.
pub trait ModbusSim: Send + 'static {
    /// The answer to one request: `None` for no reply at all.
    fn handle(&self, req: Request<'static>) -> Result<Option<Response>, ExceptionCode>;
    /// Whether answers go out with a wrong CRC (a noisy line).
    fn corrupt_crc(&self) -> bool;
}

impl ModbusSim for SimRelayBoard {
    fn handle(&self, req: Request<'static>) -> Result<Option<Response>, ExceptionCode> {
        SimRelayBoard::handle(self, req)
    }
    fn corrupt_crc(&self) -> bool {
        self.fault() == Some(RelayFault::BadCrc)
    }
}

/// A simulated device served on a pseudo-terminal.
#[derive(Debug)]
pub struct RtuPty {
    path: PathBuf,
    slave: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl RtuPty {
    /// Serves `board` as Modbus unit `unit` on a new pty pair.
    pub fn serve(board: impl ModbusSim, unit: u8) -> io::Result<Self> {
        let pty = openpty(None, None).map_err(io::Error::from)?;
        for fd in [pty.master.as_fd(), pty.slave.as_fd()] {
            let mut t = tcgetattr(fd).map_err(io::Error::from)?;
            cfmakeraw(&mut t);
            tcsetattr(fd, SetArg::TCSANOW, &t).map_err(io::Error::from)?;
        }
        let path = nix::unistd::ttyname(pty.slave.as_fd()).map_err(io::Error::from)?;
        let master = File::from(pty.master);
        let thread = thread::Builder::new()
            .name("sim-rtu".into())
            .spawn(move || serve_frames(master, &board, unit))?;
        Ok(Self {
            path,
            slave: Some(pty.slave),
            thread: Some(thread),
        })
    }

    /// The path a driver opens (the pty's slave side).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for RtuPty {
    fn drop(&mut self) {
        // With the last slave fd closed, the master's read fails and the thread ends.
        self.slave.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_frames(mut master: File, board: &impl ModbusSim, unit: u8) {
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    loop {
        let n = match master.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        for reply in answer_frames(&mut buf, board, unit) {
            if master.write_all(&reply).is_err() {
                return;
            }
        }
    }
}

/// Takes every whole request frame off the front of `buf` (bytes as they
/// came off the line) and returns the replies to send, in order; a part
/// frame stays in `buf` for the next bytes. More than 512 bytes without a
/// frame is line noise: dropped, to resynchronise. Any bytes at all give
/// replies or nothing, never a panic (fuzzed: `fuzzing`'s `rtu_frames`).
pub fn answer_frames(buf: &mut Vec<u8>, board: &impl ModbusSim, unit: u8) -> Vec<Vec<u8>> {
    let mut replies = Vec::new();
    while let Some(len) = frame_len(buf) {
        if buf.len() < len {
            break;
        }
        let frame: Vec<u8> = buf.drain(..len).collect();
        replies.extend(answer(&frame, board, unit));
    }
    if buf.len() > 512 {
        buf.clear(); // line noise: resynchronise
    }
    replies
}

/// The length of the request frame at the start of `buf`, once known.
fn frame_len(buf: &[u8]) -> Option<usize> {
    match buf.get(1)? {
        0x01..=0x06 => Some(8),
        0x0F | 0x10 => buf.get(6).map(|count| 9 + usize::from(*count)),
        // An unknown function: take unit, function and CRC, answer IllegalFunction.
        _ => Some(4),
    }
}

fn answer(frame: &[u8], board: &impl ModbusSim, unit: u8) -> Option<Vec<u8>> {
    let (body, crc) = frame.split_at(frame.len().checked_sub(2)?);
    if crc16(body).to_le_bytes() != [crc[0], crc[1]] || body.first() != Some(&unit) {
        return None;
    }
    let mut reply = vec![unit];
    reply.extend(answer_pdu(&body[1..], board)?);
    let mut crc = crc16(&reply).to_le_bytes();
    if board.corrupt_crc() {
        crc[0] ^= 0xFF;
    }
    reply.extend_from_slice(&crc);
    Some(reply)
}

/// The answer to one request PDU (function code and data), as the response
/// PDU: what RTU wraps in unit and CRC, and Modbus TCP in its MBAP header.
/// `None`: no reply at all. Any bytes give an answer or nothing, never a
/// panic.
pub fn answer_pdu(pdu: &[u8], board: &impl ModbusSim) -> Option<Vec<u8>> {
    let function = *pdu.first()?;
    let word =
        |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*pdu.get(i)?, *pdu.get(i + 1)?])) };
    let fixed = |n: usize| {
        (pdu.len() >= n)
            .then_some(())
            .ok_or(ExceptionCode::IllegalDataValue)
    };
    let request = (|| -> Result<Request<'static>, ExceptionCode> {
        let w = |i| word(i).ok_or(ExceptionCode::IllegalDataValue);
        Ok(match function {
            0x01 => Request::ReadCoils(w(1)?, w(3)?),
            0x05 => match (w(1)?, w(3)?) {
                // The relay board's own pulse timer (see relay_board).
                (addr, _) if addr >> 8 == 0x02 || addr >> 8 == 0x04 => {
                    Request::Custom(0x05, Cow::Owned(pdu[1..5].to_vec()))
                }
                (addr, 0xFF00) => Request::WriteSingleCoil(addr, true),
                (addr, 0x0000) => Request::WriteSingleCoil(addr, false),
                _ => return Err(ExceptionCode::IllegalDataValue),
            },
            0x03 => Request::ReadHoldingRegisters(w(1)?, w(3)?),
            0x06 => Request::WriteSingleRegister(w(1)?, w(3)?),
            0x10 => {
                fixed(6)?;
                let count = usize::from(w(3)?);
                let bytes = &pdu[6..];
                if bytes.len() != count * 2 {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                let words = (0..count)
                    .map(|i| u16::from_be_bytes([bytes[2 * i], bytes[2 * i + 1]]))
                    .collect();
                Request::WriteMultipleRegisters(w(1)?, Cow::Owned(words))
            }
            0x0F => {
                fixed(6)?;
                let count = usize::from(w(3)?);
                let bytes = &pdu[6..];
                if bytes.len() * 8 < count {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                let coils = (0..count)
                    .map(|i| bytes[i / 8] & (1 << (i % 8)) != 0)
                    .collect();
                Request::WriteMultipleCoils(w(1)?, Cow::Owned(coils))
            }
            _ => return Err(ExceptionCode::IllegalFunction),
        })
    })();
    let response = request.and_then(|r| board.handle(r));
    let mut reply = Vec::new();
    match response {
        Ok(None) => return None,
        Ok(Some(Response::ReadCoils(coils))) => {
            let mut packed = vec![0u8; coils.len().div_ceil(8)];
            for (i, on) in coils.iter().enumerate() {
                if *on {
                    packed[i / 8] |= 1 << (i % 8);
                }
            }
            reply.push(0x01);
            reply.push(u8::try_from(packed.len()).ok()?);
            reply.extend_from_slice(&packed);
        }
        Ok(Some(Response::ReadHoldingRegisters(words))) => {
            reply.push(0x03);
            reply.push(u8::try_from(words.len() * 2).ok()?);
            for w in words {
                reply.extend_from_slice(&w.to_be_bytes());
            }
        }
        Ok(Some(
            Response::WriteSingleCoil(..)
            | Response::WriteMultipleCoils(..)
            | Response::WriteSingleRegister(..)
            | Response::WriteMultipleRegisters(..)
            | Response::Custom(0x05, _),
        )) => {
            // Each echoes the request's address and value or count.
            reply.extend_from_slice(pdu.get(..5)?);
        }
        Ok(Some(_)) => {
            reply.push(function | 0x80);
            reply.push(u8::from(ExceptionCode::IllegalFunction));
        }
        Err(code) => {
            reply.push(function | 0x80);
            reply.push(u8::from(code));
        }
    }
    Some(reply)
}

/// CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial 0xFFFF.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for b in bytes {
        crc ^= u16::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_the_standard_example() {
        // Read 8 coils of unit 1 from address 0: 01 01 00 00 00 08 + 3D CC.
        assert_eq!(
            crc16(&[0x01, 0x01, 0x00, 0x00, 0x00, 0x08]).to_le_bytes(),
            [0x3D, 0xCC]
        );
    }

    #[test]
    fn frames_for_another_unit_or_with_a_bad_crc_are_ignored() {
        let board = SimRelayBoard::new();
        let mut frame = vec![0x02, 0x05, 0x00, 0x00, 0xFF, 0x00];
        frame.extend_from_slice(&crc16(&frame).to_le_bytes());
        assert_eq!(answer(&frame, &board, 1), None);
        let reply = answer(&frame, &board, 2).unwrap();
        assert_eq!(&reply[..6], &frame[..6]);
        assert!(board.relays()[0]);
        frame[7] ^= 1;
        assert_eq!(answer(&frame, &board, 2), None);
    }
}
