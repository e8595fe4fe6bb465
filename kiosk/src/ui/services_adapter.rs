//! Pianos and bookings on the screen: the pass scanned, the services (the
//! pianos to play now, the robot, childcare and rooms to book), the
//! member's bookings with what can be done to them now (start, cancel,
//! end), a one-tap rating of the last session; a service's week of slots
//! (free, full, mine, waiting, past); a confirmation with what it costs;
//! the outcome in words.
//!
//! Every decision is the store's (`bookings`, `walk_up`, `ratings`), taken
//! in one write transaction; the centre then tells the devices. A piano
//! whose bank is offline is never given (the centre's view says which).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use keting_core::booking::slots::slots_on;
use keting_core::booking::{BookingState, Charge, ResourceKind};
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use slint::{ComponentHandle, ModelRc, VecModel};
use time::Date;

use super::kiosk_adapter::State;
use crate::controller::router::Screen;
use super::language::Language;
use super::scanned_member::member_of;
use super::{KioskAdapter, KioskWindow, MyBooking, ServiceTile, ServicesStep, WeekCell, WeekDay};
use keting_centre::clock;
use keting_centre::desk::bookings::CancelAs;
use keting_centre::desk::{self, Actor};
use keting_centre::store::bookings::{self, Booking};
use keting_centre::store::resources::{self, ResourceRecord};
use keting_centre::store::walk_up::{self, WalkUp};
use keting_centre::store::{StoreError, ratings};

/// The page goes home after this long untouched.
pub const SERVICES_IDLE: Duration = crate::controller::router::RESIDENT_IDLE;
/// How long the outcome stays up.
pub const OUTCOME_SHOWN: Duration = Duration::from_secs(15);
/// Days in the week view (fewer in large-text mode, so each is readable).
const WEEK_DAYS: i64 = 7;
const WEEK_DAYS_LARGE_TEXT: i64 = 4;
/// How far ahead bookings can be made, days.
const BOOK_AHEAD_DAYS: i64 = 28;

fn days_shown(window: &KioskWindow) -> i64 {
    if window.global::<super::Theme>().get_large_text() {
        WEEK_DAYS_LARGE_TEXT
    } else {
        WEEK_DAYS
    }
}

/// The member on the page and what they are looking at.
#[derive(Clone, Debug, Default)]
pub(super) struct ServicesSession {
    /// The step shown, kept here (the window only displays it).
    step: Step,
    member: Option<(MemberId, String)>,
    resource: Option<String>,
    first_day: Option<Date>,
    picked: Option<(Timestamp, bool)>,
    to_rate: Option<i64>,
}

/// The steps of the services page, as the window shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Step {
    #[default]
    Scan,
    Menu,
    Week,
    Confirm,
    Done,
}

/// Shows `step`, remembering it.
fn set_step(window: &KioskWindow, state: &Rc<RefCell<State>>, step: Step) {
    state.borrow_mut().services.step = step;
    window.global::<KioskAdapter>().set_services_step(match step {
        Step::Scan => ServicesStep::Scan,
        Step::Menu => ServicesStep::Menu,
        Step::Week => ServicesStep::Week,
        Step::Confirm => ServicesStep::Confirm,
        Step::Done => ServicesStep::Done,
    });
}

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

fn t(zh: bool, chinese: &str, english: &str) -> String {
    if zh { chinese.into() } else { english.into() }
}

fn message(window: &KioskWindow, text: &str) {
    let adapter = window.global::<KioskAdapter>();
    adapter.set_services_message(text.into());
    adapter.set_services_note("".into());
}

