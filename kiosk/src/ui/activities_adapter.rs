//! Activities on the screen for residents: the pass scanned, the next
//! seven days' activities with places left and the member's standing, and
//! one tap each (take a place, join the waiting list, take a place offered,
//! give it up); the outcome or the refusal in the screen's language.
//!
//! Every decision is the activities desk's, in one write transaction; the
//! list is read again after each tap.

use std::cell::RefCell;
use std::rc::Rc;

use keting_core::activity::rules::{SignedUp, Standing};
use keting_core::activity::{ActivityRefusal, Audience};
use keting_core::calendar::Span;
use keting_core::time::Timestamp;
use keting_desk::Actor;
use keting_desk::activities::{self, ActivityError, ActivityView};
use keting_desk::records::{ActivityState, Role};
use slint::{ComponentHandle, ModelRc, VecModel};

use super::language::Language;
use super::scanned_member::member_of;
use super::shell::{self, State};
use super::{ActivitiesAdapter, ActivitiesStep, ActivityRow, KioskWindow};
use crate::controller::activities::{ActivitiesPage, Step, Tap, tap};
use crate::controller::router::{ScanMeans, Screen};
use crate::words::{tr, tr_args};

/// Days ahead the list shows.
const DAYS_AHEAD: i64 = 7;

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

fn message(window: &KioskWindow, text: &str, ok: bool) {
    let adapter = window.global::<ActivitiesAdapter>();
    adapter.set_message(text.into());
    adapter.set_message_ok(ok);
}

fn set_step(window: &KioskWindow, state: &Rc<RefCell<State>>, step: Step) {
    window.global::<ActivitiesAdapter>().set_step(match step {
        Step::Scan => ActivitiesStep::Scan,
        Step::List => ActivitiesStep::List,
    });
    if step == Step::Scan {
        state.borrow_mut().activities = ActivitiesPage::default();
    }
}

/// An activity refusal in the screen's words.
pub(super) fn refusal_words(zh: bool, e: &ActivityError) -> String {
    use ActivityRefusal as R;
    match e {
        ActivityError::Refused(r) => match r {
            R::Started => tr(zh, "It has started: sign-up is closed"),
            R::AlreadySignedUp => tr(zh, "You are already signed up"),
            R::VolunteersOnly => tr(zh, "This one is for volunteers"),
            R::NotOpen { state: "cancelled" } => tr(zh, "This activity is cancelled"),
            R::NotOpen { .. } => tr(zh, "This activity is over"),
            R::NotSignedUp => tr(zh, "You are not signed up"),
            R::TooLateToCancel => tr(zh, "It has started: a place can no longer be given up"),
            R::NotOpenYet { opens_days } => {
                tr_args(zh, "Sign-up opens {0} days before", &[opens_days])
            }
            R::NotOnNow => tr(zh, "Nothing is on in this room now"),
            R::Full => tr(zh, "Every place is taken"),
            other => {
                tracing::warn!("activities page: {other}");
                tr(zh, "Not possible: please ask staff")
            }
        },
        ActivityError::UnknownActivity(_) => tr(zh, "This activity is no longer on the list"),
        ActivityError::Forbidden(_) | ActivityError::UnknownMember(_) => {
            tr(zh, "This is not a pass of this centre")
        }
        other => {
            tracing::error!("activities page: {other}");
            tr(zh, "Not working right now: please ask staff")
        }
    }
}

