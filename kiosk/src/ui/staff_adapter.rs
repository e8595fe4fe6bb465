//! The staff page: doors, tonight's gym entries, and gym memberships
//! granted, extended and ended from the screen.
//!
//! A staff member's card opens the PIN page, and the card with its PIN
//! opens the staff page (`desk::staff::sign_in`: five wrong PINs lock the
//! card); on it, a scanned pass selects a member
//! instead of checking them in. Every change is one transaction with an
//! audit line naming the staff member; the centre notices the database
//! change and re-publishes the door roster. The page closes after
//! [`STAFF_IDLE`] without a touch or a scan.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use keting_core::door::lock::LockState;
use keting_core::ids::MemberId;
use keting_core::staff::{Forbidden, StaffAction, StaffRole};
use slint::{ComponentHandle, ModelRc, VecModel};

use super::language::Language;
use super::shell::{self, State};
use super::{ClaimRow, DoorRow, EntryRow, GymRow, KioskWindow, StaffAdapter};
use crate::controller::router::{ScanMeans, Screen};
use crate::words::{tr, tr_args};
use keting_centre::service::device_states::{Availability, DoorView, DoorsView};
use keting_desk::gym::GymEnded;
use keting_desk::staff::SignInError;
use keting_desk::{self as desk, Actor};

/// The staff page closes after this long untouched.
pub const STAFF_IDLE: Duration = crate::controller::router::STAFF_IDLE;

/// Whether `member` has a staff role that uses the staff pages.
pub(super) fn is_staff(state: &Rc<RefCell<State>>, member: MemberId) -> bool {
    desk::staff::is_staff(state.borrow().desk.store(), member)
}

/// A staff card was scanned: ask for its PIN.
pub(super) fn ask_pin(
    window: &KioskWindow,
    state: &Rc<RefCell<State>>,
    card: MemberId,
    name: &str,
) {
    state.borrow_mut().staff.ask_pin(card);
    let adapter = window.global::<StaffAdapter>();
    adapter.set_name(name.into());
    adapter.set_pin_entered(0);
    adapter.set_pin_message("".into());
    shell::show_page(window, state, Screen::StaffPin);
}

/// A key of the PIN page: a digit, and at the sixth the sign-in.
pub(super) fn pin_digit(window: &KioskWindow, state: &Rc<RefCell<State>>, digit: &str) {
    let adapter = window.global::<StaffAdapter>();
    let whole = {
        let mut s = state.borrow_mut();
        let whole = digit.chars().next().and_then(|d| s.staff.pin_digit(d));
        adapter.set_pin_entered(i32::try_from(s.staff.pin_entered()).unwrap_or(0));
        whole
    };
    // A wrong PIN's message stays while the next is typed.
    let Some(pin) = whole else {
        return;
    };
    let Some(card) = state.borrow().staff.pin_card() else {
        return;
    };
    let now = shell::now(state);
    let outcome = desk::staff::sign_in(state.borrow_mut().desk.store_mut(), card, &pin, now);
    let w = words(state);
    let message = match outcome {
        Ok(signed_in) => {
            tracing::info!(staff = %signed_in.member, role = %signed_in.role, "staff signed in");
            open(
                window,
                state,
                signed_in.member,
                signed_in.role,
                &signed_in.name,
            );
            return;
        }
        Err(SignInError::Wrong { left }) => w.pin_wrong(left),
        Err(SignInError::Locked { until_ms }) => {
            w.pin_locked(((until_ms - now.as_unix_millis()).max(0) + 59_999) / 60_000)
        }
        Err(SignInError::NoPin) => w.no_pin(),
        Err(
            SignInError::NotStaff
            | SignInError::PinFormat(_)
            | SignInError::NotOneByName
            | SignInError::NoPassword,
        ) => w.failed(),
        Err(SignInError::Store(e)) => {
            tracing::error!("staff sign-in failed: {e}");
            w.failed()
        }
    };
    adapter.set_pin_message(message.into());
}

/// The PIN page's delete key.
pub(super) fn pin_back(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let mut s = state.borrow_mut();
    s.staff.pin_back();
    window
        .global::<StaffAdapter>()
        .set_pin_entered(i32::try_from(s.staff.pin_entered()).unwrap_or(0));
}

/// Opens the staff page for `staff`, offering what `role` may do.
pub(super) fn open(
    window: &KioskWindow,
    state: &Rc<RefCell<State>>,
    staff: MemberId,
    role: StaffRole,
    name: &str,
) {
    {
        state.borrow_mut().staff.open(staff, role);
    }
    let adapter = window.global::<StaffAdapter>();
    adapter.set_name(name.into());
    adapter.set_role(words(state).role(role).into());
    adapter.set_may_gym(role.may(StaffAction::GymMonths));
    adapter.set_may_points(role.may(StaffAction::Points));
    adapter.set_may_restock(role.may(StaffAction::Restock));
    adapter.set_may_bookings(role.may(StaffAction::Bookings));
    adapter.set_may_doors(role.may(StaffAction::OpenDoor));
    adapter.set_may_devices(role.may(StaffAction::Devices));
    adapter.set_message("".into());
    shell::show_page(window, state, Screen::Staff);
    refresh(window, state);
}