fn hhmm(state: &Rc<RefCell<State>>, ts: Timestamp) -> String {
    let l = state.borrow().desk.site().calendar.local(ts);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

fn day_label(state: &Rc<RefCell<State>>, day: Date, today: Date) -> String {
    let zh = zh(state);
    match (day - today).whole_days() {
        0 => t(zh, "今天", "Today"),
        1 => t(zh, "明天", "Tomorrow"),
        // "周二 24日" (short enough for a column); "Tue 24 Nov".
        _ if zh => {
            let wd = ["一", "二", "三", "四", "五", "六", "日"]
                [usize::from(day.weekday().number_days_from_monday())];
            format!("周{wd} {}日", day.day())
        }
        _ => state.borrow().language.format_date(day),
    }
}

fn when(state: &Rc<RefCell<State>>, b: &Booking) -> String {
    let cal = state.borrow().desk.site().calendar;
    let today = cal.date_of(clock::now());
    format!(
        "{} {}-{}",
        day_label(state, cal.date_of(b.slot.start), today),
        hhmm(state, b.slot.start),
        hhmm(state, b.slot.end)
    )
}

fn state_words(zh: bool, s: BookingState) -> String {
    let (c, e) = match s {
        BookingState::Waiting => ("候补中", "waiting list"),
        BookingState::Booked => ("已预约", "booked"),
        BookingState::Started => ("进行中", "in progress"),
        BookingState::ToCheck | BookingState::Done => ("已结束", "over"),
        BookingState::Failed => ("设备故障，已退回", "device fault, given back"),
        BookingState::Cancelled => ("已取消", "cancelled"),
        BookingState::Released => ("未到，已释放", "not started, released"),
        BookingState::Lapsed => ("候补未成", "not promoted"),
    };
    t(zh, c, e)
}

/// What a charge is, in words.
fn charge_words(zh: bool, c: Charge) -> String {
    match c {
        Charge::Free => t(zh, "免费", "Free"),
        Charge::Points { points } => {
            if zh {
                format!("{points} 积分（开始后扣除）")
            } else {
                format!("{points} points (spent when it starts)")
            }
        }
        Charge::Yuan { fen, trial } => {
            let yuan = format!("{}.{:02}", fen / 100, fen % 100);
            match (zh, trial) {
                (true, true) => format!("首次体验价 {yuan} 元，到前台付款"),
                (true, false) => format!("{yuan} 元，到前台付款"),
                (false, true) => format!("Trial price {yuan} yuan, pay at the desk"),
                (false, false) => format!("{yuan} yuan, pay at the desk"),
            }
        }
        Charge::Package { .. } => t(zh, "用套餐 1 次", "1 session of your package"),
    }
}

/// The store's refusal in the resident's words.
fn refusal_words(zh: bool, e: &StoreError) -> String {
    use keting_core::booking::BookingRefusal as R;
    match e {
        StoreError::Booking(R::ClosedNow { .. }) if !zh => "Closed now".into(),
        StoreError::Booking(r) if zh => match r {
            R::SlotPast => "这个时段已过，请选之后的".into(),
            R::Full => "这个时段已满".into(),
            R::AlreadyBooked => "您已预约这个时段".into(),
            R::OverDailyLimit { limit } => format!("每天最多 {limit} 次，请选别的日子"),
            R::OverWeeklyLimit { limit } => format!("每周最多 {limit} 次，请选下周"),
            R::PackageExpired => "您的套餐已过期，请到前台续购".into(),
            R::PackageUsedUp => "您的套餐次数已用完，请到前台续购".into(),
            R::TooLateToCancel { hours } => {
                format!("开始前 {hours} 小时内不能自行取消，请找工作人员")
            }
            R::NotBooked(_) => "这个预约现在不能这样操作".into(),
            R::NotStartedInTime => "没有按时开始，位置已给下一位".into(),
            R::TooEarly { minutes } => format!("开始前 {minutes} 分钟才能签到"),
            R::ClosedNow { .. } => "现在不开放".into(),
            R::WalkUpNotFree => "这项服务要先预约".into(),
        },
        StoreError::Booking(r) => {
            let s = r.to_string();
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
        StoreError::Points(_) if zh => "积分不够".into(),
        other => {
            tracing::error!("services page: {other}");
            t(
                zh,
                "暂时无法办理，请联系工作人员",
                "Not working right now: please ask staff",
            )
        }
    }
}

/// Opens the page at its first step: scan your pass.
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    state.borrow_mut().services = ServicesSession::default();
    message(window, "");
    set_step(window, state, Step::Scan);
    super::kiosk_adapter::show_page(window, state, Screen::Services);
}

/// A scan on the page: the member's menu (another member's scan starts over).
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    match member_of(state, text) {
        Ok(member) => {
            state.borrow_mut().services = ServicesSession {
                member: Some(member),
                ..ServicesSession::default()
            };
            message(window, "");
            show_menu(window, state);
        }
        Err(why) => {
            message(window, why);
            if state.borrow().services.step != Step::Scan {
                set_step(window, state, Step::Scan);
            }
        }
    }
}