fn hhmm(state: &Rc<RefCell<State>>, t: Timestamp) -> String {
    let l = state.borrow().desk.site().calendar.local(t);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

fn when(state: &Rc<RefCell<State>>, t: Timestamp, now: Timestamp) -> String {
    let zh = zh(state);
    let cal = state.borrow().desk.site().calendar;
    let (day, today) = (cal.date_of(t), cal.date_of(now));
    let label = match (day - today).whole_days() {
        0 => tr(zh, "Today"),
        1 => tr(zh, "Tomorrow"),
        _ => state.borrow().language.format_day_column(day),
    };
    format!("{label} {}", hhmm(state, t))
}

/// The list, with what each tap does, for the member on the page.
fn rows(
    state: &Rc<RefCell<State>>,
    now: Timestamp,
) -> Result<Vec<(ActivityView, Option<Standing>, u32)>, ActivityError> {
    let Some((member, _)) = state
        .borrow()
        .activities
        .member()
        .map(|(m, n)| (m, n.to_owned()))
    else {
        return Ok(Vec::new());
    };
    let s = state.borrow();
    let store = s.desk.store();
    let span = Span {
        start: now,
        end: Timestamp::from_unix_millis(now.as_unix_millis() + DAYS_AHEAD * 86_400_000),
    };
    let mine = activities::of_member(store, member, now)?;
    let volunteer = keting_desk::members::get(store, member)
        .map(|m| m.roles.contains(&Role::Volunteer))
        .unwrap_or(false);
    let mut out = Vec::new();
    for v in activities::programme(store, span, now)? {
        let standing = mine
            .iter()
            .find(|(r, _)| r.id == v.record.id)
            .map(|(_, st)| *st);
        // What they cannot sign up for is not offered: a closed or
        // cancelled activity, a volunteer shift to a resident (unless
        // they are on its list).
        let for_them = v.record.plan.audience != Audience::Volunteers || volunteer;
        if standing.is_none() && (v.record.state != ActivityState::Open || !for_them) {
            continue;
        }
        let turn = match standing {
            Some(Standing::Waiting) => {
                let list = activities::list_of(store, v.record.id)?;
                let ahead = list
                    .iter()
                    .take_while(|(e, _)| e.member != member)
                    .filter(|(e, _)| e.standing == Standing::Waiting)
                    .count();
                u32::try_from(ahead + 1).unwrap_or(u32::MAX)
            }
            _ => 0,
        };
        out.push((v, standing, turn));
    }
    Ok(out)
}

/// Reads the list again and shows it.
fn show_list(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let now = shell::now(state);
    let zh = zh(state);
    let found = rows(state, now);
    let list = match found {
        Ok(l) => l,
        Err(e) => {
            message(window, &refusal_words(zh, &e), false);
            Vec::new()
        }
    };
    let lang = state.borrow().language;
    let shown: Vec<ActivityRow> = list
        .iter()
        .map(|(v, standing, turn)| {
            let p = &v.record.plan;
            let t = tap(v, *standing, now);
            let status = match (&v.record.state, standing) {
                (ActivityState::Cancelled(reason), _) => tr_args(zh, "Cancelled: {0}", &[reason]),
                (_, Some(Standing::Place)) => tr(zh, "You have a place"),
                (_, Some(Standing::Offered { until })) => tr_args(
                    zh,
                    "A place is kept for you until {0}",
                    &[&hhmm(state, *until)],
                ),
                (_, Some(Standing::Waiting)) => {
                    tr_args(zh, "On the waiting list: number {0}", &[turn])
                }
                _ if t == Tap::SignUp => tr_args(zh, "{0} places left", &[&v.places_left]),
                _ => tr_args(zh, "Full: {0} waiting", &[&v.waiting]),
            };
            let (code, label) = match t {
                Tap::SignUp => ("signup", tr(zh, "Sign up")),
                Tap::Join => ("join", tr(zh, "Join the waiting list")),
                Tap::TakeOffer => ("take", tr(zh, "Take the place")),
                Tap::Cancel if *standing == Some(Standing::Waiting) => {
                    ("cancel", tr(zh, "Leave the waiting list"))
                }
                Tap::Cancel => ("cancel", tr(zh, "Give up my place")),
                Tap::Nothing => ("", String::new()),
            };
            ActivityRow {
                id: i32::try_from(v.record.id).unwrap_or(0),
                when: when(state, p.starts, now).into(),
                title: match lang {
                    Language::Chinese => p.title_zh.as_str().into(),
                    Language::English => p.title_en.as_str().into(),
                },
                place: p.room.as_str().into(),
                status: status.into(),
                mine: standing.is_some(),
                tap: code.into(),
                tap_label: label.into(),
            }
        })
        .collect();
    let adapter = window.global::<ActivitiesAdapter>();
    adapter.set_rows(ModelRc::new(VecModel::from(shown)));
}

/// Opens the page at its first step: scan your pass.
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    message(window, "", true);
    set_step(window, state, Step::Scan);
    shell::show_page(window, state, Screen::Activities);
}

/// A scan on the page: the list for that member.
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    match member_of(state, text) {
        Ok((id, name)) => {
            state.borrow_mut().activities.scanned(id, name.clone());
            window.global::<ActivitiesAdapter>().set_member(name.into());
            message(window, "", true);
            set_step(window, state, Step::List);
            show_list(window, state);
        }
        Err(why) => message(window, &why, false),
    }
}

/// A tap on activity `id`: what the list offered for it, done now.
pub(super) fn tap_on(window: &KioskWindow, state: &Rc<RefCell<State>>, id: i64) {
    let now = shell::now(state);
    let zh = zh(state);
    let Some((member, _)) = state
        .borrow()
        .activities
        .member()
        .map(|(m, n)| (m, n.to_owned()))
    else {
        return;
    };
    let current = rows(state, now).ok().and_then(|l| {
        l.into_iter()
            .find(|(v, _, _)| v.record.id == id)
            .map(|(v, st, _)| tap(&v, st, now))
    });
    let actor = Actor::Member(member);
    let done = {
        let mut s = state.borrow_mut();
        let store = s.desk.store_mut();
        match current {
            Some(Tap::SignUp | Tap::Join | Tap::TakeOffer) => activities::sign_up(
                store, actor, id, member, now,
            )
            .map(|o| match o {
                SignedUp::Place => tr(zh, "Signed up: see you there"),
                SignedUp::Waiting(n) => tr_args(
                    zh,
                    "On the waiting list: number {0}. If a place frees up, it is kept for you here",
                    &[&n],
                ),
            }),
            Some(Tap::Cancel) => activities::cancel_place(store, actor, id, member, now)
                .map(|()| tr(zh, "Given up: the place goes to the next person")),
            Some(Tap::Nothing) | None => Ok(String::new()),
        }
    };
    match done {
        Ok(text) => message(window, &text, true),
        Err(e) => message(window, &refusal_words(zh, &e), false),
    }
    show_list(window, state);
}

/// Wires the activities page's callbacks and its scans (whose activities).
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<ActivitiesAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_open() => touched |w, s| open(w, s));
    shell::wire!(b, adapter.on_tap(id) => touched |w, s| tap_on(w, s, i64::from(id)));
    state
        .borrow_mut()
        .hooks
        .scan(ScanMeans::ActivitiesMember, scan);
}
