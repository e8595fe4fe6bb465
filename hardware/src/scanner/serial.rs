//! A serial scanner: one code a line, over a UART or USB-serial adapter.

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{ScanLine, Scanner, ScannerError};

/// A scanner on a serial port (or any byte stream).
#[derive(Debug)]
pub struct SerialScanner<R> {
    port: R,
    line: ScanLine,
    buf: Vec<u8>,
    pending: std::collections::VecDeque<String>,
}

impl SerialScanner<tokio_serial::SerialStream> {
    /// Opens `path` at `baud` (8N1, as scanners ship).
    pub fn open(path: &str, baud: u32) -> Result<Self, ScannerError> {
        let port =
            tokio_serial::SerialStream::open(&tokio_serial::new(path, baud)).map_err(|e| {
                ScannerError::Open {
                    device: path.to_owned(),
                    message: e.to_string(),
                }
            })?;
        Ok(Self::from_reader(port))
    }
}

impl<R: AsyncRead + Unpin + Send> SerialScanner<R> {
    /// A scanner reading `port`.
    pub fn from_reader(port: R) -> Self {
        Self {
            port,
            line: ScanLine::default(),
            buf: vec![0; 256],
            pending: Default::default(),
        }
    }
}

impl<R: AsyncRead + Unpin + Send> Scanner for SerialScanner<R> {
    async fn next_scan(&mut self) -> Result<String, ScannerError> {
        loop {
            if let Some(code) = self.pending.pop_front() {
                return Ok(code);
            }
            let n = self
                .port
                .read(&mut self.buf)
                .await
                .map_err(|e| ScannerError::Read(e.to_string()))?;
            if n == 0 {
                return Err(ScannerError::Gone);
            }
            // Scanners send ASCII; anything else is kept as the replacement
            // character, so the door sees (and refuses) a garbled code.
            for c in String::from_utf8_lossy(&self.buf[..n]).chars() {
                if let Some(code) = self.line.push(c) {
                    self.pending.push_back(code);
                }
            }
        }
    }
}