fn unavailable(state: &Rc<RefCell<State>>) -> Vec<String> {
    state
        .borrow()
        .doors
        .as_ref()
        .map(|rx| rx.borrow().unavailable.clone())
        .unwrap_or_default()
}

fn member(state: &Rc<RefCell<State>>) -> Option<MemberId> {
    state.borrow().services.member.as_ref().map(|(m, _)| *m)
}

/// The services, the member's bookings, a rating to give.
fn show_menu(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let Some((who, name)) = state.borrow().services.member.clone() else {
        return;
    };
    let zh = zh(state);
    let now = clock::now();
    let down = unavailable(state);
    let read = {
        let s = state.borrow();
        let conn = s.desk.store().conn();
        (|| {
            let all = resources::list(conn, None)?;
            let mine = bookings::of_member(conn, who, now)?;
            let to_rate = ratings::to_rate(conn, who, now)?;
            let queue = walk_up::queue_length(conn, ResourceKind::Piano)?;
            // Taken (by a session in progress or one kept for the queue) or
            // on a bank the centre cannot reach: not free.
            let taken = walk_up::in_use(conn, ResourceKind::Piano)?;
            let busy = all
                .iter()
                .filter(|r| r.resource.kind == ResourceKind::Piano)
                .filter(|r| {
                    let id = r.resource.id.as_str();
                    taken.iter().any(|t| t == id) || down.iter().any(|d| d == id)
                })
                .count();
            Ok::<_, StoreError>((all, mine, to_rate, queue, busy))
        })()
    };
    let (all, mine, to_rate, queue, busy) = match read {
        Ok(r) => r,
        Err(e) => {
            message(window, &refusal_words(zh, &e));
            return;
        }
    };
    let pianos: Vec<&ResourceRecord> = all
        .iter()
        .filter(|r| r.resource.kind == ResourceKind::Piano)
        .collect();
    let mut tiles = Vec::new();
    if let Some(first) = pianos.first() {
        let free = pianos.len() - busy.min(pianos.len());
        let minutes = first.session.as_secs() / 60;
        let detail = match (zh, queue) {
            (true, 0) => format!("空闲 {free}/{} · 每次 {minutes} 分钟 · 免费", pianos.len()),
            (true, q) => format!("空闲 {free}/{} · {q} 人排队", pianos.len()),
            (false, 0) => format!("{free} of {} free · {minutes} min · free", pianos.len()),
            (false, q) => format!("{free} of {} free · {q} waiting", pianos.len()),
        };
        tiles.push(ServiceTile {
            id: "piano".into(),
            name: t(zh, "弹钢琴", "Play a piano").into(),
            detail: detail.into(),
            walk_up: true,
        });
    }
    for r in all
        .iter()
        .filter(|r| r.resource.kind != ResourceKind::Piano)
    {
        let res = &r.resource;
        let price = match (res.trial_price, res.price) {
            (Some(trial), _) => {
                charge_words(zh, keting_core::booking::rules::price_charge(trial, true))
            }
            (None, p) => charge_words(zh, keting_core::booking::rules::price_charge(p, false)),
        };
        tiles.push(ServiceTile {
            id: res.id.as_str().into(),
            name: res.name(zh).into(),
            detail: price.into(),
            walk_up: false,
        });
    }
    let policy = desk::bookings::rules(state.borrow().desk.store()).unwrap_or_default();
    let rows: Vec<MyBooking> = mine
        .iter()
        .filter(|b| {
            matches!(
                b.state,
                BookingState::Waiting | BookingState::Booked | BookingState::Started
            )
        })
        .map(|b| {
            let what = all
                .iter()
                .find(|r| r.resource.id.as_str() == b.resource)
                .map_or(b.resource.clone(), |r| r.resource.name(zh).to_owned());
            let start_by = b.start_by.unwrap_or(b.slot.end);
            MyBooking {
                id: i32::try_from(b.id).unwrap_or(0),
                what: what.into(),
                when: when(state, b).into(),
                state: state_words(zh, b.state).into(),
                can_start: keting_core::booking::rules::check_in(
                    &policy, b.state, b.slot, start_by, now,
                )
                .is_ok(),
                can_cancel: matches!(b.state, BookingState::Waiting | BookingState::Booked)
                    && keting_core::booking::rules::cancel(&policy, b.state, b.slot, now, false)
                        .is_ok(),
                can_end: b.state == BookingState::Started,
            }
        })
        .collect();
    let rate_what = to_rate.as_ref().map_or(String::new(), |b| {
        all.iter()
            .find(|r| r.resource.id.as_str() == b.resource)
            .map_or(b.resource.clone(), |r| r.resource.name(zh).to_owned())
    });
    state.borrow_mut().services.to_rate = to_rate.map(|b| b.id);
    let adapter = window.global::<KioskAdapter>();
    adapter.set_services_member(name.as_str().into());
    adapter.set_service_tiles(ModelRc::new(VecModel::from(tiles)));
    adapter.set_my_bookings(ModelRc::new(VecModel::from(rows)));
    adapter.set_rate_what(rate_what.into());
    set_step(window, state, Step::Menu);
}

