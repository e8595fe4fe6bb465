//! A room's screen (`kiosk --room NAME`): what is on in the room now and how
//! many have come, or when the next one starts; each scan counted as
//! attendance of what is on (a volunteer's second scan checks them out) and
//! greeted by name, or refused with the reason.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use keting_core::activity::rules::Attendance;
use keting_core::calendar::Span;
use keting_desk::activities::{self, Via};
use keting_desk::records::ActivityState;
use slint::ComponentHandle;

use super::activities_adapter::refusal_words;
use super::language::Language;
use super::scanned_member::member_of;
use super::shell::{self, State};
use super::{KioskWindow, RoomAdapter};
use crate::controller::router::ScanMeans;
use crate::words::tr_args;

/// A greeting stays this long, then the room page asks for the next scan.
pub const GREETING_SHOWN: Duration = Duration::from_secs(8);

fn hhmm(state: &Rc<RefCell<State>>, t: keting_core::time::Timestamp) -> String {
    let l = state.borrow().desk.site().calendar.local(t);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

/// Shows what is on in the room now (and clears an old greeting).
pub(super) fn refresh(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let Some(room) = state.borrow().room.as_ref().map(|r| r.room.clone()) else {
        return;
    };
    let adapter = window.global::<RoomAdapter>();
    let stale = state
        .borrow()
        .room
        .as_ref()
        .and_then(|r| r.greeted)
        .is_some_and(|at| at.elapsed() >= GREETING_SHOWN);
    if stale {
        if let Some(r) = state.borrow_mut().room.as_mut() {
            r.greeted = None;
        }
        adapter.set_greeting("".into());
    }
    adapter.set_name(room.as_str().into());
    let now = shell::now(state);
    let english = state.borrow().language == Language::English;
    let on = activities::on_in_room(state.borrow().desk.store(), &room, now);
    match on {
        Ok(Some(v)) => {
            let p = &v.record.plan;
            let title = if english { &p.title_en } else { &p.title_zh };
            adapter.set_now(
                format!("{title} {}–{}", hhmm(state, p.starts), hhmm(state, p.ends)).into(),
            );
            let attended = activities::closing_sheet(state.borrow().desk.store(), v.record.id)
                .map(|s| s.lines.len())
                .unwrap_or(0);
            adapter.set_attended(i32::try_from(attended).unwrap_or(i32::MAX));
            adapter.set_capacity(i32::try_from(p.capacity).unwrap_or(i32::MAX));
            adapter.set_next("".into());
        }
        Ok(None) => {
            adapter.set_now("".into());
            let cal = state.borrow().desk.site().calendar;
            let today = Span {
                start: now,
                end: cal.day_span(cal.date_of(now)).end,
            };
            let next = activities::programme(state.borrow().desk.store(), today, now)
                .ok()
                .and_then(|all| {
                    all.into_iter().find(|v| {
                        v.record.plan.room == room && v.record.state == ActivityState::Open
                    })
                });
            adapter.set_next(
                next.map(|v| {
                    let p = &v.record.plan;
                    format!(
                        "{} {}",
                        hhmm(state, p.starts),
                        if english { &p.title_en } else { &p.title_zh }
                    )
                })
                .unwrap_or_default()
                .into(),
            );
        }
        Err(e) => tracing::error!("room screen: {e}"),
    }
}

/// A scan in the room: counted at what is on, greeted by name.
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    let Some(room) = state.borrow().room.as_ref().map(|r| r.room.clone()) else {
        return;
    };
    let zh = state.borrow().language == Language::Chinese;
    let (greeting, ok) = match member_of(state, text) {
        Err(why) => (why, false),
        Ok((member, _)) => {
            let now = shell::now(state);
            let done = activities::scan_in_room(
                state.borrow_mut().desk.store_mut(),
                &Via::RoomKiosk(room.clone()),
                &room,
                member,
                now,
            );
            match done {
                Ok(a) => (
                    match a.attendance {
                        Attendance::Arrived => {
                            tr_args(zh, "{0}, welcome! You are signed in", &[&a.name])
                        }
                        Attendance::CheckedOut => {
                            tr_args(zh, "{0}, signed out. Thank you!", &[&a.name])
                        }
                        Attendance::Again => {
                            tr_args(zh, "{0}, you are already signed in", &[&a.name])
                        }
                    },
                    true,
                ),
                Err(e) => (refusal_words(zh, &e), false),
            }
        }
    };
    if let Some(r) = state.borrow_mut().room.as_mut() {
        r.greeted = Some(Instant::now());
    }
    let adapter = window.global::<RoomAdapter>();
    adapter.set_greeting(greeting.into());
    adapter.set_greeting_ok(ok);
    refresh(window, state);
}

/// Hooks a room's kiosk into the shell: its scans (attendance) and its
/// redraw with the home page.
pub(super) fn wire(state: &Rc<RefCell<State>>) {
    let mut s = state.borrow_mut();
    s.hooks.scan(ScanMeans::RoomAttendance, scan);
    s.hooks.on_refresh(refresh);
}