/// A scan while the staff page is open: selects the member it names.
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    let claims = state
        .borrow()
        .desk
        .verifier()
        .verify(text.trim(), shell::now(state));
    let message = match claims {
        Ok(c) => {
            let found = keting_desk::members::get(state.borrow().desk.store(), c.member);
            match found {
                Ok(m) if m.epoch == c.epoch => {
                    state.borrow_mut().staff.select(m.id);
                    String::new()
                }
                Ok(m) => words(state).old_pass(&m.name),
                Err(_) => words(state).unknown(),
            }
        }
        Err(_) => words(state).not_a_pass(),
    };
    show_message(window, message);
    refresh(window, state);
}

/// Shows `message` on the staff page.
pub(super) fn show_message(window: &KioskWindow, message: String) {
    window.global::<StaffAdapter>().set_message(message.into());
}

/// Why a staff action on the screen did not happen.
#[derive(Debug)]
pub(super) enum NotDone {
    /// The role of the staff member on the page does not allow it.
    Role(Forbidden),
    /// It failed (logged).
    Failed,
}

impl NotDone {
    /// What the page says.
    pub(super) fn say(&self, zh: bool) -> String {
        let w = Words(if zh {
            Language::Chinese
        } else {
            Language::English
        });
        match self {
            NotDone::Role(f) => w.forbidden(*f),
            NotDone::Failed => w.failed(),
        }
    }
}

/// Runs one desk call, `action`, as the staff member on the page. Refused
/// at once if their role does not allow it (the desk checks again, inside
/// its transaction); a failure is logged.
pub(super) fn as_staff<T, E: std::fmt::Display>(
    state: &Rc<RefCell<State>>,
    action: StaffAction,
    act: impl FnOnce(
        &mut keting_desk::records::Store,
        Actor,
        keting_core::calendar::SiteCalendar,
    ) -> Result<T, E>,
) -> Result<T, NotDone> {
    let mut s = state.borrow_mut();
    let staff = match s.staff.check(action) {
        Ok(staff) => staff,
        Err(refused) => {
            tracing::warn!("staff page: {refused}");
            return Err(NotDone::Role(refused));
        }
    };
    let calendar = s.desk.site().calendar;
    match act(s.desk.store_mut(), Actor::Staff(staff), calendar) {
        Ok(t) => Ok(t),
        Err(e) => {
            tracing::error!("{} failed: {e}", action.describe());
            Err(NotDone::Failed)
        }
    }
}

/// Extends `member`'s gym month (or starts one).
pub(super) fn extend(window: &KioskWindow, state: &Rc<RefCell<State>>, member: MemberId) {
    let now = shell::now(state);
    let done = as_staff(state, StaffAction::GymMonths, |store, actor, calendar| {
        desk::gym::extend_month(store, actor, member, calendar, now)
    });
    let w = words(state);
    let message = match done {
        Ok(paid) => w.extended(&paid.name, &paid.until.to_string()),
        Err(not) => not.say(w.zh()),
    };
    state.borrow_mut().staff.select(member);
    show_message(window, message);
    refresh(window, state);
}

/// Ends `member`'s gym membership.
pub(super) fn revoke(window: &KioskWindow, state: &Rc<RefCell<State>>, member: MemberId) {
    let now = shell::now(state);
    let done = as_staff(state, StaffAction::GymMonths, |store, actor, _| {
        desk::gym::revoke(store, actor, member, now)
    });
    let w = words(state);
    let message = match done {
        Ok(GymEnded::Ended { name } | GymEnded::HadNone { name }) => w.ended(&name),
        Err(not) => not.say(w.zh()),
    };
    show_message(window, message);
    refresh(window, state);
}

/// Asks a door to open for one pulse; the centre sends it.
pub(super) fn open_door(window: &KioskWindow, state: &Rc<RefCell<State>>, door: &str) {
    let now = shell::now(state);
    let done = as_staff(state, StaffAction::OpenDoor, |store, actor, _| {
        let device = desk::doors::door_id(door)?;
        desk::doors::request_open(store, actor, &device, now)
    });
    let w = words(state);
    let message = match done {
        Ok(_) => w.opening(door),
        Err(not) => not.say(w.zh()),
    };
    show_message(window, message);
}

