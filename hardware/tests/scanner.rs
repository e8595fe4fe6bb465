//! The serial scanner over a real pseudo-terminal (as a USB-serial scanner
//! appears), and the simulated scanner.

use keting_hardware::scanner::Scanner;
use keting_hardware::scanner::serial::SerialScanner;
use keting_hardware::scanner::sim::SimScanner;
use nix::pty::openpty;

#[tokio::test]
async fn a_serial_scanner_yields_each_line_as_one_code() {
    let pty = openpty(None, None).unwrap();
    let path = nix::unistd::ttyname(&pty.slave).unwrap();
    let mut scanner = SerialScanner::open(path.to_str().unwrap(), 9600).unwrap();
    let mut master = std::fs::File::from(pty.master);
    use std::io::Write;
    master.write_all(b"KT1.first\r\n\r\nKT1.sec").unwrap();
    master.write_all(b"ond\r\n\xff\xfe\r\n").unwrap();
    assert_eq!(scanner.next_scan().await.unwrap(), "KT1.first");
    assert_eq!(scanner.next_scan().await.unwrap(), "KT1.second");
    // Bytes that are not text arrive as a (refusable) code, not an error.
    assert_eq!(scanner.next_scan().await.unwrap(), "\u{fffd}\u{fffd}");
}

#[tokio::test]
async fn a_simulated_scanner_yields_what_is_fed_and_ends_when_its_feed_is_gone() {
    let (mut scanner, feed) = SimScanner::new();
    assert!(feed.scan("KT1.x"));
    assert_eq!(scanner.next_scan().await.unwrap(), "KT1.x");
    drop(feed);
    assert!(scanner.next_scan().await.is_err());
}
