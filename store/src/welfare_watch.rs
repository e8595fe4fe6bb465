//! The centre's welfare watch (migration 28): someone alone inside the gym
//! longer than this, at these hours, is an alarm. One row; without it the
//! defaults ([`WelfarePolicy::default`]: three hours, 22:00 to 07:00).

use keting_core::door::occupancy::WelfarePolicy;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// The watch in force.
pub fn get(conn: &Connection) -> Result<WelfarePolicy, StoreError> {
    let row = conn
        .query_row(
            "SELECT alone_after_min, night_from_min, night_to_min FROM welfare_watch WHERE id = 1",
            [],
            |r| {
                Ok(WelfarePolicy {
                    alone_after_min: r.get(0)?,
                    night_from_min: r.get(1)?,
                    night_to_min: r.get(2)?,
                })
            },
        )
        .optional()?;
    Ok(row.unwrap_or_default())
}

/// Sets the watch, in `by`'s name (checked by the caller: the desk).
pub fn set(
    conn: &Connection,
    policy: &WelfarePolicy,
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO welfare_watch (id, alone_after_min, night_from_min, night_to_min, set_by, set_ms)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET alone_after_min = ?1, night_from_min = ?2,
             night_to_min = ?3, set_by = ?4, set_ms = ?5",
        params![
            policy.alone_after_min,
            policy.night_from_min,
            policy.night_to_min,
            by,
            now.as_unix_millis()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_until_set_then_what_was_set() {
        let store = crate::Store::open_in_memory().unwrap();
        assert_eq!(get(store.conn()).unwrap(), WelfarePolicy::default());
        let p = WelfarePolicy {
            alone_after_min: 90,
            night_from_min: 20 * 60,
            night_to_min: 6 * 60,
        };
        set(store.conn(), &p, "staff:1", Timestamp::from_unix_millis(1)).unwrap();
        assert_eq!(get(store.conn()).unwrap(), p);
        let bad = WelfarePolicy {
            alone_after_min: 0,
            ..p
        };
        assert!(
            set(
                store.conn(),
                &bad,
                "staff:1",
                Timestamp::from_unix_millis(2)
            )
            .is_err()
        );
    }
}
