//! The chaos program, small: a dozen redemptions while the kiosk, the agent
//! and the broker are killed at random moments, every link over TLS with
//! client certificates as in production. It checks its own results
//! (every redemption settled, drops = commits, zero-sum ledger, balances)
//! and exits non-zero on any violation. Larger runs: see the README.

use std::time::Duration;

use keting_system_tests::binaries;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redemptions_survive_kills_of_every_process_with_nothing_lost_or_given_twice() {
    let out = tokio::time::timeout(
        Duration::from_secs(400),
        tokio::process::Command::new(binaries::path("keting-chaos"))
            .args([
                "redemption",
                "--runs",
                "12",
                "--seed",
                "3",
                "--limit-s",
                "360",
                "--tls",
            ])
            .output(),
    )
    .await
    .expect("the chaos program stops by itself")
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("ok    every redemption settled"), "{text}");
    assert!(text.contains("every link TLS"), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
}
