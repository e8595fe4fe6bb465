//! `device check`'s table: one row per check, PASS or FAIL, what was seen,
//! and for a failure what to do.

use std::fmt::Write;

use keting_core::self_test::SelfCheck;

use crate::broker_session::SelfTestOutcome;
use crate::inventory::DeviceEntry;

/// The rows for an outcome: the agent's own first, then its report.
pub fn rows(entry: &DeviceEntry, outcome: &SelfTestOutcome) -> Vec<SelfCheck> {
    let online = "agent online";
    match outcome {
        SelfTestOutcome::Offline => vec![SelfCheck::fail(
            online,
            format!("{} is not connected to the broker", entry.name),
            "power it and check its network; on the device: `systemctl status keting-agent` and the broker address and broker.secret in /etc/keting",
        )],
        SelfTestOutcome::NoAnswer(after) => vec![SelfCheck::fail(
            online,
            format!("online, but no answer within {} s", after.as_secs()),
            "update the agent on the device (an old agent has no self-test), or look at its log",
        )],
        SelfTestOutcome::NotRun(reason) => vec![SelfCheck::fail(
            online,
            format!("the agent did not run the test: {reason}"),
            "look at the agent's log on the device",
        )],
        SelfTestOutcome::Report(checks) => {
            let mut rows = vec![SelfCheck::pass(online, "answered the self-test")];
            rows.extend(checks.iter().cloned());
            rows
        }
    }
}

/// The printed table and the number of failed checks.
pub fn table(entry: &DeviceEntry, outcome: &SelfTestOutcome) -> (String, usize) {
    let rows = rows(entry, outcome);
    let width = rows
        .iter()
        .map(|r| r.check.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!("{} {} ({})\n", entry.kind.as_str(), entry.name, "self-test");
    let _ = writeln!(out, "{:<width$}  result  detail", "check");
    for r in &rows {
        let result = if r.passed { "pass" } else { "FAIL" };
        let _ = writeln!(out, "{:<width$}  {result:<6}  {}", r.check, r.detail);
        if let Some(fix) = &r.fix {
            let _ = writeln!(out, "{:<width$}  {:<6}  -> {fix}", "", "");
        }
    }
    (out, rows.iter().filter(|r| !r.passed).count())
}