/// Confirms a device's claim (the technician compared the PINs); the
/// centre answers the device.
pub(super) fn confirm_claim(window: &KioskWindow, state: &Rc<RefCell<State>>, device: &str) {
    let now = shell::now(state);
    let done = as_staff(state, StaffAction::Devices, |store, actor, _| {
        let id = desk::doors::door_id(device).map_err(|e| e.to_string())?;
        desk::claims::confirm(store, actor, &id, None, now).map_err(|e| e.to_string())
    });
    let w = words(state);
    let message = match done {
        Ok(()) => w.claim_confirmed(device),
        Err(not) => not.say(w.zh()),
    };
    show_message(window, message);
}

/// Fills the staff page from the database and the doors view.
pub(super) fn refresh(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let s = state.borrow();
    let adapter = window.global::<StaffAdapter>();
    let w = s.language_words();
    let view = s
        .doors
        .as_ref()
        .map(|rx| rx.borrow().clone())
        .unwrap_or_default();
    let doors: Vec<DoorRow> = view
        .doors
        .iter()
        .map(|d| DoorRow {
            id: d.id.as_str().into(),
            online: view.connected && d.availability == Availability::Online,
            name: d.name.as_str().into(),
            status: w.door_status(d, &view).into(),
            attention: d.needs_attention(),
        })
        .collect();
    adapter.set_doors(ModelRc::new(VecModel::from(doors)));
    let claims: Vec<ClaimRow> = view
        .claims
        .iter()
        .map(|(device, pin)| ClaimRow {
            device: device.as_str().into(),
            pin: keting_core::claim::pin_for_print(pin).into(),
        })
        .collect();
    adapter.set_claims(ModelRc::new(VecModel::from(claims)));
    let cal = s.desk.site().calendar;
    let tonight: Vec<EntryRow> = view
        .tonight
        .iter()
        .map(|e| {
            let t = cal.local(e.at);
            EntryRow {
                time: format!("{:02}:{:02}", t.hour(), t.minute()).into(),
                name: e
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("#{}", e.member))
                    .into(),
            }
        })
        .collect();
    adapter.set_tonight(ModelRc::new(VecModel::from(tonight)));
    let zh = s.language == Language::Chinese;
    let inside: Vec<String> = view
        .inside
        .iter()
        .map(|d| match d.head_count() {
            0 => tr_args(zh, "{0}: nobody inside now", &[&d.name]),
            n => {
                let names: Vec<String> = d
                    .names
                    .iter()
                    .map(|(m, _, since)| {
                        let t = cal.local(*since);
                        format!("{} {:02}:{:02}", d.name_of(*m), t.hour(), t.minute())
                    })
                    .collect();
                tr_args(
                    zh,
                    "{0}: {1} inside now ({2})",
                    &[&d.name, &n.to_string(), &names.join(", ")],
                )
            }
        })
        .collect();
    adapter.set_inside_now(inside.join("\n").into());
    let store = s.desk.store();
    let mut rows: Vec<GymRow> = Vec::new();
    if let Some(selected) = s.staff.selected()
        && let Ok(m) = keting_desk::members::get(store, selected)
    {
        rows.push(GymRow {
            member: i32::try_from(m.id.0).unwrap_or(0),
            name: m.name.as_str().into(),
            paid_until: keting_desk::gym::paid_until(store, m.id)
                .ok()
                .flatten()
                .unwrap_or_default()
                .into(),
            selected: true,
        });
    }
    for g in keting_desk::gym::list(store).unwrap_or_default() {
        if Some(g.id) != s.staff.selected() {
            rows.push(GymRow {
                member: i32::try_from(g.id.0).unwrap_or(0),
                name: g.name.as_str().into(),
                paid_until: g.paid_until.as_str().into(),
                selected: false,
            });
        }
    }
    adapter.set_gym(ModelRc::new(VecModel::from(rows)));
}

/// The staff page's words made in Rust (statuses, confirmations).
pub(super) struct Words(Language);

impl State {
    fn language_words(&self) -> Words {
        Words(self.language)
    }
}

fn words(state: &Rc<RefCell<State>>) -> Words {
    state.borrow().language_words()
}

impl Words {
    fn zh(&self) -> bool {
        self.0 == Language::Chinese
    }

    fn pin_wrong(&self, left: u32) -> String {
        tr_args(self.zh(), "Wrong PIN. {0} tries left", &[&left])
    }

    fn pin_locked(&self, minutes: i64) -> String {
        tr_args(
            self.zh(),
            "Too many wrong PINs: this card is locked for {0} minutes",
            &[&minutes],
        )
    }

    fn no_pin(&self) -> String {
        tr(
            self.zh(),
            "This card has no PIN yet: a manager sets one with `kiosk staff pin`",
        )
    }

