//! What the kiosk's home page shows of the centre beside the visits: the
//! district's announcement in force, and the day's programme (the centre's
//! own items and the district's). Reads only.

use keting_core::time::Timestamp;
use keting_store::programme::{self, ProgrammeItem};
use keting_store::{Store, StoreError, district_notices};
use time::Date;

/// The district's announcement in force at `now`, (Chinese, English).
pub fn announcement(store: &Store, now: Timestamp) -> Result<Option<(String, String)>, StoreError> {
    district_notices::current_announcement(store.conn(), now)
}

/// The programme of `day`, by starting time.
pub fn programme(store: &Store, day: Date) -> Result<Vec<ProgrammeItem>, StoreError> {
    programme::for_day(store.conn(), day)
}
