//! The site's booking rules (one row, like the points rules): how long
//! before a slot a member may still cancel, how long a place waits for its
//! member, how early check-in opens. Every decision reads them inside its
//! own transaction, so a change applies to the next decision everywhere.

use std::time::Duration;

use keting_core::booking::BookingPolicy;
use rusqlite::{Connection, params};

use super::StoreError;

fn minutes(d: Duration) -> i64 {
    i64::try_from(d.as_secs() / 60).unwrap_or(i64::MAX)
}

fn duration(minutes: i64) -> Duration {
    Duration::from_secs(u64::try_from(minutes).unwrap_or(0) * 60)
}

/// The site's booking rules.
pub fn get(conn: &Connection) -> Result<BookingPolicy, StoreError> {
    Ok(conn.query_row(
        "SELECT cancel_before_minutes, start_grace_minutes, check_in_early_minutes FROM booking_policy",
        [],
        |r| {
            Ok(BookingPolicy {
                cancel_before: duration(r.get(0)?),
                start_grace: duration(r.get(1)?),
                check_in_early: duration(r.get(2)?),
            })
        },
    )?)
}

/// Replaces the site's booking rules.
pub fn set(conn: &Connection, p: &BookingPolicy) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE booking_policy SET cancel_before_minutes = ?1, start_grace_minutes = ?2, check_in_early_minutes = ?3",
        params![minutes(p.cancel_before), minutes(p.start_grace), minutes(p.check_in_early)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn a_new_site_has_the_default_rules_and_a_change_is_read_back() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(get(store.conn()).unwrap(), BookingPolicy::default());
        let p = BookingPolicy {
            cancel_before: Duration::from_secs(3600),
            ..BookingPolicy::default()
        };
        set(store.conn(), &p).unwrap();
        assert_eq!(get(store.conn()).unwrap(), p);
    }
}
