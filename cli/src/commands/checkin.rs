//! `kiosk checkin PASS`: a scan through the screen's own desk, one JSON line out.

use std::ffi::OsString;
use std::io::{BufRead, Write};

use anyhow::Result;
use keting_centre::clock;
use keting_centre::data_dir::DataDir;
use keting_centre::site::{self};
use keting_core::checkin::CheckInDecision;
use keting_desk::checkin::{CheckInDesk, ScanRecord};
use keting_desk::records::ScanSource;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;

pub fn checkin_command(
    pass: &OsString,
    store: Store,
    site: SiteRecord,
    dir: &DataDir,
) -> Result<()> {
    let verifier = site::verifier(&site)?;
    let calendar = site.calendar;
    // The fallback codes under a phone's live pass need the site key.
    let codes = site::issuer(&site, dir).ok().map(|i| i.fallback_codes());
    let mut desk = CheckInDesk::new(store, site, verifier);
    if let Some(codes) = codes {
        desk = desk.with_fallback_codes(codes);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut decide = |text: &str, out: &mut dyn Write| -> Result<()> {
        let record = desk.scan(text, clock::now(), ScanSource::CommandLine)?;
        writeln!(out, "{}", decision_json(&record, calendar))?;
        out.flush()?;
        Ok(())
    };
    if pass == "-" {
        let stdin = std::io::stdin();
        let mut line = Vec::new();
        let mut input = stdin.lock();
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            decide(&String::from_utf8_lossy(&line), &mut out)?;
        }
    } else {
        decide(&pass.to_string_lossy(), &mut out)?;
    }
    Ok(())
}

pub fn decision_json(
    record: &ScanRecord,
    calendar: keting_core::calendar::SiteCalendar,
) -> serde_json::Value {
    let at = calendar
        .local(record.at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let member = record
        .member
        .as_ref()
        .map(|(id, name)| serde_json::json!({ "id": id.0, "name": name }));
    match record.decision {
        CheckInDecision::Accepted { counted, .. } => serde_json::json!({
            "accepted": true, "counted": counted, "member": member, "checkin_id": record.checkin.0, "at": at,
        }),
        CheckInDecision::Denied(reason) => serde_json::json!({
            "accepted": false, "reason": reason.code(), "member": member, "checkin_id": record.checkin.0, "at": at,
        }),
    }
}
