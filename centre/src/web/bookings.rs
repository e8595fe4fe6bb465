//! Bookings: each resource's hours and places, and its utilisation over the
//! last days (places used over places offered, by the resource's own slots
//! and capacity; a piano's places are its open time in walk-up sessions),
//! with a CSV export equal to the table. A place is used by
//! a booking that was booked, started, ended or is waiting to be checked,
//! and by a walk-up session; cancelled, released, lapsed and failed ones
//! do not count.

use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keting_core::booking::resource::ResourceKind;
use keting_core::booking::session::BookingState;
use keting_core::booking::slots::slots_on;
use keting_core::calendar::SiteCalendar;
use time::Duration as Days;

use super::html::{self, Lang, Nav, esc};
use super::{Dashboard, bad_input, html_page, lang, refused, see_other};
use crate::clock;
use crate::desk;
use crate::store::resources::format_hours;
use crate::store::{Store, StoreError};

/// `?days=N` (1 to 366; 30 by default).
#[derive(Debug, Default, serde::Deserialize)]
pub struct BookingsQuery {
    days: Option<String>,
}

/// One resource's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Utilisation {
    /// Its name in Chinese and English.
    pub name: (String, String),
    /// Its kind.
    pub kind: ResourceKind,
    /// Opening hours as written.
    pub hours: String,
    /// Places per slot.
    pub capacity: u16,
    /// Places offered in the period.
    pub offered: u64,
    /// Places used.
    pub used: u64,
}

fn kind_word(lang: Lang, k: ResourceKind) -> &'static str {
    match (k, lang) {
        (ResourceKind::Piano, Lang::Zh) => "钢琴",
        (ResourceKind::Robot, Lang::Zh) => "艾灸机器人",
        (ResourceKind::Childcare, Lang::Zh) => "托育",
        (ResourceKind::Room, Lang::Zh) => "活动室",
        (ResourceKind::Piano, Lang::En) => "piano",
        (ResourceKind::Robot, Lang::En) => "robot",
        (ResourceKind::Childcare, Lang::En) => "childcare",
        (ResourceKind::Room, Lang::En) => "room",
    }
}

/// Each resource's utilisation over the `days` days up to today.
pub fn utilisation(
    store: &Store,
    cal: SiteCalendar,
    days: u16,
) -> Result<Vec<Utilisation>, StoreError> {
    let today = cal.date_of(clock::now());
    let first = today - Days::days(i64::from(days) - 1);
    let (from, to) = (cal.start_of(first), cal.day_span(today).end);
    let mut out = Vec::new();
    for r in desk::bookings::resources(store, None)? {
        // A piano is walked up to: its places are its open time in
        // sessions of its length, not its opening windows.
        let walk_up_minutes = (r.resource.kind == ResourceKind::Piano
            && r.resource.slot_minutes.is_none())
        .then(|| (r.session.as_secs() / 60).max(1));
        let mut offered = 0u64;
        let mut day = first;
        while day <= today {
            let slots = slots_on(&r.resource, cal, day);
            let places = match walk_up_minutes {
                Some(len) => slots
                    .iter()
                    .map(|s| s.end.since(s.start).map_or(0, |d| d.as_secs() / 60) / len)
                    .sum::<u64>(),
                None => slots.len() as u64,
            };
            offered += places * u64::from(r.resource.capacity);
            day = day.next_day().unwrap_or(day);
            if day == first {
                break;
            }
        }
        let used = desk::bookings::of_resource(store, r.resource.id.as_str(), from, to)?
            .iter()
            .filter(|b| {
                matches!(
                    b.state,
                    BookingState::Booked
                        | BookingState::Started
                        | BookingState::ToCheck
                        | BookingState::Done
                )
            })
            .count() as u64;
        out.push(Utilisation {
            name: (r.resource.name_zh.clone(), r.resource.name_en.clone()),
            kind: r.resource.kind,
            hours: format_hours(&r.resource.hours),
            capacity: r.resource.capacity,
            offered,
            used,
        });
    }
    Ok(out)
}