/// A tap on a service: play a piano now, or open the service's week.
pub(super) fn tile(window: &KioskWindow, state: &Rc<RefCell<State>>, id: &str) {
    let Some(who) = member(state) else { return };
    if id == "piano" {
        play(window, state, who);
        return;
    }
    let cal = state.borrow().desk.site().calendar;
    {
        let mut s = state.borrow_mut();
        s.services.resource = Some(id.to_owned());
        s.services.first_day = Some(cal.date_of(clock::now()));
    }
    message(window, "");
    show_week(window, state);
}

fn done(
    window: &KioskWindow,
    state: &Rc<RefCell<State>>,
    ok: bool,
    headline: &str,
    detail: &str,
    end_booking: Option<i64>,
) {
    let adapter = window.global::<KioskAdapter>();
    adapter.set_services_ok(ok);
    adapter.set_services_headline(headline.into());
    adapter.set_services_message(detail.into());
    adapter.set_services_end_booking(end_booking.and_then(|b| i32::try_from(b).ok()).unwrap_or(0));
    set_step(window, state, Step::Done);
    super::kiosk_adapter::stay(window, state, OUTCOME_SHOWN);
}

fn resource_name(state: &Rc<RefCell<State>>, id: &str) -> String {
    let zh = zh(state);
    resources::get(state.borrow().desk.store().conn(), id)
        .ok()
        .flatten()
        .map_or(id.to_owned(), |r| r.resource.name(zh).to_owned())
}

