//! The site's row: its id, name, calendar, public key and whether it is the
//! demo site. The private key is not in the database (see [`crate::site`]).

use keting_core::calendar::SiteCalendar;
use keting_core::ids::SiteId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// What the database says of its site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteRecord {
    /// The site id printed in every pass.
    pub site_id: SiteId,
    /// The centre's name as shown on the screen.
    pub name: String,
    /// The site's calendar (UTC offset).
    pub calendar: SiteCalendar,
    /// Whether this is a demo site (demo residents, tap-to-scan row).
    pub demo: bool,
    /// The Ed25519 public key that verifies the site's passes.
    pub public_key: [u8; 32],
    /// When the site was created.
    pub created: Timestamp,
}

/// The site, if one was created.
pub fn get(conn: &Connection) -> Result<Option<SiteRecord>, StoreError> {
    let row = conn
        .query_row(
            "SELECT site_id, name, utc_offset_minutes, demo, public_key, created_ms FROM site WHERE singleton = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i32>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((site_id, name, offset, demo, key, created)) = row else {
        return Ok(None);
    };
    let corrupt = |what: String| StoreError::Corrupt(format!("the site record is damaged: {what}"));
    Ok(Some(SiteRecord {
        site_id: SiteId::new(site_id).map_err(|e| corrupt(e.to_string()))?,
        name,
        calendar: SiteCalendar::with_offset_minutes(offset).map_err(|e| corrupt(e.to_string()))?,
        demo,
        public_key: key
            .try_into()
            .map_err(|_| corrupt("public key length".into()))?,
        created: Timestamp::from_unix_millis(created),
    }))
}

/// Writes the site row (there is only ever one).
pub fn insert(conn: &Connection, site: &SiteRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO site (singleton, site_id, name, utc_offset_minutes, demo, public_key, created_ms)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            site.site_id.as_str(),
            site.name,
            site.calendar.offset_minutes(),
            site.demo,
            site.public_key.as_slice(),
            site.created.as_unix_millis()
        ],
    )?;
    Ok(())
}
