//! The staff's service desk on the screen (from the staff page): the piano
//! banks and the robot as the centre hears them (unavailable when it does
//! not), robot sessions waiting for a check (one tap clears each, audited
//! with the staff member), and residents' ratings per service over 30 days.

use std::cell::RefCell;
use std::rc::Rc;

use keting_core::booking::ResourceKind;
use keting_core::time::Timestamp;
use slint::{ComponentHandle, ModelRc, VecModel};

use super::language::Language;
use super::shell::{self, State};
use super::staff_adapter::as_staff;
use super::{DeskRow, KioskWindow, ServiceDeskAdapter};
use crate::controller::router::Screen;
use crate::words::{tr, tr_args};
use keting_centre::service::device_states::Availability;
use keting_desk as desk;

/// Ratings are summed over this many days.
const RATING_DAYS: i64 = 30;

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

/// Opens the page.
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    window.global::<ServiceDeskAdapter>().set_message("".into());
    refresh(window, state);
    shell::show_page(window, state, Screen::ServiceDesk);
}

fn kind_name(zh: bool, k: ResourceKind) -> String {
    match k {
        ResourceKind::Piano => tr(zh, "Pianos"),
        ResourceKind::Robot => tr(zh, "Robot"),
        ResourceKind::Childcare => tr(zh, "Childcare"),
        ResourceKind::Room => tr(zh, "Rooms"),
    }
}

/// Why a session ended, for staff.
fn reason_words(zh: bool, reason: &str) -> String {
    match reason {
        "time_up" => tr(zh, "ran to its end"),
        "ended_early" => tr(zh, "ended early"),
        "stopped" => tr(zh, "stopped"),
        other => other.into(),
    }
}

/// Fills the page from the centre's view and the database.
pub(super) fn refresh(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let zh = zh(state);
    let now = shell::now(state);
    let s = state.borrow();
    let store = s.desk.store();
    let all = keting_desk::bookings::resources(store, None).unwrap_or_default();
    let heard = s
        .doors
        .as_ref()
        .map(|rx| rx.borrow().session_devices.clone())
        .unwrap_or_default();
    // Every device a resource names, heard or not: never heard is not "fine".
    let mut ids: Vec<_> = all.iter().filter_map(|r| r.device.clone()).collect();
    ids.sort();
    ids.dedup();
    let devices: Vec<DeskRow> = ids
        .iter()
        .map(|id| {
            let kind = all
                .iter()
                .find(|r| r.device.as_ref() == Some(id))
                .map(|r| r.resource.kind);
            let name = kind.map_or_else(|| id.as_str().to_owned(), |k| kind_name(zh, k));
            let view = heard.iter().find(|d| &d.id == id);
            let (detail, attention) = match view {
                Some(d) if d.availability == Availability::Online => match (&d.state, &d.fault) {
                    (Some(st), _) if st == "unavailable" => {
                        (tr(zh, "hardware not answering"), true)
                    }
                    (_, Some(f)) => (tr_args(zh, "fault: {0}", &[&f]), true),
                    _ => (
                        tr_args(
                            zh,
                            "online · {0} of {1} in use",
                            &[&d.in_use.0, &d.in_use.1],
                        ),
                        false,
                    ),
                },
                Some(_) => (tr(zh, "offline"), true),
                None => (tr(zh, "not connected"), true),
            };
            DeskRow {
                id: 0,
                text: format!("{name} ({id})").into(),
                detail: detail.into(),
                attention,
            }
        })
        .collect();
    let checks: Vec<DeskRow> = keting_desk::bookings::to_check(store)
        .unwrap_or_default()
        .iter()
        .map(|b| {
            let what = all
                .iter()
                .find(|r| r.resource.id.as_str() == b.resource)
                .map_or(b.resource.clone(), |r| r.resource.name(zh).to_owned());
            let l = s.desk.site().calendar.local(b.slot.start);
            DeskRow {
                id: i32::try_from(b.id).unwrap_or(0),
                text: format!("{what} · {}", b.member_name).into(),
                detail: format!(
                    "{} {:02}:{:02}{}",
                    s.language.format_date(l.date()),
                    l.hour(),
                    l.minute(),
                    b.end_reason
                        .as_deref()
                        .map(|r| format!(" · {}", reason_words(zh, r)))
                        .unwrap_or_default()
                )
                .into(),
                attention: true,
            }
        })
        .collect();
    let since = Timestamp::from_unix_millis(now.as_unix_millis() - RATING_DAYS * 86_400_000);
    let rated: Vec<DeskRow> = keting_desk::bookings::ratings(store, since)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let share = r.satisfied * 100 / r.count.max(1);
            DeskRow {
                id: 0,
                text: kind_name(zh, r.kind).into(),
                detail: tr_args(
                    zh,
                    "{0} · {1} ratings · {2}% satisfied",
                    &[
                        &format!("{}.{:02}", r.average_x100 / 100, r.average_x100 % 100),
                        &r.count,
                        &share,
                    ],
                )
                .into(),
                attention: share < 80,
            }
        })
        .collect();
    drop(s);
    let adapter = window.global::<ServiceDeskAdapter>();
    adapter.set_devices(ModelRc::new(VecModel::from(devices)));
    adapter.set_to_check(ModelRc::new(VecModel::from(checks)));
    adapter.set_ratings(ModelRc::new(VecModel::from(rated)));
}

/// "Checked": the device was looked at after booking `id`.
pub(super) fn clear(window: &KioskWindow, state: &Rc<RefCell<State>>, id: i32) {
    let zh = zh(state);
    let now = shell::now(state);
    let done = as_staff(
        state,
        keting_core::staff::StaffAction::Bookings,
        |store, actor, _| desk::bookings::clear(store, actor, i64::from(id), now),
    );
    let message = match done {
        Ok(_) => tr(zh, "Check recorded"),
        Err(not) => not.say(zh),
    };
    window
        .global::<ServiceDeskAdapter>()
        .set_message(message.into());
    refresh(window, state);
}

/// Wires the service desk's callbacks and its redraw when the devices
/// report.
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<ServiceDeskAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_open() => touched |w, s| open(w, s));
    shell::wire!(b, adapter.on_clear(id) => touched |w, s| clear(w, s, id));
    state.borrow_mut().hooks.on_doors(|w, s| {
        if s.borrow().router.screen() == Screen::ServiceDesk {
            refresh(w, s);
        }
    });
}
