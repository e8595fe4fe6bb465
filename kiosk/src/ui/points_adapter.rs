//! Points for a drink, on the screen: the pass scanned, the balance and the
//! catalogue (drinks out of reach greyed), a choice, a confirmation, then
//! "dispensing" until the centre has settled the redemption, and its outcome.
//!
//! The screen only begins a redemption ([`redemptions::begin`]: the points
//! held in the same transaction); the centre sends the vend and settles it.
//! The screen reads the redemption's state every [`POLL_EVERY`] until it is
//! committed or refunded. A second tap on "redeem", or a scan while a
//! redemption is under way, changes nothing: the database refuses a second
//! redemption in progress for the same member.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use keting_core::ids::DeviceId;
use keting_core::ledger::PostingKind;
use keting_core::ledger::rules::PointsRefusal;
use keting_core::messages::VendOutcome;
use slint::{ComponentHandle, ModelRc, TimerMode, VecModel};

use super::language::Language;
use super::shell::{self, State};
use super::{DrinkItem, KioskWindow, PointsAdapter, PointsLine, PointsStep};
use crate::controller::points::{self as page, PointsPage};
use crate::controller::router::{ScanMeans, Screen};
use crate::words::{tr, tr_args};
use keting_desk::records::RedemptionState;
use keting_desk::vending::RedemptionRefusal;
use keting_desk::vending::VendingError;
use keting_desk::{self as desk, Actor};

/// The points page goes home after this long untouched.
pub const POINTS_IDLE: Duration = crate::controller::router::RESIDENT_IDLE;
/// How often a redemption under way is looked at.
pub const POLL_EVERY: Duration = Duration::from_millis(100);
/// How long the outcome stays up.
pub const OUTCOME_SHOWN: Duration = Duration::from_secs(10);

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

fn message(window: &KioskWindow, text: &str) {
    window.global::<PointsAdapter>().set_message(text.into());
}

/// Opens the points page at its first step: scan your pass.
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    state.borrow_mut().points = PointsPage::default();
    let adapter = window.global::<PointsAdapter>();
    adapter.set_message("".into());
    adapter.set_step(PointsStep::Scan);
    shell::show_page(window, state, Screen::Points);
}

/// A scan on the points page: the member's points and the drinks.
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    if !state.borrow().points.takes_scans() {
        // A redemption under way: a scan does not interrupt it.
        return;
    }
    match super::scanned_member::member_of(state, text) {
        Ok((member, name)) => {
            state.borrow_mut().points.scanned(member, name);
            message(window, "");
            show_menu(window, state);
        }
        Err(why) => message(window, &why),
    }
}

/// Shows the member's points, the drinks and the recent history.
fn show_menu(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let Some((member, name)) = state.borrow().points.member().cloned() else {
        return;
    };
    let zh = zh(state);
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let read = desk::vending::points_menu(state.borrow_mut().desk.store_mut(), member, 5, cal, now)
        .map(|m| (m.balance, m.drinks, m.history, m.busy));
    let (balance, drinks, history, busy) = match read {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("points page: {e}");
            message(window, &tr(zh, "Not working right now: please ask staff"));
            return;
        }
    };
    let adapter = window.global::<PointsAdapter>();
    adapter.set_member(name.as_str().into());
    adapter.set_balance(i32::try_from(balance).unwrap_or(i32::MAX));
    let items: Vec<DrinkItem> = drinks
        .iter()
        .map(|d| DrinkItem {
            device: d.device.as_str().into(),
            slot: i32::from(d.slot),
            name: if zh {
                d.name_zh.as_str()
            } else {
                d.name_en.as_str()
            }
            .into(),
            price: i32::try_from(d.price).unwrap_or(i32::MAX),
            stock: i32::try_from(d.stock).unwrap_or(i32::MAX),
            available: page::within_reach(d.price, d.stock, balance),
        })
        .collect();
    adapter.set_drinks(ModelRc::new(VecModel::from(items)));
    let lines: Vec<PointsLine> = history
        .iter()
        .map(|h| {
            let t = cal.local(h.at);
            let what = match h.kind {
                PostingKind::Reserve => h.what.clone(),
                PostingKind::Refund => tr(zh, "returned"),
                PostingKind::Expire => tr(zh, "expired"),
                _ => h.what.clone(),
            };
            PointsLine {
                when: format!("{:02}-{:02}", u8::from(t.month()), t.day()).into(),
                what: what.into(),
                points: format!("{:+}", h.points).into(),
            }
        })
        .collect();
    adapter.set_history(ModelRc::new(VecModel::from(lines)));
    adapter.set_step(PointsStep::Menu);
    if let Some(r) = busy {
        // A redemption left under way (a restart): follow it.
        state.borrow_mut().points.began(r.id);
        adapter.set_step(PointsStep::Dispensing);
        follow(window, state);
    }
}

