//! A simulated scanner: scans are fed through a channel (by a test, or by
//! the demo from the `sim/<device>/scan` topic).

use tokio::sync::mpsc;

use crate::scanner::{Scanner, ScannerError};

/// The scanner the agent reads.
#[derive(Debug)]
pub struct SimScanner {
    scans: mpsc::Receiver<String>,
}

/// The other end: what a person would scan.
#[derive(Clone, Debug)]
pub struct SimScannerFeed {
    scans: mpsc::Sender<String>,
}

impl SimScanner {
    /// A scanner and its feed.
    pub fn new() -> (Self, SimScannerFeed) {
        let (tx, rx) = mpsc::channel(64);
        (Self { scans: rx }, SimScannerFeed { scans: tx })
    }
}

impl SimScannerFeed {
    /// Presents `code` to the scanner; false if the scanner is gone or its
    /// queue is full (a person cannot scan 64 codes ahead of the door).
    pub fn scan(&self, code: &str) -> bool {
        self.scans.try_send(code.to_owned()).is_ok()
    }
}

impl Scanner for SimScanner {
    async fn next_scan(&mut self) -> Result<String, ScannerError> {
        self.scans.recv().await.ok_or(ScannerError::Gone)
    }
}
