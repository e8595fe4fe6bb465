//! The staff's service desk on the screen (from the staff page): the piano
//! banks and the robot as the centre hears them (unavailable when it does
//! not), robot sessions waiting for a check (one tap clears each, audited
//! with the staff member), and residents' ratings per service over 30 days.

use std::cell::RefCell;
use std::rc::Rc;

use keting_core::booking::ResourceKind;
use keting_core::time::Timestamp;
use slint::{ComponentHandle, ModelRc, VecModel};

use super::kiosk_adapter::State;
use crate::controller::router::Screen;
use super::language::Language;
use super::staff_adapter::as_staff;
use super::{DeskRow, KioskAdapter, KioskWindow};
use keting_centre::service::device_states::Availability;
use keting_centre::clock;
use keting_centre::desk;
use keting_centre::store::{bookings, ratings, resources};

/// Ratings are summed over this many days.
const RATING_DAYS: i64 = 30;

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

/// Opens the page.
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    window.global::<KioskAdapter>().set_desk_message("".into());
    refresh(window, state);
    super::kiosk_adapter::show_page(window, state, Screen::ServiceDesk);
}

fn kind_name(zh: bool, k: ResourceKind) -> &'static str {
    match (zh, k) {
        (true, ResourceKind::Piano) => "钢琴",
        (true, ResourceKind::Robot) => "艾灸机器人",
        (true, ResourceKind::Childcare) => "临时托管",
        (true, ResourceKind::Room) => "场地",
        (false, ResourceKind::Piano) => "Pianos",
        (false, ResourceKind::Robot) => "Robot",
        (false, ResourceKind::Childcare) => "Childcare",
        (false, ResourceKind::Room) => "Rooms",
    }
}

/// Why a session ended, for staff.
fn reason_words(zh: bool, reason: &str) -> String {
    match (zh, reason) {
        (true, "time_up") => "到时结束".into(),
        (true, "ended_early") => "提前结束".into(),
        (true, "stopped") => "被停止".into(),
        (false, "time_up") => "ran to its end".into(),
        (false, "ended_early") => "ended early".into(),
        (false, "stopped") => "stopped".into(),
        (_, other) => other.into(),
    }
}

/// Fills the page from the centre's view and the database.
pub(super) fn refresh(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let zh = zh(state);
    let now = clock::now();
    let s = state.borrow();
    let conn = s.desk.store().conn();
    let all = resources::list(conn, None).unwrap_or_default();
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
            let name = kind.map_or(id.as_str(), |k| kind_name(zh, k));
            let view = heard.iter().find(|d| &d.id == id);
            let (detail, attention) = match view {
                Some(d) if d.availability == Availability::Online => match (&d.state, &d.fault) {
                    (Some(st), _) if st == "unavailable" => (
                        if zh {
                            "硬件无响应".to_owned()
                        } else {
                            "hardware not answering".to_owned()
                        },
                        true,
                    ),
                    (_, Some(f)) => (
                        if zh {
                            format!("故障：{f}")
                        } else {
                            format!("fault: {f}")
                        },
                        true,
                    ),
                    _ => (
                        if zh {
                            format!("在线 · {}/{} 在用", d.in_use.0, d.in_use.1)
                        } else {
                            format!("online · {} of {} in use", d.in_use.0, d.in_use.1)
                        },
                        false,
                    ),
                },
                Some(_) => (
                    if zh {
                        "离线".to_owned()
                    } else {
                        "offline".to_owned()
                    },
                    true,
                ),
                None => (
                    if zh {
                        "未连接".to_owned()
                    } else {
                        "not connected".to_owned()
                    },
                    true,
                ),
            };
            DeskRow {
                id: 0,
                text: format!("{name} ({id})").into(),
                detail: detail.into(),
                attention,
            }
        })
        .collect();
    let checks: Vec<DeskRow> = bookings::to_check(conn)
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
    let rated: Vec<DeskRow> = ratings::per_service(conn, since)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let share = r.satisfied * 100 / r.count.max(1);
            DeskRow {
                id: 0,
                text: kind_name(zh, r.kind).into(),
                detail: if zh {
                    format!(
                        "{}.{:02} 分 · {} 次评价 · {share}% 满意",
                        r.average_x100 / 100,
                        r.average_x100 % 100,
                        r.count
                    )
                } else {
                    format!(
                        "{}.{:02} · {} ratings · {share}% satisfied",
                        r.average_x100 / 100,
                        r.average_x100 % 100,
                        r.count
                    )
                }
                .into(),
                attention: share < 80,
            }
        })
        .collect();
    drop(s);
    let adapter = window.global::<KioskAdapter>();
    adapter.set_desk_devices(ModelRc::new(VecModel::from(devices)));
    adapter.set_desk_to_check(ModelRc::new(VecModel::from(checks)));
    adapter.set_desk_ratings(ModelRc::new(VecModel::from(rated)));
}

/// "Checked": the device was looked at after booking `id`.
pub(super) fn clear(window: &KioskWindow, state: &Rc<RefCell<State>>, id: i32) {
    let zh = zh(state);
    let now = clock::now();
    let done = as_staff(state, "clear a session", |store, actor, _| {
        desk::bookings::clear(store, actor, i64::from(id), now)
    });
    let message = match done {
        Some(_) if zh => "已记录检查".to_owned(),
        Some(_) => "Check recorded".to_owned(),
        None if zh => "没有保存，请再试一次".to_owned(),
        None => "Not saved; please try again".to_owned(),
    };
    window
        .global::<KioskAdapter>()
        .set_desk_message(message.into());
    refresh(window, state);
}