/// A drink was tapped: ask to confirm.
pub(super) fn choose(window: &KioskWindow, state: &Rc<RefCell<State>>, device: &str, slot: u8) {
    let Ok(device) = DeviceId::new(device) else {
        return;
    };
    let zh = zh(state);
    let item = keting_desk::vending::slot(state.borrow().desk.store(), &device, slot);
    let Ok(Some(item)) = item else {
        return;
    };
    state.borrow_mut().points.choose(device, slot);
    let adapter = window.global::<PointsAdapter>();
    adapter.set_chosen(if zh { item.name_zh } else { item.name_en }.into());
    adapter.set_price(i32::try_from(item.price).unwrap_or(i32::MAX));
    adapter.set_step(PointsStep::Confirm);
}

/// "No, go back".
pub(super) fn cancel(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    state.borrow_mut().points.unchoose();
    show_menu(window, state);
}

/// "Yes, redeem": the points are held and the redemption written; the
/// centre does the rest.
pub(super) fn confirm(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    // Nothing chosen, or a second tap while the first is under way.
    let Some((member, device, slot)) = state.borrow().points.to_redeem() else {
        return;
    };
    let zh = zh(state);
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let begun = desk::vending::redeem(
        state.borrow_mut().desk.store_mut(),
        Actor::Kiosk,
        member,
        &device,
        slot,
        cal,
        now,
    );
    match begun {
        Ok(r) => {
            state.borrow_mut().points.began(r.id);
            let adapter = window.global::<PointsAdapter>();
            adapter.set_progress(0.0);
            adapter.set_step(PointsStep::Dispensing);
            follow(window, state);
        }
        Err(e) => {
            let text = refusal_words(&e, zh);
            show_menu(window, state);
            message(window, &text);
        }
    }
}

fn refusal_words(e: &VendingError, zh: bool) -> String {
    match e {
        VendingError::Points(PointsRefusal::NotEnoughPoints { balance, needed }) => tr_args(
            zh,
            "Not enough points: you have {0}, it takes {1}",
            &[&balance, &needed],
        ),
        VendingError::Points(PointsRefusal::OverDailySpendCap { left }) => {
            tr_args(zh, "Only {0} points left to spend today", &[&left])
        }
        VendingError::Refused(RedemptionRefusal::SoldOut(_)) => tr(zh, "Sold out"),
        VendingError::Refused(RedemptionRefusal::InProgress(_)) => {
            tr(zh, "A drink is on its way: please wait")
        }
        other => {
            tracing::error!("redemption refused: {other}");
            tr(zh, "Not possible right now: please ask staff")
        }
    }
}

/// Follows the redemption under way until it is settled.
fn follow(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let b = shell::Binder::new(window, state);
    state
        .borrow()
        .points_timer
        .start(TimerMode::Repeated, POLL_EVERY, move || b.run(poll));
}

/// Looks at the redemption under way now (rather than at the next tick).
pub(super) fn refresh(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    poll(window, state);
}

fn poll(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let Some(id) = state.borrow().points.under_way().map(str::to_owned) else {
        state.borrow().points_timer.stop();
        return;
    };
    let adapter = window.global::<PointsAdapter>();
    let r = match keting_desk::vending::redemption(state.borrow().desk.store(), &id) {
        Ok(Some(r)) => r,
        Ok(None) | Err(_) => return,
    };
    if !r.state.is_settled() {
        // Progress: time since it began, against the time a vend may take.
        let elapsed = shell::now(state)
            .since(r.created)
            .unwrap_or_default()
            .as_secs_f32();
        adapter.set_progress(page::progress(elapsed));
        return;
    }
    state.borrow().points_timer.stop();
    state.borrow_mut().points.settled();
    let zh = zh(state);
    let dispensed = r.state == RedemptionState::Committed;
    let balance =
        keting_desk::points::balance_as_held(state.borrow().desk.store(), r.member).unwrap_or(0);
    let why = match r.result {
        Some(VendOutcome::Jammed) => tr(zh, "the drink got stuck"),
        Some(VendOutcome::Empty) => tr(zh, "the slot was empty"),
        Some(VendOutcome::DoorOpen) => tr(zh, "the machine's door was open"),
        _ => tr(zh, "the machine did not vend"),
    };
    let text = if dispensed {
        tr_args(zh, "{0} points used, {1} left", &[&r.points, &balance])
    } else {
        tr_args(
            zh,
            "{0}: {1} points returned, {2} in all",
            &[&why, &r.points, &balance],
        )
    };
    adapter.set_dispensed(dispensed);
    adapter.set_message(text.into());
    adapter.set_balance(i32::try_from(balance).unwrap_or(i32::MAX));
    adapter.set_step(PointsStep::Done);
    shell::stay(window, state, OUTCOME_SHOWN);
}

/// Wires the points page's callbacks and its scans (whose points).
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<PointsAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_open() => touched |w, s| open(w, s));
    shell::wire!(b, adapter.on_choose(device, slot) => touched |w, s| {
        choose(w, s, &device, u8::try_from(slot).unwrap_or(0))
    });
    shell::wire!(b, adapter.on_confirm() => touched |w, s| confirm(w, s));
    shell::wire!(b, adapter.on_cancel() => touched |w, s| cancel(w, s));
    state.borrow_mut().hooks.scan(ScanMeans::PointsMember, scan);
}
