//! The vending desk: the drinks machine's catalogue and stock, and a
//! resident's redemption of points for a drink.
//!
//! A redemption begun here holds its points in the same transaction; the
//! service sends the vend and settles it (committed or refunded) on the
//! machine's answer. One drink per redemption id, end to end.

use keting_core::calendar::SiteCalendar;
use keting_core::ids::{DeviceId, MemberId};
use keting_core::ledger::rules::PointsRefusal;
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
/// How long a vend may take before its redemption is in doubt.
pub use keting_store::redemptions::RESULT_DEADLINE;
use thiserror::Error;

use super::Actor;
pub use keting_store::redemptions::RedemptionRefusal;
use keting_store::redemptions::{self, Redemption};
use keting_store::vending_slots::{self, Slot};
use keting_store::{Store, StoreError, audit, members};

/// Why the vending desk did nothing.
#[derive(Debug, Error)]
pub enum VendingError {
    /// Sold out, or a redemption of the member already under way.
    #[error(transparent)]
    Refused(#[from] RedemptionRefusal),
    /// Not enough points, or over today's spending cap.
    #[error(transparent)]
    Points(#[from] PointsRefusal),
    /// No such member.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// No such slot in the catalogue.
    #[error("slot {1} of {0} not found")]
    UnknownSlot(DeviceId, u8),
    /// The database.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for VendingError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Points(r) => VendingError::Points(r),
            StoreError::Redemption(r) => VendingError::Refused(r),
            other => VendingError::Store(other),
        }
    }
}

impl From<rusqlite::Error> for VendingError {
    fn from(e: rusqlite::Error) -> Self {
        VendingError::Store(e.into())
    }
}

/// Sets a slot's drink, price and stock (audited).
pub fn set_slot(
    store: &mut Store,
    actor: Actor,
    slot: &Slot,
    now: Timestamp,
) -> Result<(), VendingError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Restock)?;
        vending_slots::set(tx, slot)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "vending.set",
            &format!(
                "{} slot {}: {} {} points, stock {}",
                slot.device, slot.slot, slot.name_zh, slot.price, slot.stock
            ),
        )?;
        Ok(())
    })
}

/// Adds `count` drinks to a slot; returns the slot as it is now.
pub fn restock(
    store: &mut Store,
    actor: Actor,
    device: &DeviceId,
    slot: u8,
    count: u32,
    now: Timestamp,
) -> Result<Slot, VendingError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Restock)?;
        if vending_slots::get(tx, device, slot)?.is_none() {
            return Err(VendingError::UnknownSlot(device.clone(), slot));
        }
        vending_slots::restock(tx, device, slot, count)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "vending.restock",
            &format!("{device} slot {slot} +{count}"),
        )?;
        vending_slots::get(tx, device, slot)?
            .ok_or_else(|| VendingError::UnknownSlot(device.clone(), slot))
    })
}