fn pct(u: &Utilisation) -> String {
    if u.offered == 0 {
        "–".to_owned()
    } else {
        format!("{:.1}%", u.used as f64 * 100.0 / u.offered as f64)
    }
}

fn days_of(q: &BookingsQuery, lang: Lang) -> Result<u16, String> {
    match q.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(30),
        Some(d) => d
            .parse::<u16>()
            .ok()
            .filter(|n| (1..=366).contains(n))
            .ok_or_else(|| lang.t("天数是 1 到 366", "Days: 1 to 366").to_owned()),
    }
}

/// `GET /bookings`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<BookingsQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let days = match days_of(&q, lang) {
        Ok(n) => n,
        Err(why) => return bad_input(lang, Some(&who), &why),
    };
    let cal = d.site().calendar;
    let rows = match d
        .with_store(move |store| utilisation(store, cal, days))
        .await
    {
        Ok(r) => r,
        Err(e) => return refused(lang, Some(&who), &e.to_string()),
    };
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|u| {
            vec![
                esc(lang.t(&u.name.0, &u.name.1)),
                kind_word(lang, u.kind).to_owned(),
                esc(&u.hours),
                format!("{}", u.capacity),
                format!("{}", u.offered),
                format!("{}", u.used),
                pct(u),
            ]
        })
        .collect();
    let mut body = format!(
        "<h1>{}</h1><form method=\"get\" action=\"/bookings\"><label>{} <input name=\"days\" size=\"4\" maxlength=\"3\" value=\"{days}\"></label> <button>{}</button> \
         <a href=\"/bookings.csv?days={days}\" download>{}</a></form>",
        lang.t("预约与使用率", "Bookings and utilisation"),
        lang.t("最近天数", "Last days"),
        lang.t("查看", "Show"),
        lang.t("导出 CSV", "Export CSV"),
    );
    if table.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.t("尚未设置可预约的资源", "No bookable resource yet")
        );
    } else {
        body.push_str(&html::table(
            "utilisation",
            &[
                lang.t("资源", "Resource"),
                lang.t("类型", "Kind"),
                lang.t("开放时间", "Hours"),
                lang.t("每场名额", "Places per slot"),
                lang.t("提供名额", "Places offered"),
                lang.t("已用", "Used"),
                lang.t("使用率", "Utilisation"),
            ],
            &table,
        ));
    }
    html_page(
        StatusCode::OK,
        html::page(
            lang,
            lang.t("预约", "Bookings"),
            Some(&who),
            Nav::Bookings,
            &body,
        ),
    )
}

/// `GET /bookings.csv`: the table's rows.
pub async fn csv(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<BookingsQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let days = match days_of(&q, lang) {
        Ok(n) => n,
        Err(why) => return bad_input(lang, Some(&who), &why),
    };
    let cal = d.site().calendar;
    let rows = match d
        .with_store(move |store| utilisation(store, cal, days))
        .await
    {
        Ok(r) => r,
        Err(e) => return refused(lang, Some(&who), &e.to_string()),
    };
    let mut out = String::from("\u{feff}");
    let _ = writeln!(
        out,
        "{}",
        [
            lang.t("资源", "Resource"),
            lang.t("类型", "Kind"),
            lang.t("开放时间", "Hours"),
            lang.t("每场名额", "Places per slot"),
            lang.t("提供名额", "Places offered"),
            lang.t("已用", "Used"),
            lang.t("使用率", "Utilisation"),
        ]
        .join(",")
    );
    for u in &rows {
        // Hours hold commas: quoted.
        let _ = writeln!(
            out,
            "{},{},\"{}\",{},{},{},{}",
            lang.t(&u.name.0, &u.name.1).replace(',', " "),
            kind_word(lang, u.kind),
            u.hours,
            u.capacity,
            u.offered,
            u.used,
            pct(u)
        );
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"keting-utilisation-{days}d.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        out,
    )
        .into_response()
}
