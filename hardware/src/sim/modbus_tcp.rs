//! Any simulated Modbus device ([`ModbusSim`]) served over Modbus TCP, one
//! task per client connection, until a shutdown signal.
//!
//! The framing is written here (MBAP header: transaction id, protocol 0,
//! length, unit; then the PDU), like the RTU framing in
//! [`super::rtu_pty`], so a client is checked against a second
//! implementation of the standard, and so the relay board's pulse commands
//! (a write-coil value other than 0xFF00 or 0x0000) reach the board.
//! Requests go to the device whatever the unit id.

use std::future::Future;
use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::rtu_pty::{ModbusSim, answer_pdu};

/// Serves `device` over Modbus TCP on `listener` until `shutdown` completes.
pub async fn serve<S: ModbusSim + Clone + Sync>(
    listener: TcpListener,
    device: S,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, device.clone()));
            }
        }
    }
}

/// Answers one client's requests until it goes away or sends a frame that
/// is not Modbus TCP.
async fn serve_connection<S: ModbusSim>(mut stream: TcpStream, device: S) {
    let mut header = [0u8; 7];
    loop {
        if stream.read_exact(&mut header).await.is_err() {
            return;
        }
        let length = usize::from(u16::from_be_bytes([header[4], header[5]]));
        // Protocol 0 only; a PDU of 1 to 253 bytes after the unit id.
        if header[2..4] != [0, 0] || !(2..=254).contains(&length) {
            return;
        }
        let mut pdu = vec![0u8; length - 1];
        if stream.read_exact(&mut pdu).await.is_err() {
            return;
        }
        let Some(reply) = answer_pdu(&pdu, &device) else {
            continue; // no reply: the client times out
        };
        let Ok(reply_len) = u16::try_from(reply.len() + 1) else {
            return;
        };
        let mut frame = Vec::with_capacity(7 + reply.len());
        frame.extend_from_slice(&header[0..4]);
        frame.extend_from_slice(&reply_len.to_be_bytes());
        frame.push(header[6]);
        frame.extend_from_slice(&reply);
        if stream.write_all(&frame).await.is_err() {
            return;
        }
    }
}
