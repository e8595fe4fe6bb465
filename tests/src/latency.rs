//! Latency figures for the benchmark programs: percentiles over samples,
//! printed one line per measurement.

use std::time::Duration;

/// The `p` quantile (0 to 1) of sorted samples (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Prints `name n= p50= p99= max=` and returns (p50, p99).
pub fn report(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.50), percentile(&samples, 0.99));
    println!(
        "{name:<52} n={:<6} p50={:>9.3} ms  p99={:>9.3} ms  max={:>9.3} ms",
        samples.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    (p50, p99)
}

/// A process's resident memory in KiB, from /proc (Linux).
pub fn resident_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

/// What a process's resident memory is made of (KiB): its own (heap,
/// stacks: `RssAnon`) and the files mapped (the binary and the shared
/// libraries: `RssFile`, partly shared with other processes).
pub fn resident_parts_kib(pid: u32) -> Option<(u64, u64)> {
    Some((status_kib(pid, "RssAnon")?, status_kib(pid, "RssFile")?))
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
