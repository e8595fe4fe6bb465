//! The demo site's last four weeks beside its activities: the residents'
//! visits (one to four a day, at the hours a centre is busy) and drinks
//! taken for volunteer points, so the foot-traffic charts, the monthly
//! report and the ledger have a month in them on a new demo. Today is left
//! empty: the home page's count starts at 0, as a real morning's does.

use keting_core::calendar::SiteCalendar;
use keting_core::checkin::CheckInDecision;
use keting_core::ids::{DeviceId, MemberId};
use keting_core::messages::VendOutcome;
use keting_core::time::Timestamp;
use keting_store::checkins::{self, ScanSource};
use keting_store::{members, redemptions};
use rusqlite::Connection;

/// Visiting hours of a day, in minutes after midnight, for the n-th visit.
const HOURS: [i64; 6] = [
    8 * 60 + 40,
    9 * 60 + 55,
    10 * 60 + 20,
    14 * 60 + 5,
    15 * 60 + 30,
    19 * 60 + 10,
];

/// Fills the four weeks before `now`.
pub fn seed(conn: &Connection, now: Timestamp) -> Result<(), crate::demo_error::DemoError> {
    let cal = SiteCalendar::china();
    let today = cal.date_of(now);
    let residents: Vec<MemberId> = members::list(conn)?
        .into_iter()
        .filter(|m| m.roles.contains(&members::Role::Resident))
        .map(|m| m.id)
        .collect();
    for back in 1..=28i64 {
        let day = today - time::Duration::days(back);
        let start = cal.start_of(day).as_unix_millis();
        // Busier on weekdays, a varying number a day.
        let weekend = day.weekday().number_from_monday() >= 6;
        for (i, who) in residents.iter().enumerate() {
            let visits = (back + i as i64) % if weekend { 2 } else { 3 } + 1;
            for v in 0..visits {
                let slot =
                    usize::try_from((back + i as i64 + v * 2) % HOURS.len() as i64).unwrap_or(0);
                let at = Timestamp::from_unix_millis(start + (HOURS[slot] + v * 150) * 60_000);
                checkins::insert(
                    conn,
                    at,
                    Some(*who),
                    &CheckInDecision::Accepted {
                        member: *who,
                        counted: true,
                    },
                    ScanSource::Scanner,
                )?;
            }
        }
    }
    // 李建国 spends some of his shifts' points on soy milk, twice.
    let machine = DeviceId::new(crate::demo_ids::DEMO_VENDING)
        .map_err(|e| crate::demo_error::DemoError::fixture("drinks machine id", e))?;
    if let Some(li) = members::list(conn)?
        .into_iter()
        .find(|m| m.name == "李建国")
    {
        for back in [12, 5] {
            let at = Timestamp::from_unix_millis(
                cal.start_of(today - time::Duration::days(back))
                    .as_unix_millis()
                    + 17 * 3_600_000,
            );
            let r = redemptions::begin(conn, li.id, &machine, 2, cal, at)?;
            redemptions::settle(conn, &r.id, VendOutcome::Dispensed, cal, at)?;
        }
    }
    // The invented past is the demo's alone: none of it goes to a district.
    keting_store::uplink::never_send_before(conn, cal.start_of(today))?;
    Ok(())
}