fn play(window: &KioskWindow, state: &Rc<RefCell<State>>, who: MemberId) {
    let zh = zh(state);
    let down = unavailable(state);
    let (cal, now) = (state.borrow().desk.site().calendar, clock::now());
    let got = desk::bookings::play_piano(state.borrow_mut().desk.store_mut(), Actor::Member(who), who, &down, cal, now);
    match got {
        Ok(WalkUp::Started(b)) => {
            let piano = resource_name(state, &b.resource);
            let until = hhmm(state, b.slot.end);
            done(
                window,
                state,
                true,
                &if zh {
                    format!("请到 {piano}")
                } else {
                    format!("Please go to {piano}")
                },
                &if zh {
                    format!("可弹到 {until}，结束前 5 分钟提醒，到时钢琴自动关闭")
                } else {
                    format!(
                        "Play until {until}; a warning 5 minutes before, then the piano switches off"
                    )
                },
                Some(b.id),
            );
        }
        Ok(WalkUp::AlreadyPlaying(b)) => {
            let piano = resource_name(state, &b.resource);
            let until = hhmm(state, b.slot.end);
            done(
                window,
                state,
                true,
                &if zh {
                    format!("您正在弹 {piano}")
                } else {
                    format!("You are playing {piano}")
                },
                &if zh {
                    format!("可弹到 {until}")
                } else {
                    format!("Until {until}")
                },
                Some(b.id),
            );
        }
        Ok(WalkUp::Queued { position }) => done(
            window,
            state,
            true,
            &if zh {
                format!("排队第 {position} 位")
            } else {
                format!("Number {position} in the queue")
            },
            &t(
                zh,
                "有空琴时会为您保留 10 分钟，请回来再扫码开始",
                "When a piano frees it is kept for you for 10 minutes: come back and scan to start",
            ),
            None,
        ),
        Err(e) => done(
            window,
            state,
            false,
            &t(zh, "现在不能弹琴", "Cannot play now"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// The week of the resource being booked.
fn show_week(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let zh = zh(state);
    let (Some(who), Some(id), Some(first)) = (
        member(state),
        state.borrow().services.resource.clone(),
        state.borrow().services.first_day,
    ) else {
        return;
    };
    let (cal, now) = (state.borrow().desk.site().calendar, clock::now());
    let read = {
        let s = state.borrow();
        let conn = s.desk.store().conn();
        (|| {
            let r = resources::require(conn, &id)?;
            let from = cal.start_of(first);
            let to = Timestamp::from_unix_millis(
                from.as_unix_millis() + days_shown(window) * 86_400_000,
            );
            Ok::<_, StoreError>((r, bookings::of_resource(conn, &id, from, to)?))
        })()
    };
    let (r, booked) = match read {
        Ok(x) => x,
        Err(e) => {
            message(window, &refusal_words(zh, &e));
            return;
        }
    };
    let mut days = Vec::new();
    for d in 0..days_shown(window) {
        let day = first + time::Duration::days(d);
        let cells: Vec<WeekCell> = slots_on(&r.resource, cal, day)
            .into_iter()
            .enumerate()
            .map(|(i, slot)| {
                let here: Vec<&Booking> = booked
                    .iter()
                    .filter(|b| b.slot.start == slot.start)
                    .collect();
                let taken = here.iter().filter(|b| b.state.holds_place()).count();
                let left = usize::from(r.resource.capacity).saturating_sub(taken);
                let mine = here.iter().find(|b| {
                    b.member == who && (b.state.holds_place() || b.state == BookingState::Waiting)
                });
                let (st, label) = match mine {
                    Some(b) if b.state == BookingState::Waiting => {
                        ("waiting", t(zh, "候补", "waiting"))
                    }
                    Some(_) => ("mine", t(zh, "我的", "mine")),
                    None if now >= slot.end
                        || now > slot.start.saturating_add(Duration::from_secs(600)) =>
                    {
                        ("past", String::new())
                    }
                    None if left == 0 => ("full", t(zh, "已满", "full")),
                    None if r.resource.capacity > 1 => (
                        "free",
                        if zh {
                            format!("余 {left}")
                        } else {
                            format!("{left} left")
                        },
                    ),
                    None => ("free", t(zh, "可约", "free")),
                };
                WeekCell {
                    day: i32::try_from(d).unwrap_or(0),
                    slot: i32::try_from(i).unwrap_or(0),
                    time: hhmm(state, slot.start).into(),
                    state: st.into(),
                    label: label.into(),
                }
            })
            .collect();
        days.push(WeekDay {
            label: day_label(state, day, cal.date_of(now)).into(),
            cells: ModelRc::new(VecModel::from(cells)),
        });
    }
    let adapter = window.global::<KioskAdapter>();
    adapter.set_week_title(r.resource.name(zh).into());
    adapter.set_week(ModelRc::new(VecModel::from(days)));
    set_step(window, state, Step::Week);
}

/// Earlier or later days in the week view (from today to four weeks ahead).
pub(super) fn shift(window: &KioskWindow, state: &Rc<RefCell<State>>, by: i32) {
    let today = state.borrow().desk.site().calendar.date_of(clock::now());
    let step = days_shown(window) * i64::from(by.signum());
    {
        let mut s = state.borrow_mut();
        let Some(first) = s.services.first_day else {
            return;
        };
        let moved = first + time::Duration::days(step);
        let last = today + time::Duration::days(BOOK_AHEAD_DAYS - days_shown(window));
        s.services.first_day = Some(moved.clamp(today, last.max(today)));
    }
    show_week(window, state);
}

/// A slot tapped in the week: what it would cost, to confirm.
pub(super) fn pick(window: &KioskWindow, state: &Rc<RefCell<State>>, day: i32, slot: i32) {
    let zh = zh(state);
    let (Some(who), Some(id), Some(first)) = (
        member(state),
        state.borrow().services.resource.clone(),
        state.borrow().services.first_day,
    ) else {
        return;
    };
    let (cal, now) = (state.borrow().desk.site().calendar, clock::now());
    let date = first + time::Duration::days(i64::from(day));
    let quote = {
        let s = state.borrow();
        let conn = s.desk.store().conn();
        (|| {
            let r = resources::require(conn, &id)?;
            let slot = slots_on(&r.resource, cal, date)
                .into_iter()
                .nth(usize::try_from(slot).unwrap_or(usize::MAX))
                .ok_or_else(|| StoreError::Invalid("no such slot".into()))?;
            let full = bookings::places_taken(conn, &id, slot.start)? >= r.resource.capacity;
            let charge = bookings::quote(conn, cal, &id, slot.start, who, now)?;
            Ok::<_, StoreError>((r, slot, full, charge))
        })()
    };
    let (r, slot, full, charge) = match quote {
        Ok(q) => q,
        Err(e) => {
            message(window, &refusal_words(zh, &e));
            return;
        }
    };
    state.borrow_mut().services.picked = Some((slot.start, full));
    let when = format!(
        "{} {}-{}",
        state.borrow().language.format_date(date),
        hhmm(state, slot.start),
        hhmm(state, slot.end)
    );
    let name = r.resource.name(zh);
    let adapter = window.global::<KioskAdapter>();
    adapter.set_confirm_title(
        match (zh, full) {
            (true, true) => format!("{name} 已满，加入候补？"),
            (true, false) => format!("预约{name}？"),
            (false, true) => format!("{name} is full: join the waiting list?"),
            (false, false) => format!("Book {name}?"),
        }
        .into(),
    );
    adapter.set_confirm_when(when.into());
    let detail = charge_words(zh, charge);
    adapter.set_confirm_detail(
        if full {
            if zh {
                format!("有人取消时自动为您预约：{detail}")
            } else {
                format!("Booked for you if a place frees: {detail}")
            }
        } else {
            detail
        }
        .into(),
    );
    adapter.set_confirm_wait(full);
    message(window, "");
    set_step(window, state, Step::Confirm);
}

/// "Yes, book it": books (or joins the waiting list).
pub(super) fn confirm(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let zh = zh(state);
    let picked = state.borrow_mut().services.picked.take();
    let resource = state.borrow().services.resource.clone();
    let (Some(who), Some(id), Some((start, wait))) = (member(state), resource, picked) else {
        // A double tap: the first one took it.
        return;
    };
    let (cal, now) = (state.borrow().desk.site().calendar, clock::now());
    let booked = desk::bookings::book(state.borrow_mut().desk.store_mut(), Actor::Member(who), &id, start, who, wait, cal, now);
    let name = resource_name(state, &id);
    match booked {
        Ok(b) => {
            let when = when(state, &b.booking);
            match (b.waiting_position, b.booking.charge) {
                (Some(n), _) => done(
                    window,
                    state,
                    true,
                    &if zh {
                        format!("已加入候补，第 {n} 位")
                    } else {
                        format!("On the waiting list, number {n}")
                    },
                    &if zh {
                        format!("{name} {when}：有人取消时自动为您预约")
                    } else {
                        format!("{name} {when}: booked for you if a place frees")
                    },
                    None,
                ),
                (None, charge) => done(
                    window,
                    state,
                    true,
                    &t(zh, "预约成功", "Booked"),
                    &format!(
                        "{name} {when} · {}",
                        charge.map(|c| charge_words(zh, c)).unwrap_or_default()
                    ),
                    None,
                ),
            }
        }
        Err(e) => done(
            window,
            state,
            false,
            &t(zh, "没有预约成功", "Not booked"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// "Go back": from the confirmation to the week, from the week to the menu.
pub(super) fn back(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    state.borrow_mut().services.picked = None;
    message(window, "");
    if state.borrow().services.step == Step::Confirm {
        show_week(window, state);
    } else {
        show_menu(window, state);
    }
}

/// "Start": checks the member in for a booking that may start now.
pub(super) fn start(window: &KioskWindow, state: &Rc<RefCell<State>>, booking: i64) {
    let zh = zh(state);
    let Some(who) = member(state) else { return };
    let (cal, now) = (state.borrow().desk.site().calendar, clock::now());
    let result = desk::bookings::start_booking(state.borrow_mut().desk.store_mut(), Actor::Member(who), booking, cal, now);
    match result {
        Ok(b) => {
            let name = resource_name(state, &b.resource);
            let until = hhmm(state, b.slot.end);
            done(
                window,
                state,
                true,
                &if zh {
                    format!("{name} 开始了")
                } else {
                    format!("{name} has started")
                },
                &if zh {
                    format!("到 {until} 结束")
                } else {
                    format!("Until {until}")
                },
                Some(b.id),
            );
        }
        Err(e) => done(
            window,
            state,
            false,
            &t(zh, "没有开始", "Not started"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// "Cancel": the member cancels (inside the window only staff can).
pub(super) fn cancel(window: &KioskWindow, state: &Rc<RefCell<State>>, booking: i64) {
    let zh = zh(state);
    let Some(who) = member(state) else { return };
    let (cal, now) = (state.borrow().desk.site().calendar, clock::now());
    let result = desk::bookings::cancel(
        state.borrow_mut().desk.store_mut(),
        Actor::Member(who),
        booking,
        CancelAs::Member,
        cal,
        now,
    );
    match result {
        Ok(c) => done(
            window,
            state,
            true,
            &t(zh, "已取消", "Cancelled"),
            &if c.returned {
                t(zh, "费用已退回", "The charge was given back")
            } else {
                String::new()
            },
            None,
        ),
        Err(e) => done(
            window,
            state,
            false,
            &t(zh, "没有取消", "Not cancelled"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// "End now": the member ends their session (the device switches off).
pub(super) fn end(window: &KioskWindow, state: &Rc<RefCell<State>>, booking: i64) {
    let zh = zh(state);
    let Some(who) = member(state) else { return };
    let (cal, now) = (state.borrow().desk.site().calendar, clock::now());
    let result = desk::bookings::end(state.borrow_mut().desk.store_mut(), Actor::Member(who), booking, cal, now);
    match result {
        Ok(b) => {
            let name = resource_name(state, &b.resource);
            done(
                window,
                state,
                true,
                &t(zh, "已结束，谢谢", "Ended, thank you"),
                &if zh {
                    format!("{name} 即将关闭")
                } else {
                    format!("{name} switches off now")
                },
                None,
            );
        }
        Err(e) => done(
            window,
            state,
            false,
            &t(zh, "没有结束", "Not ended"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// One tap on the stars: the rating of the last session.
pub(super) fn rate(window: &KioskWindow, state: &Rc<RefCell<State>>, stars: i32) {
    let zh = zh(state);
    let booking = state.borrow_mut().services.to_rate.take();
    let (Some(who), Some(booking)) = (member(state), booking) else {
        return;
    };
    let now = clock::now();
    let stars = u8::try_from(stars).unwrap_or(0);
    let result = desk::bookings::rate(state.borrow_mut().desk.store_mut(), Actor::Member(who), booking, stars, now);
    show_menu(window, state);
    match result {
        Ok(()) => {
            message(window, "");
            window
                .global::<KioskAdapter>()
                .set_services_note(t(zh, "谢谢您的评价", "Thank you for rating").into());
        }
        Err(e) => message(window, &refusal_words(zh, &e)),
    }
}
