//! Bookable resources: the pianos, the robot, childcare, rooms; what each
//! costs, when it is open, and which device agent (and relay channel)
//! drives it.

use keting_core::booking::{Limits, Price, Resource, ResourceId, ResourceKind};
use keting_core::ids::DeviceId;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;

/// A resource as the centre keeps it: the core's resource and its device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRecord {
    /// The rules' view.
    pub resource: Resource,
    /// The device agent that powers it (a piano bank, the robot), if any.
    pub device: Option<DeviceId>,
    /// Which of the device's outputs (the piano's relay channel).
    pub channel: Option<u8>,
    /// A walk-up session's length (pianos; 45 minutes by default).
    pub session: std::time::Duration,
}

pub use keting_core::booking::{format_hours, parse_hours};

fn price_json(p: Price) -> String {
    serde_json::to_string(&p).unwrap_or_else(|_| r#"{"in":"free"}"#.into())
}

/// Adds a resource, or replaces the one with the same id (its bookings stay).
pub fn put(conn: &Connection, r: &ResourceRecord) -> Result<(), StoreError> {
    r.resource.validate()?;
    let res = &r.resource;
    conn.execute(
        "INSERT INTO resources (id, kind, name_zh, name_en, hours, slot_minutes, capacity, price, trial_price,
                                per_day, per_week, checked_after_use, device_id, channel, session_s, active)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 1)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name_zh = excluded.name_zh, name_en = excluded.name_en,
             hours = excluded.hours, slot_minutes = excluded.slot_minutes, capacity = excluded.capacity,
             price = excluded.price, trial_price = excluded.trial_price, per_day = excluded.per_day,
             per_week = excluded.per_week, checked_after_use = excluded.checked_after_use,
             device_id = excluded.device_id, channel = excluded.channel,
             session_s = excluded.session_s, active = 1",
        params![
            res.id.as_str(),
            res.kind.as_str(),
            res.name_zh,
            res.name_en,
            format_hours(&res.hours),
            res.slot_minutes,
            res.capacity,
            price_json(res.price),
            res.trial_price.map(price_json),
            res.limits.per_day,
            res.limits.per_week,
            res.checked_after_use,
            r.device.as_ref().map(DeviceId::as_str),
            r.channel,
            i64::try_from(r.session.as_secs()).unwrap_or(i64::MAX),
        ],
    )?;
    Ok(())
}

const COLUMNS: &str =
    "id, kind, name_zh, name_en, hours, slot_minutes, capacity, price, trial_price,
                       per_day, per_week, checked_after_use, device_id, channel, session_s";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<ResourceRecord, StoreError>> {
    let id: String = row.get(0)?;
    let kind: String = row.get(1)?;
    let hours: String = row.get(4)?;
    let price: String = row.get(7)?;
    let trial: Option<String> = row.get(8)?;
    let device: Option<String> = row.get(12)?;
    let (name_zh, name_en) = (row.get(2)?, row.get(3)?);
    let (slot_minutes, capacity) = (row.get(5)?, row.get(6)?);
    let (per_day, per_week, checked): (u16, u16, bool) = (row.get(9)?, row.get(10)?, row.get(11)?);
    let channel = row.get(13)?;
    let session_s: u32 = row.get(14)?;
    Ok((|| {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("resource {id}: stored {what} unreadable"));
        let price_of = |s: &str| serde_json::from_str::<Price>(s).map_err(|_| corrupt("price"));
        Ok(ResourceRecord {
            resource: Resource {
                id: ResourceId::new(id.clone()).map_err(|_| corrupt("id"))?,
                kind: ResourceKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
                name_zh,
                name_en,
                hours: parse_hours(&hours)?,
                slot_minutes,
                capacity,
                price: price_of(&price)?,
                trial_price: trial.as_deref().map(price_of).transpose()?,
                limits: Limits { per_day, per_week },
                checked_after_use: checked,
            },
            device: device
                .map(DeviceId::new)
                .transpose()
                .map_err(|_| corrupt("device"))?,
            channel,
            session: std::time::Duration::from_secs(u64::from(session_s)),
        })
    })())
}

/// The resource `id`, if it exists and is in use.
pub fn get(conn: &Connection, id: &str) -> Result<Option<ResourceRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM resources WHERE id = ?1 AND active = 1"),
        [id],
        from_row,
    )
    .optional()?
    .transpose()
}

/// The resource `id`, or a clear error naming the ones there are.
pub fn require(conn: &Connection, id: &str) -> Result<ResourceRecord, StoreError> {
    get(conn, id)?.ok_or_else(|| {
        let known = list(conn, None)
            .map(|l| {
                l.iter()
                    .map(|r| r.resource.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        StoreError::UnknownResource {
            id: id.to_owned(),
            known,
        }
    })
}

/// Every resource in use, of `kind` if given, by id.
pub fn list(
    conn: &Connection,
    kind: Option<ResourceKind>,
) -> Result<Vec<ResourceRecord>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM resources WHERE active = 1 AND (?1 IS NULL OR kind = ?1)
         ORDER BY kind, length(id), id"
    ))?;
    let rows = stmt.query_map([kind.map(ResourceKind::as_str)], from_row)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r??);
    }
    Ok(out)
}
