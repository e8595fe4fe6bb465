//! Alarms on the screen: a line on every page while any alarm is not
//! cleared (the newest, and how many), and on the staff page the list with
//! who acknowledged each, and an "Acknowledge" button that records the
//! staff member's name (`desk::alarms::ack`, audited).

use std::cell::RefCell;
use std::rc::Rc;

use keting_centre::service::DoorsView;
use keting_core::staff::StaffAction;
use keting_desk as desk;
use keting_desk::records::{Alarm, AlarmKind};
use slint::{ComponentHandle, ModelRc, VecModel};

use super::language::Language;
use super::shell::{self, State};
use super::staff_adapter::{as_staff, show_message};
use super::{AlarmAdapter, AlarmRow, KioskWindow};
use crate::words::{tr, tr_args};

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

/// What an alarm says, with the device's name for people.
fn describe(zh: bool, alarm: &Alarm, view: &DoorsView, hhmm: &str) -> String {
    let name = view
        .doors
        .iter()
        .find(|d| d.id == alarm.device)
        .map_or_else(
            || match alarm.device.as_str() {
                keting_centre::service::alarm_watch::CENTRE => tr(zh, "This centre"),
                other => other.to_owned(),
            },
            |d| d.name.clone(),
        );
    let what = match alarm.kind {
        AlarmKind::Forced => tr(zh, "forced open"),
        AlarmKind::HeldOpen => tr(zh, "held open"),
        AlarmKind::ReaderLockout => tr(zh, "reader locked out"),
        AlarmKind::Offline => tr(zh, "offline for over a minute"),
        AlarmKind::Fault => tr_args(zh, "fault: {0}", &[&alarm.detail]),
        AlarmKind::VendInDoubt => tr_args(zh, "{0} drink(s) in doubt", &[&alarm.detail]),
        AlarmKind::ClockWrong => tr_args(zh, "clock wrong: {0}", &[&alarm.detail]),
        AlarmKind::Help if alarm.detail.is_empty() => tr(zh, "HELP button pressed"),
        AlarmKind::Help => tr_args(zh, "HELP button pressed: {0}", &[&alarm.detail]),
        AlarmKind::Fire => tr(zh, "fire alarm: door released until reset"),
        AlarmKind::Welfare => tr_args(zh, "alone inside too long: {0}", &[&alarm.detail]),
        AlarmKind::Tailgating => tr_args(zh, "came in without a scan: {0}", &[&alarm.detail]),
    };
    tr_args(zh, "{0} {1} ({2})", &[&name, &what, &hhmm])
}

/// Shows the view's alarms: the banner on every page, the staff page's list.
pub(super) fn update(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let s = state.borrow();
    let zh = s.language == Language::Chinese;
    let view = s
        .doors
        .as_ref()
        .map(|rx| rx.borrow().clone())
        .unwrap_or_default();
    let cal = s.desk.site().calendar;
    let hhmm = |a: &Alarm| {
        let t = cal.local(a.raised);
        format!("{:02}:{:02}", t.hour(), t.minute())
    };
    let adapter = window.global::<AlarmAdapter>();
    let banner = match view.alarms.as_slice() {
        [] => String::new(),
        [one] => tr_args(zh, "Alarm: {0}", &[&describe(zh, one, &view, &hhmm(one))]),
        [first, rest @ ..] => tr_args(
            zh,
            "Alarm: {0} and {1} more (staff page)",
            &[&describe(zh, first, &view, &hhmm(first)), &rest.len()],
        ),
    };
    adapter.set_banner(banner.into());
    let rows: Vec<AlarmRow> = view
        .alarms
        .iter()
        .map(|a| AlarmRow {
            id: i32::try_from(a.id).unwrap_or(0),
            text: describe(zh, a, &view, &hhmm(a)).into(),
            acked: a
                .acked
                .as_ref()
                .map(|(by, at)| {
                    // `staff:<id>` is a member: say their name.
                    let by = by
                        .strip_prefix("staff:")
                        .and_then(|n| n.parse().ok())
                        .and_then(|n| {
                            keting_desk::members::get(s.desk.store(), keting_core::ids::MemberId(n))
                                .ok()
                        })
                        .map_or_else(|| by.clone(), |m| m.name);
                    let t = cal.local(*at);
                    let at = format!("{:02}:{:02}", t.hour(), t.minute());
                    tr_args(zh, "acknowledged by {0} at {1}", &[&by, &at])
                })
                .unwrap_or_default()
                .into(),
        })
        .collect();
    adapter.set_rows(ModelRc::new(VecModel::from(rows)));
}

/// The staff member on the page acknowledges alarm `id`.
pub(super) fn ack(window: &KioskWindow, state: &Rc<RefCell<State>>, id: i32) {
    let zh = zh(state);
    let now = shell::now(state);
    let done = as_staff(state, StaffAction::Alarms, |store, actor, _| {
        desk::alarms::ack(store, actor, i64::from(id), now)
    });
    let message = match done {
        Ok(alarm) => tr_args(zh, "Alarm {0} acknowledged", &[&alarm.id]),
        Err(not) => not.say(zh),
    };
    show_message(window, message);
}

/// Wires the alarms' acknowledgement and the alarm line's redraw when the
/// devices report (on every page).
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<AlarmAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_ack(id) => touched |w, s| ack(w, s, id));
    state.borrow_mut().hooks.on_doors(update);
}