/// Begins `member`'s redemption of the drink in `slot`: the points are held
/// in this transaction and the service sends the vend.
pub fn redeem(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    device: &DeviceId,
    slot: u8,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Redemption, VendingError> {
    store.write(|tx| {
        if members::get(tx, member)?.is_none() {
            return Err(VendingError::UnknownMember(member));
        }
        if vending_slots::get(tx, device, slot)?.is_none() {
            return Err(VendingError::UnknownSlot(device.clone(), slot));
        }
        let r = redemptions::begin(tx, member, device, slot, calendar, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "vending.redeem",
            &format!(
                "member {member} slot {slot} of {device}: {} points ({})",
                r.points, r.id
            ),
        )?;
        Ok(r)
    })
}

/// What a resident's points page shows: the balance (points past their
/// lifetime expired first), the catalogue, the newest postings, and a
/// redemption under way, if any.
#[derive(Clone, Debug)]
pub struct PointsMenu {
    /// The member's balance now.
    pub balance: keting_core::ledger::Points,
    /// Every slot of every machine.
    pub drinks: Vec<Slot>,
    /// The member's newest postings, newest first.
    pub history: Vec<keting_store::points::HistoryLine>,
    /// A redemption of the member's still under way.
    pub busy: Option<Redemption>,
}

/// The points page of `member` (expiry applied and written in the same
/// transaction).
pub fn points_menu(
    store: &mut Store,
    member: MemberId,
    history: u32,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<PointsMenu, VendingError> {
    use keting_store::points;
    store.write(|tx| {
        if members::get(tx, member)?.is_none() {
            return Err(VendingError::UnknownMember(member));
        }
        let policy = points::policy(tx)?;
        points::expire_due(tx, member, &policy, calendar, now)?;
        Ok(PointsMenu {
            balance: points::balance(tx, keting_core::ledger::Account::Member(member))?,
            drinks: vending_slots::list(tx)?,
            history: points::history(tx, member, history)?,
            busy: redemptions::in_progress(tx, member)?,
        })
    })
}

/// Settles a redemption on the machine's answer `outcome`: committed for a
/// drink, refunded otherwise (once: a second answer changes nothing). The
/// service calls this on every vend outcome.
pub fn settle(
    store: &mut Store,
    redemption: &str,
    outcome: keting_core::messages::VendOutcome,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Option<Redemption>, VendingError> {
    Ok(store.write(|tx| redemptions::settle(tx, redemption, outcome, calendar, now))?)
}

/// Settles every redemption still under way with `outcome`: what the
/// service would do on the machine's answers, for the screenshots and the
/// screen's tests, which run without a machine.
pub fn settle_all_under_way(
    store: &mut Store,
    outcome: keting_core::messages::VendOutcome,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<(), VendingError> {
    Ok(store.write(|tx| {
        for r in redemptions::latest(tx, 0)? {
            redemptions::settle(tx, &r.id, outcome, calendar, now)?;
        }
        Ok::<_, StoreError>(())
    })?)
}

/// A redemption as it stands (in progress, committed, refunded).
pub fn redemption(store: &Store, id: &str) -> Result<Option<Redemption>, VendingError> {
    Ok(redemptions::get(store.conn(), id)?)
}

/// The newest `limit` redemptions, newest first.
pub fn redemptions(store: &Store, limit: u32) -> Result<Vec<Redemption>, VendingError> {
    Ok(redemptions::latest(store.conn(), limit)?)
}

/// One slot of a machine, if it is in the catalogue.
pub fn slot(store: &Store, device: &DeviceId, slot: u8) -> Result<Option<Slot>, VendingError> {
    Ok(vending_slots::get(store.conn(), device, slot)?)
}

/// The catalogue: every slot of every machine.
pub fn catalogue(store: &Store) -> Result<Vec<Slot>, VendingError> {
    Ok(vending_slots::list(store.conn())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_store::members::NewMember;

    #[test]
    fn a_redemption_without_points_is_refused_as_such_and_holds_nothing() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        let cal = SiteCalendar::china();
        let machine = DeviceId::new("drinks-1").unwrap();
        let m = store
            .write(|tx| members::add(tx, &NewMember::new("王秀英", None, &[]).unwrap(), now))
            .unwrap();
        let water = Slot {
            device: machine.clone(),
            slot: 1,
            name_zh: "矿泉水".into(),
            name_en: "Water".into(),
            price: 10,
            stock: 0,
        };
        set_slot(&mut store, Actor::CommandLine, &water, now).unwrap();
        let sold_out = redeem(&mut store, Actor::Kiosk, m, &machine, 1, cal, now);
        assert!(
            matches!(
                sold_out,
                Err(VendingError::Refused(RedemptionRefusal::SoldOut(_)))
            ),
            "{sold_out:?}"
        );
        let desk_staff =
            super::super::staff::staff_for_tests(&mut store, keting_core::staff::StaffRole::Staff);
        assert_eq!(
            restock(&mut store, Actor::Staff(desk_staff), &machine, 1, 5, now)
                .unwrap()
                .stock,
            5
        );
        let poor = redeem(&mut store, Actor::Kiosk, m, &machine, 1, cal, now);
        assert!(
            matches!(
                poor,
                Err(VendingError::Points(PointsRefusal::NotEnoughPoints { .. }))
            ),
            "{poor:?}"
        );
        assert!(matches!(
            restock(&mut store, Actor::CommandLine, &machine, 9, 1, now),
            Err(VendingError::UnknownSlot(_, 9))
        ));
        assert!(redemptions(&store, 10).unwrap().is_empty(), "nothing held");
    }
}
