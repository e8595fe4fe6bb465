//! A resource's week (`/bookings/week?resource=ID&week=YYYY-MM-DD`):
//! Monday to Sunday of the week holding that day, one row per slot time,
//! each cell the places taken of the places offered, who holds them and
//! how many wait. A piano's walk-up sessions count in the window they fall
//! in. Closed times are blank.

use std::collections::BTreeSet;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::booking::session::BookingState;
use keting_core::booking::slots::slots_on;
use time::Duration as Days;

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::{Dashboard, bad_input, html_page, lang, see_other};
use keting_desk as desk;
use keting_link::clock;

/// `?resource=ID&week=YYYY-MM-DD`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct WeekQuery {
    resource: Option<String>,
    week: Option<String>,
}

const WEEKDAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The column heads of a week from Monday: `周一 12-07` / `Mon 12-07`.
pub(super) fn week_heads(lang: Lang, days: &[time::Date]) -> Vec<String> {
    days.iter()
        .enumerate()
        .map(|(i, d)| {
            let w = match lang {
                Lang::Zh => WEEKDAYS_ZH[i % 7],
                Lang::En => WEEKDAYS_EN[i % 7],
            };
            format!("{w} {:02}-{:02}", u8::from(d.month()), d.day())
        })
        .collect()
}

/// `GET /bookings/week`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<WeekQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let cal = d.site().calendar;
    let day = match q.week.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        None => cal.date_of(clock::now()),
        Some(w) => match keting_core::calendar::parse_date(w) {
            Ok(day) => day,
            Err(_) => {
                return bad_input(
                    lang,
                    Some(&who),
                    lang.t("日期格式应为 2026-12-31", "A date is written 2026-12-31"),
                );
            }
        },
    };
    let monday = day - Days::days(i64::from(day.weekday().number_days_from_monday()));
    let resource: String = q.resource.unwrap_or_default().chars().take(40).collect();
    let found = d
        .with_store(move |s| {
            let r = desk::bookings::resource(s, &resource)?;
            let (from, to) = (cal.start_of(monday), cal.start_of(monday + Days::days(7)));
            let bookings = desk::bookings::of_resource(s, r.resource.id.as_str(), from, to)?;
            Ok::<_, keting_desk::bookings::BookingError>((r, bookings))
        })
        .await;
    let (r, bookings) = match found {
        Ok(f) => f,
        Err(e) => return bad_input(lang, Some(&who), &e.words(lang)),
    };
    let days: Vec<_> = (0..7).map(|i| monday + Days::days(i)).collect();
    let per_day: Vec<_> = days
        .iter()
        .map(|d| slots_on(&r.resource, cal, *d))
        .collect();
    let times: BTreeSet<(u8, u8, u8, u8)> = per_day
        .iter()
        .flatten()
        .map(|s| {
            let (a, b) = (cal.local(s.start), cal.local(s.end));
            (a.hour(), a.minute(), b.hour(), b.minute())
        })
        .collect();
    let rows: Vec<Vec<String>> = times
        .iter()
        .map(|&(h0, m0, h1, m1)| {
            let mut row = vec![format!("{h0:02}:{m0:02}–{h1:02}:{m1:02}")];
            for slots in &per_day {
                let Some(slot) = slots.iter().find(|s| {
                    let a = cal.local(s.start);
                    (a.hour(), a.minute()) == (h0, m0)
                }) else {
                    row.push(String::new());
                    continue;
                };
                let inside = |b: &&keting_desk::records::Booking| {
                    b.slot.start >= slot.start && b.slot.start < slot.end
                };
                let holding: Vec<_> = bookings
                    .iter()
                    .filter(inside)
                    .filter(|b| b.state.holds_place())
                    .collect();
                let waiting = bookings
                    .iter()
                    .filter(inside)
                    .filter(|b| b.state == BookingState::Waiting)
                    .count();
                let mut cell = if holding.iter().all(|b| b.walk_up) && !holding.is_empty() {
                    match lang {
                        Lang::Zh => format!("<b>{}</b> 场现场使用", holding.len()),
                        Lang::En => format!("<b>{}</b> walk-up", holding.len()),
                    }
                } else {
                    format!("<b>{}</b>/{}", holding.len(), r.resource.capacity)
                };
                let names: Vec<String> = holding
                    .iter()
                    .take(4)
                    .map(|b| esc(&b.member_name))
                    .collect();
                if !names.is_empty() {
                    let _ = write!(
                        cell,
                        "<br><small>{}</small>",
                        names.join(lang.t("、", ", "))
                    );
                }
                if waiting > 0 {
                    let _ = write!(
                        cell,
                        "<br><small>{}</small>",
                        match lang {
                            Lang::Zh => format!("候补 {waiting}"),
                            Lang::En => format!("{waiting} waiting"),
                        }
                    );
                }
                row.push(cell);
            }
            row
        })
        .collect();
    let head_days = week_heads(lang, &days);
    let mut head: Vec<&str> = vec![lang.t("时段", "Time")];
    head.extend(head_days.iter().map(String::as_str));
    let id = esc(r.resource.id.as_str());
    let body = format!(
        "<h1>{} · {}</h1><p><a href=\"/bookings/week?resource={id}&amp;week={}\">{}</a> · {} · \
         <a href=\"/bookings/week?resource={id}&amp;week={}\">{}</a></p>{}<p><a href=\"/bookings\">{}</a></p>",
        esc(lang.t(&r.resource.name_zh, &r.resource.name_en)),
        lang.t("一周时间表", "The week"),
        monday - Days::days(7),
        lang.t("上一周", "Previous week"),
        match lang {
            Lang::Zh => format!("{} 起的一周", monday),
            Lang::En => format!("week of {monday}"),
        },
        monday + Days::days(7),
        lang.t("下一周", "Next week"),
        if rows.is_empty() {
            format!("<p>{}</p>", lang.t("这一周不开放", "Closed all week"))
        } else {
            html::table("timetable", &head, &rows)
        },
        lang.t("返回预约", "Back to bookings"),
    );
    html_page(
        StatusCode::OK,
        html::page(
            lang,
            lang.t("一周时间表", "The week"),
            Some(&who),
            Nav::Bookings,
            &body,
        ),
    )
}
