//! The vending machine's catalogue: each slot's drink (Chinese and English
//! names), its price in points and its stock. Staff set and restock slots on
//! the staff page or with `kiosk vending`; a committed redemption takes one
//! from the stock.

use keting_core::ids::DeviceId;
use keting_core::ledger::Points;
use rusqlite::{Connection, OptionalExtension, params};

use thiserror::Error;

use super::StoreError;

/// Why a drink slot's settings were not taken.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DrinkSlotRefusal {
    /// A slot number outside 1 to 99.
    #[error("slot {0}: slots are numbered 1 to 99")]
    SlotNumber(u8),
    /// A price of zero or fewer points.
    #[error("price {0}: a positive number of points")]
    Price(Points),
    /// A name missing or too long.
    #[error("a drink needs a Chinese name (1 to 20 characters) and an English one (1 to 40)")]
    Names,
}

/// One slot of a machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The machine.
    pub device: DeviceId,
    /// The slot number (1 to 99).
    pub slot: u8,
    /// The drink's name in Chinese.
    pub name_zh: String,
    /// The drink's name in English.
    pub name_en: String,
    /// Its price in points.
    pub price: Points,
    /// How many are in the slot.
    pub stock: u32,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, u8, String, String, Points, u32)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn slot_of(t: (String, u8, String, String, Points, u32)) -> Result<Slot, StoreError> {
    Ok(Slot {
        device: DeviceId::new(t.0).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        slot: t.1,
        name_zh: t.2,
        name_en: t.3,
        price: t.4,
        stock: t.5,
    })
}

/// Sets a slot's drink and price (and stock), creating the slot if new.
pub fn set(conn: &Connection, s: &Slot) -> Result<(), StoreError> {
    if !(1..=99).contains(&s.slot) {
        return Err(DrinkSlotRefusal::SlotNumber(s.slot).into());
    }
    if s.price <= 0 {
        return Err(DrinkSlotRefusal::Price(s.price).into());
    }
    let zh = s.name_zh.trim();
    let en = s.name_en.trim();
    if zh.is_empty() || zh.chars().count() > 20 || en.is_empty() || en.chars().count() > 40 {
        return Err(DrinkSlotRefusal::Names.into());
    }
    conn.execute(
        "INSERT INTO vending_slots (device_id, slot, name_zh, name_en, price, stock) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (device_id, slot) DO UPDATE SET name_zh = ?3, name_en = ?4, price = ?5, stock = ?6",
        params![s.device.as_str(), s.slot, zh, en, s.price, s.stock],
    )?;
    Ok(())
}

/// Adds `n` to a slot's stock; returns the new stock.
pub fn restock(conn: &Connection, device: &DeviceId, slot: u8, n: u32) -> Result<u32, StoreError> {
    let changed = conn.execute(
        "UPDATE vending_slots SET stock = stock + ?3 WHERE device_id = ?1 AND slot = ?2",
        params![device.as_str(), slot, n],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!(
            "slot {slot} of {device} (set it first: `kiosk vending set`)"
        )));
    }
    Ok(get(conn, device, slot)?.map_or(0, |s| s.stock))
}

/// Takes one drink from a slot's stock (a committed redemption).
pub fn take_one(conn: &Connection, device: &DeviceId, slot: u8) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE vending_slots SET stock = stock - 1 WHERE device_id = ?1 AND slot = ?2 AND stock > 0",
        params![device.as_str(), slot],
    )?;
    Ok(())
}

/// Marks a slot empty (the machine said so).
pub fn mark_empty(conn: &Connection, device: &DeviceId, slot: u8) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE vending_slots SET stock = 0 WHERE device_id = ?1 AND slot = ?2",
        params![device.as_str(), slot],
    )?;
    Ok(())
}

/// One slot.
pub fn get(conn: &Connection, device: &DeviceId, slot: u8) -> Result<Option<Slot>, StoreError> {
    conn.query_row(
        "SELECT device_id, slot, name_zh, name_en, price, stock FROM vending_slots WHERE device_id = ?1 AND slot = ?2",
        params![device.as_str(), slot],
        row,
    )
    .optional()?
    .map(slot_of)
    .transpose()
}

/// Every slot, by machine and slot.
pub fn list(conn: &Connection) -> Result<Vec<Slot>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT device_id, slot, name_zh, name_en, price, stock FROM vending_slots ORDER BY device_id, slot",
    )?;
    let rows = stmt.query_map([], row)?;
    rows.map(|r| slot_of(r?)).collect()
}
