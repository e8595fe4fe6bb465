//! Bookings: each resource's hours and places, and its utilisation over the
//! last days (places used over places offered, by the resource's own slots
//! and capacity; a piano's places are its open time in walk-up sessions)
//! and the yuan its sessions owe at the desk, with a CSV export equal to
//! the table; the packages sold in those days, the sessions waiting for
//! staff to check the device (checked here), and the ratings per service.
//! Each resource links to its settings and its week's timetable. A place
//! is used by
//! a booking that was booked, started, ended or is waiting to be checked,
//! and by a walk-up session; cancelled, released, lapsed and failed ones
//! do not count.

use std::fmt::Write;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::booking::Charge;
use keting_core::booking::resource::ResourceKind;
use keting_core::booking::session::BookingState;
use keting_core::booking::slots::slots_on;
use keting_core::calendar::SiteCalendar;
use keting_core::staff::StaffAction;
use time::Duration as Days;

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::xlsx::{Cell, Sheet};
use super::{Dashboard, bad_input, form_guard, html_page, lang, refused, see_other};
use keting_core::booking::format_hours;
use keting_desk::bookings::BookingError;
use keting_desk::records::Booking;
use keting_desk::records::ServiceRatings;
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};
use keting_link::clock;

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
    /// Yuan owed at the desk for the places used, in fen.
    pub owed_fen: u64,
    /// Its id (for its links).
    pub id: String,
}

/// A kind of resource in words.
pub fn kind_word(lang: Lang, k: ResourceKind) -> &'static str {
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
) -> Result<Vec<Utilisation>, BookingError> {
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
        let holding: Vec<_> = desk::bookings::of_resource(store, r.resource.id.as_str(), from, to)?
            .into_iter()
            .filter(|b| {
                matches!(
                    b.state,
                    BookingState::Booked
                        | BookingState::Started
                        | BookingState::ToCheck
                        | BookingState::Done
                )
            })
            .collect();
        let used = holding.len() as u64;
        let owed_fen = holding
            .iter()
            .filter(|b| !b.returned)
            .map(|b| match b.charge {
                Some(Charge::Yuan { fen, .. }) => u64::from(fen),
                _ => 0,
            })
            .sum();
        out.push(Utilisation {
            name: (r.resource.name_zh.clone(), r.resource.name_en.clone()),
            kind: r.resource.kind,
            hours: format_hours(&r.resource.hours),
            capacity: r.resource.capacity,
            offered,
            used,
            owed_fen,
            id: r.resource.id.as_str().to_owned(),
        });
    }
    Ok(out)
}

/// Fen as yuan: `29.90`.
pub fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
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
    let figures = d
        .with_store(move |store| {
            let rows = utilisation(store, cal, days)?;
            let today = cal.date_of(clock::now());
            let from = cal.start_of(today - Days::days(i64::from(days) - 1));
            let to = cal.day_span(today).end;
            let sold = desk::bookings::packages_sold(store, from, to)?;
            let ratings = desk::bookings::ratings_between(store, from, to)?;
            let to_check = desk::bookings::to_check(store)?;
            Ok::<_, BookingError>((rows, sold, ratings, to_check))
        })
        .await;
    let (rows, sold, ratings, to_check) = match figures {
        Ok(f) => f,
        Err(e) => return refused(lang, Some(&who), &e.words(lang)),
    };
    let may_edit = who.role.may(StaffAction::Bookings);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|u| {
            let mut row = vec![
                esc(lang.t(&u.name.0, &u.name.1)),
                kind_word(lang, u.kind).to_owned(),
                esc(&u.hours),
                format!("{}", u.capacity),
                format!("{}", u.offered),
                format!("{}", u.used),
                pct(u),
                yuan(u.owed_fen),
            ];
            let mut links = format!(
                "<a href=\"/bookings/week?resource={}\">{}</a>",
                esc(&u.id),
                lang.t("本周时间表", "This week")
            );
            if may_edit {
                let _ = write!(
                    links,
                    " · <a href=\"/bookings/resource/{}\">{}</a>",
                    esc(&u.id),
                    lang.t("设置", "Settings")
                );
            }
            row.push(links);
            row
        })
        .collect();
    let mut body = format!(
        "<h1>{}</h1><form method=\"get\" action=\"/bookings\"><label>{} <input name=\"days\" size=\"4\" maxlength=\"3\" value=\"{days}\"></label> <button>{}</button> \
         <a href=\"/bookings.csv?days={days}\" download>{}</a> <a href=\"/bookings.xlsx?days={days}\" download>{}</a></form>",
        lang.t("预约与使用率", "Bookings and utilisation"),
        lang.t("最近天数", "Last days"),
        lang.t("查看", "Show"),
        lang.t("导出 CSV", "Export CSV"),
        lang.t("导出 Excel", "Export Excel"),
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
                lang.t("应收（元）", "Owed (yuan)"),
                "",
            ],
            &table,
        ));
    }
    body.push_str(&extra_sections(&d, &who, lang, &sold, &ratings, &to_check));
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

