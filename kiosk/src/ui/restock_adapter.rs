//! Restocking on the screen (staff only, from the staff page): each slot
//! with its stock, and "+1" / "+5" for what was put in. Each change is one
//! transaction with the staff member as the audit log's actor.

use std::cell::RefCell;
use std::rc::Rc;

use keting_core::ids::DeviceId;
use slint::{ComponentHandle, ModelRc, VecModel};

use super::language::Language;
use super::shell::{self, State};
use super::staff_adapter::as_staff;
use super::{KioskWindow, RestockAdapter, RestockRow};
use crate::controller::router::Screen;
use crate::words::tr_args;
use keting_desk as desk;

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

/// Opens the page.
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<RestockAdapter>();
    adapter.set_message("".into());
    show(window, state);
    shell::show_page(window, state, Screen::Restock);
}

fn show(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let zh = zh(state);
    let slots = keting_desk::vending::catalogue(state.borrow().desk.store()).unwrap_or_default();
    let rows: Vec<RestockRow> = slots
        .iter()
        .map(|s| RestockRow {
            device: s.device.as_str().into(),
            slot: i32::from(s.slot),
            name: if zh {
                s.name_zh.as_str()
            } else {
                s.name_en.as_str()
            }
            .into(),
            stock: i32::try_from(s.stock).unwrap_or(i32::MAX),
        })
        .collect();
    window
        .global::<RestockAdapter>()
        .set_rows(ModelRc::new(VecModel::from(rows)));
}

/// Adds `n` drinks to a slot.
pub(super) fn add(
    window: &KioskWindow,
    state: &Rc<RefCell<State>>,
    device: &str,
    slot: i32,
    n: i32,
) {
    let zh = zh(state);
    let (Ok(device), Ok(slot), Ok(n)) =
        (DeviceId::new(device), u8::try_from(slot), u32::try_from(n))
    else {
        return;
    };
    let now = shell::now(state);
    let done = as_staff(
        state,
        keting_core::staff::StaffAction::Restock,
        |store, actor, _| desk::vending::restock(store, actor, &device, slot, n, now),
    )
    .map(|s| (if zh { s.name_zh } else { s.name_en }, s.stock));
    let message = match done {
        Ok((name, stock)) => tr_args(zh, "{0}: {1} in stock now", &[&name, &stock]),
        Err(not) => not.say(zh),
    };
    window
        .global::<RestockAdapter>()
        .set_message(message.into());
    show(window, state);
}

/// Wires the restocking page's callbacks.
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<RestockAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_open() => touched |w, s| open(w, s));
    shell::wire!(b, adapter.on_add(device, slot, n) => touched |w, s| {
        add(w, s, &device, slot, n)
    });
}