    fn door_status(&self, d: &DoorView, view: &DoorsView) -> String {
        let zh = self.zh();
        if !view.connected {
            return tr(zh, "unavailable (kiosk not connected)");
        }
        let mut s = match (d.availability, d.state) {
            (Availability::NeverSeen, _) => tr(zh, "never connected"),
            (Availability::Offline, _) => tr(zh, "offline · unavailable"),
            (Availability::Online, None) => tr(zh, "online"),
            (Availability::Online, Some(state)) => {
                let st = match state {
                    LockState::Unknown => tr(zh, "state unknown"),
                    LockState::Locked => tr(zh, "locked"),
                    LockState::Unlocked => tr(zh, "unlocked"),
                    LockState::Open => tr(zh, "open"),
                    LockState::HeldOpen => tr(zh, "ALARM: held open"),
                    LockState::Forced => tr(zh, "ALARM: forced"),
                    LockState::Released => tr(zh, "FIRE: released until reset"),
                };
                format!("{} · {st}", tr(zh, "online"))
            }
        };
        if d.locked_out {
            s += &tr(zh, " · reader locked out");
        }
        if let Some(f) = &d.fault {
            s += &tr_args(zh, " · fault: {0}", &[&f]);
        }
        s
    }

    fn extended(&self, name: &str, until: &str) -> String {
        tr_args(
            self.zh(),
            "{0}: paid to {1}; the doors update within a second",
            &[&name, &until],
        )
    }

    fn opening(&self, door: &str) -> String {
        tr_args(self.zh(), "{0}: asked to open once", &[&door])
    }

    fn ended(&self, name: &str) -> String {
        tr_args(
            self.zh(),
            "{0}: gym membership ended; day hours only",
            &[&name],
        )
    }

    fn claim_confirmed(&self, device: &str) -> String {
        tr_args(
            self.zh(),
            "{0}: confirmed; the device gets its configuration now",
            &[&device],
        )
    }

    fn failed(&self) -> String {
        tr(self.zh(), "Not saved; please try again")
    }

    /// A role's name.
    fn role(&self, role: StaffRole) -> String {
        let zh = self.zh();
        match role {
            StaffRole::Observer => tr(zh, "observer"),
            StaffRole::Staff => tr(zh, "staff"),
            StaffRole::Technician => tr(zh, "technician"),
            StaffRole::Manager => tr(zh, "manager"),
        }
    }

    /// What a role may not do, and who may.
    fn forbidden(&self, refused: Forbidden) -> String {
        let zh = self.zh();
        let action = match refused.action {
            StaffAction::GymMonths => tr(zh, "change gym months"),
            StaffAction::Points => tr(zh, "award or reverse points"),
            StaffAction::Restock => tr(zh, "restock the drinks machine"),
            StaffAction::Bookings => tr(zh, "change bookings"),
            StaffAction::OpenDoor => tr(zh, "open a door"),
            StaffAction::Devices => tr(zh, "enrol devices"),
            StaffAction::Members => tr(zh, "change members"),
            StaffAction::ManageStaff => tr(zh, "change staff roles and PINs"),
            StaffAction::Alarms => tr(zh, "acknowledge alarms"),
            StaffAction::Activities => tr(zh, "run activities"),
            StaffAction::AlertChannels => tr(zh, "configure where alarms are sent"),
        };
        match refused.role {
            Some(role) => tr_args(
                zh,
                "A {0} may not {1}: ask a manager",
                &[&self.role(role), &action],
            ),
            None => tr_args(zh, "Only staff may {0}", &[&action]),
        }
    }

    fn old_pass(&self, name: &str) -> String {
        tr_args(
            self.zh(),
            "{0}'s old pass was replaced; scan the new one",
            &[&name],
        )
    }

    fn unknown(&self) -> String {
        tr(self.zh(), "No such member")
    }

    fn not_a_pass(&self) -> String {
        tr(self.zh(), "Not a pass of this centre")
    }
}

/// Wires the staff and PIN pages' callbacks, their scans (a pass selects a
/// member) and their redraw when the doors report.
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<StaffAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_door_open(door) => touched |w, s| open_door(w, s, &door));
    shell::wire!(b, adapter.on_pin_digit(digit) => touched |w, s| pin_digit(w, s, &digit));
    shell::wire!(b, adapter.on_pin_back() => touched |w, s| pin_back(w, s));
    shell::wire!(b, adapter.on_claim_confirm(device) => touched |w, s| confirm_claim(w, s, &device));
    shell::wire!(b, adapter.on_gym_extend(member) => touched |w, s| {
        extend(w, s, MemberId(u32::try_from(member).unwrap_or(0)))
    });
    shell::wire!(b, adapter.on_gym_revoke(member) => touched |w, s| {
        revoke(w, s, MemberId(u32::try_from(member).unwrap_or(0)))
    });
    let mut s = state.borrow_mut();
    s.hooks.scan(ScanMeans::SelectMember, scan);
    s.hooks.on_doors(|w, s| {
        if s.borrow().router.screen() == Screen::Staff {
            refresh(w, s);
        }
    });
}