/// The utilisation table as a sheet, as the page shows it.
fn sheet(lang: Lang, days: u16, rows: &[Utilisation]) -> Sheet {
    Sheet {
        name: match lang {
            Lang::Zh => format!("使用率（{days} 天）"),
            Lang::En => format!("Utilisation ({days} days)"),
        },
        head: [
            lang.t("资源", "Resource"),
            lang.t("类型", "Kind"),
            lang.t("开放时间", "Hours"),
            lang.t("每场名额", "Places per slot"),
            lang.t("提供名额", "Places offered"),
            lang.t("已用", "Used"),
            lang.t("使用率", "Utilisation"),
            lang.t("应收（元）", "Owed (yuan)"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: rows
            .iter()
            .map(|u| {
                vec![
                    Cell::from(lang.t(&u.name.0, &u.name.1)),
                    Cell::from(kind_word(lang, u.kind)),
                    Cell::from(u.hours.as_str()),
                    Cell::from(u64::from(u.capacity)),
                    Cell::from(u.offered),
                    Cell::from(u.used),
                    Cell::from(pct(u)),
                    Cell::from(yuan(u.owed_fen)),
                ]
            })
            .collect(),
    }
}

async fn export(
    d: &Dashboard,
    headers: &HeaderMap,
    q: &BookingsQuery,
) -> Result<(Lang, u16, Sheet), Response> {
    let lang = lang(headers);
    let Some(who) = d.session(headers) else {
        return Err(see_other("/sign-in"));
    };
    let days = days_of(q, lang).map_err(|why| bad_input(lang, Some(&who), &why))?;
    let cal = d.site().calendar;
    match d
        .with_store(move |store| utilisation(store, cal, days))
        .await
    {
        Ok(rows) => Ok((lang, days, sheet(lang, days, &rows))),
        Err(e) => Err(refused(lang, Some(&who), &e.words(lang))),
    }
}

/// `GET /bookings.csv`: the table's rows.
pub async fn csv(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<BookingsQuery>,
) -> Response {
    let (_, days, sheet) = match export(&d, &headers, &q).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    super::csv_download(&format!("keting-utilisation-{days}d.csv"), &sheet)
}

/// `GET /bookings.xlsx`: the table as an Excel workbook.
pub async fn xlsx(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<BookingsQuery>,
) -> Response {
    let (lang, days, sheet) = match export(&d, &headers, &q).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    super::xlsx_download(lang, &format!("keting-utilisation-{days}d.xlsx"), &[sheet])
}

fn extra_sections(
    d: &Dashboard,
    who: &StaffSession,
    lang: Lang,
    sold: &[(ResourceKind, u32, u32)],
    ratings: &[ServiceRatings],
    to_check: &[Booking],
) -> String {
    let mut h = format!(
        "<section id=\"packages\"><h2>{}</h2>",
        lang.t("售出的课程包", "Packages sold")
    );
    if sold.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            lang.t("这段时间没有售出", "None in these days")
        );
    } else {
        let rows: Vec<Vec<String>> = sold
            .iter()
            .map(|(k, n, sessions)| {
                vec![
                    kind_word(lang, *k).to_owned(),
                    format!("{n}"),
                    format!("{sessions}"),
                ]
            })
            .collect();
        h.push_str(&html::table(
            "packages",
            &[
                lang.t("服务", "Service"),
                lang.t("课程包", "Packages"),
                lang.t("次数", "Sessions"),
            ],
            &rows,
        ));
    }
    h.push_str("</section>");
    let _ = write!(
        h,
        "<section id=\"to-check\"><h2>{}</h2>",
        lang.t("待检查的场次", "Sessions to check")
    );
    if to_check.is_empty() {
        let _ = write!(h, "<p class=\"ok\">{}</p>", lang.t("没有", "None"));
    } else {
        let may = who.role.may(StaffAction::Bookings);
        let cal = d.site().calendar;
        let rows: Vec<Vec<String>> = to_check
            .iter()
            .map(|b| {
                let l = cal.local(b.slot.start);
                let mut row = vec![
                    format!("{}", b.id),
                    esc(&b.resource),
                    format!("{} {:02}:{:02}", l.date(), l.hour(), l.minute()),
                    esc(&b.member_name),
                ];
                if may {
                    row.push(format!(
                        "<form method=\"post\" action=\"/bookings/checked\" class=\"inline\">\
                         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                         <input type=\"hidden\" name=\"id\" value=\"{}\">\
                         <button class=\"checked\">{}</button></form>",
                        esc(&who.csrf),
                        b.id,
                        lang.t("已检查", "Checked")
                    ));
                }
                row
            })
            .collect();
        let mut head = vec![
            "#",
            lang.t("资源", "Resource"),
            lang.t("场次", "Session"),
            lang.t("会员", "Member"),
        ];
        if may {
            head.push(lang.t("操作", "Action"));
        }
        h.push_str(&html::table("to-check", &head, &rows));
    }
    h.push_str("</section>");
    let _ = write!(
        h,
        "<section id=\"ratings\"><h2>{}</h2>",
        lang.t("各项服务的评价", "Ratings per service")
    );
    if ratings.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            lang.t("这段时间没有评价", "No ratings in these days")
        );
    } else {
        let rows: Vec<Vec<String>> = ratings
            .iter()
            .map(|r| {
                vec![
                    kind_word(lang, r.kind).to_owned(),
                    format!("{}", r.count),
                    format!("{}.{:02}", r.average_x100 / 100, r.average_x100 % 100),
                    format!(
                        "{:.0}%",
                        f64::from(r.satisfied) * 100.0 / f64::from(r.count.max(1))
                    ),
                ]
            })
            .collect();
        h.push_str(&html::table(
            "ratings",
            &[
                lang.t("服务", "Service"),
                lang.t("评价数", "Ratings"),
                lang.t("平均星级", "Average stars"),
                lang.t("满意（4–5 星）", "Satisfied (4–5 stars)"),
            ],
            &rows,
        ));
    }
    h.push_str("</section>");
    h
}

/// A session checked.
#[derive(serde::Deserialize)]
pub struct CheckedForm {
    csrf: String,
    id: String,
}

/// `POST /bookings/checked`: staff checked the device after a session.
pub async fn checked(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<CheckedForm>,
) -> Response {
    let may = Some((
        StaffAction::Bookings,
        ("您的角色不能处理预约", "Your role may not handle bookings"),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let Ok(id) = f.id.trim().parse::<i64>() else {
        return bad_input(
            lang,
            Some(&who),
            lang.t("场次号不对", "Not a booking number"),
        );
    };
    let actor = Actor::Staff(who.member);
    match d
        .with_store(move |s| desk::bookings::clear(s, actor, id, clock::now()))
        .await
    {
        Ok(_) => see_other("/bookings#to-check"),
        Err(e) => bad_input(lang, Some(&who), &e.words(lang)),
    }
}
