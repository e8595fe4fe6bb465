//! My bookings and booking a slot: my bookings from now on (a place on a
//! waiting list with its turn; a freed place given to me with the time to
//! check in by; cancel within the site's window), the services to book,
//! and one service's day of slots (book, or join the waiting list when
//! full). Every change goes through the bookings desk as the member,
//! which refuses another member's booking as not found.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use keting_core::booking::slots::slots_on;
use keting_core::booking::{BookingState, Charge, ResourceKind};
use keting_core::time::Timestamp;
use keting_desk::Actor;
use keting_desk::booking_view::{self, Cell};
use keting_desk::bookings::BookingError;
use keting_desk::bookings::{self, CancelAs};
use keting_desk::records::{Booking, ResourceRecord};
use keting_webkit::Lang;
use keting_webkit::html::esc;
use keting_webkit::respond::{html_page, see_other};

use crate::Residents;
use crate::guard::{self, Checked, Csrf, Visit};
use crate::page::{self, Extras, day_words, hhmm};

/// How many days ahead a resident can look and book.
pub const DAYS_AHEAD: i64 = 7;

/// `?done=…` after a change.
#[derive(serde::Deserialize)]
pub struct Done {
    /// What was done.
    pub done: Option<String>,
}

fn state_words(
    lang: Lang,
    b: &Booking,
    turn: Option<u32>,
    cal: keting_core::calendar::SiteCalendar,
) -> String {
    match b.state {
        BookingState::Waiting => match (lang, turn) {
            (Lang::Zh, Some(n)) => format!("排队中，第{n}位"),
            (Lang::En, Some(n)) => format!("On the waiting list: number {n}"),
            _ => lang.t("排队中", "On the waiting list").to_owned(),
        },
        // A place from the waiting list shows the same: it is booked, and
        // the time to check in by is the time left to take it.
        BookingState::Booked => match b.start_by {
            Some(by) => match lang {
                Lang::Zh => format!("已预约，请在{}前到场签到", hhmm(cal, by)),
                Lang::En => format!("Booked: check in by {}", hhmm(cal, by)),
            },
            None => lang.t("已预约", "Booked").to_owned(),
        },
        BookingState::Started => lang.t("进行中", "In progress").to_owned(),
        _ => lang.t("已结束", "Over").to_owned(),
    }
}

fn charge_words(lang: Lang, c: Option<Charge>) -> String {
    match c {
        None => String::new(),
        Some(Charge::Free) => lang.t("免费", "Free").to_owned(),
        Some(Charge::Points { points }) => match lang {
            Lang::Zh => format!("{points}积分（开始时扣）"),
            Lang::En => format!("{points} points (taken when it starts)"),
        },
        Some(Charge::Yuan { fen, trial }) => {
            let yuan = format!("{}.{:02}", fen / 100, fen % 100);
            match (lang, trial) {
                (Lang::Zh, true) => format!("体验价{yuan}元，到服务台付"),
                (Lang::Zh, false) => format!("{yuan}元，到服务台付"),
                (Lang::En, true) => format!("Trial price {yuan} yuan, pay at the desk"),
                (Lang::En, false) => format!("{yuan} yuan, pay at the desk"),
            }
        }
        Some(Charge::Package { .. }) => lang.t("用套餐1次", "1 session of your package").to_owned(),
    }
}

fn bookable(r: &ResourceRecord) -> bool {
    r.resource.kind != ResourceKind::Piano
}

/// `/bookings`.
pub async fn page(State(r): State<Residents>, visit: Visit, Query(done): Query<Done>) -> Response {
    let me = match guard::resident(&r, &visit).await {
        Ok(me) => me,
        Err(out) => return *out,
    };
    let (lang, cal, now) = (visit.lang, r.site().calendar, guard::now());
    let member = me.member;
    let read = r
        .with_store(move |s| {
            let mine: Vec<Booking> = bookings::of_member(s, member, now)?
                .into_iter()
                .filter(booking_view::shown_on_menu)
                .collect();
            let mut turns = Vec::new();
            for b in &mine {
                turns.push(if b.state == BookingState::Waiting {
                    Some(bookings::waiting_turn(s, b.id)?)
                } else {
                    None
                });
            }
            Ok::<_, BookingError>((
                mine,
                turns,
                bookings::rules(s)?,
                bookings::resources(s, None)?,
            ))
        })
        .await;
    let (mine, turns, policy, resources) = match read {
        Ok(x) => x,
        Err(e) => return page::unavailable(lang, &e),
    };
    let name_of = |id: &str| {
        resources
            .iter()
            .find(|x| x.resource.id.as_str() == id)
            .map(|x| x.resource.name(lang == Lang::Zh).to_owned())
            .unwrap_or_else(|| id.to_owned())
    };
    let waiting = mine.iter().any(|b| b.state == BookingState::Waiting);
    let mut body = page::done_notice(lang, done.done.as_deref());
    body.push_str(&format!("<h2>{}</h2>", lang.t("我的预约", "My bookings")));
    if mine.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            lang.t("现在没有预约。", "No bookings now.")
        ));
    }
    for (b, turn) in mine.iter().zip(turns) {
        let actions = booking_view::actions(&policy, b, now);
        body.push_str(&format!(
            "<div class=\"card\"><p><b>{}</b><br>{} {}–{}</p><p class=\"{}\">{}</p><p class=\"muted\">{}</p>",
            esc(&name_of(&b.resource)),
            day_words(lang, cal, b.slot.start, now),
            hhmm(cal, b.slot.start),
            hhmm(cal, b.slot.end),
            if b.state == BookingState::Waiting { "muted" } else { "ok" },
            esc(&state_words(lang, b, turn, cal)),
            esc(&charge_words(lang, b.charge)),
        ));
        if actions.cancel {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/bookings/cancel\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <input type=\"hidden\" name=\"booking\" value=\"{}\"><button class=\"quiet\">{}</button></form>",
                esc(&me.csrf),
                b.id,
                if b.state == BookingState::Waiting { lang.t("不排了", "Leave the waiting list") } else { lang.t("取消预约", "Cancel this booking") }
            ));
        }
        body.push_str("</div>");
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/calendar/new\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button class=\"quiet\">{}</button></form>",
        esc(&me.csrf),
        lang.t("加到我的手机日历", "Add to my phone's calendar")
    ));
    body.push_str(&format!(
        "<h2>{}</h2>",
        lang.t("预约服务", "Book a service")
    ));
    for x in resources.iter().filter(|x| bookable(x)) {
        body.push_str(&format!(
            "<form method=\"get\" action=\"/bookings/{}\"><button class=\"quiet\">{}</button></form>",
            esc(x.resource.id.as_str()),
            esc(x.resource.name(lang == Lang::Zh))
        ));
    }
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("预约", "Bookings"),
            Some("/bookings"),
            &body,
            // Waiting for a place: the page looks again by itself, so a
            // freed place shows without a tap.
            Extras {
                refresh_seconds: waiting.then_some(page::WAITING_REFRESH_SECONDS),
                wake: false,
                nav_below: false,
            },
        ),
    )
}

/// `?day=N`: days from today.
#[derive(serde::Deserialize)]
pub struct DayQuery {
    day: Option<i64>,
}

/// `/bookings/RESOURCE?day=N`: one service's slots on a day.
pub async fn day(
    State(r): State<Residents>,
    visit: Visit,
    Path(resource): Path<String>,
    Query(q): Query<DayQuery>,
) -> Response {
    let me = match guard::resident(&r, &visit).await {
        Ok(me) => me,
        Err(out) => return *out,
    };
    let (lang, cal, now) = (visit.lang, r.site().calendar, guard::now());
    let offset = q.day.unwrap_or(0).clamp(0, DAYS_AHEAD - 1);
    let day = cal.date_of(now) + time::Duration::days(offset);
    let span = cal.day_span(day);
    let id = resource.clone();
    let read = r
        .with_store(move |s| {
            let x = bookings::resource(s, &id)?;
            Ok::<_, BookingError>((
                x.clone(),
                bookings::of_resource(s, &id, span.start, span.end)?,
                bookings::rules(s)?,
            ))
        })
        .await;
    let (x, booked, policy) = match read {
        Ok(v) if bookable(&v.0) => v,
        Ok(_) | Err(BookingError::UnknownResource { .. }) => {
            return page::message(
                StatusCode::NOT_FOUND,
                lang,
                lang.t("没有这项服务", "No such service"),
                lang.t(
                    "请从预约页选择。",
                    "Please choose one on the bookings page.",
                ),
            );
        }
        Err(e) => return page::unavailable(lang, &e),
    };
    let mut body = String::from("<div class=\"row\">");
    for d in 0..DAYS_AHEAD {
        let t = cal.start_of(cal.date_of(now) + time::Duration::days(d));
        body.push_str(&format!(
            "<a href=\"/bookings/{}?day={d}\"{}>{}</a> ",
            esc(x.resource.id.as_str()),
            if d == offset { " class=\"ok\"" } else { "" },
            esc(&day_words(lang, cal, t, now))
        ));
    }
    body.push_str("</div>");
    body.push_str(&format!(
        "<h2>{}</h2>",
        esc(&day_words(lang, cal, span.start, now))
    ));
    let here: Vec<&Booking> = booked.iter().collect();
    let mut any = false;
    for slot in slots_on(&x.resource, cal, day) {
        let cell = booking_view::cell(&policy, slot, x.resource.capacity, &here, me.member, now);
        let time = format!("{}–{}", hhmm(cal, slot.start), hhmm(cal, slot.end));
        let (label, wait) = match cell {
            Cell::Past => continue,
            Cell::Mine => {
                body.push_str(&format!(
                    "<p class=\"card ok\">{time} {}</p>",
                    lang.t("已预约", "Booked")
                ));
                any = true;
                continue;
            }
            Cell::Waiting => {
                body.push_str(&format!(
                    "<p class=\"card muted\">{time} {}</p>",
                    lang.t("排队中", "On the waiting list")
                ));
                any = true;
                continue;
            }
            Cell::Full => (
                match lang {
                    Lang::Zh => format!("{time} 已满 · 排队等候"),
                    Lang::En => format!("{time} full · join the waiting list"),
                },
                true,
            ),
            Cell::Free(Some(left)) => (
                match lang {
                    Lang::Zh => format!("{time} 预约（剩{left}个）"),
                    Lang::En => format!("{time} book ({left} left)"),
                },
                false,
            ),
            Cell::Free(None) => (
                match lang {
                    Lang::Zh => format!("{time} 预约"),
                    Lang::En => format!("{time} book"),
                },
                false,
            ),
        };
        any = true;
        body.push_str(&format!(
            "<form method=\"post\" action=\"/bookings/book\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"resource\" value=\"{}\"><input type=\"hidden\" name=\"start\" value=\"{}\">\
             <input type=\"hidden\" name=\"wait\" value=\"{}\"><button{}>{}</button></form>",
            esc(&me.csrf),
            esc(x.resource.id.as_str()),
            slot.start.as_unix_millis(),
            u8::from(wait),
            if wait { " class=\"quiet\"" } else { "" },
            esc(&label)
        ));
    }
    if !any {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            lang.t("这天没有可预约的时段。", "Nothing to book on this day.")
        ));
    }
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            x.resource.name(lang == Lang::Zh),
            Some("/bookings"),
            &body,
            Extras::default(),
        ),
    )
}

/// A booking form.
#[derive(serde::Deserialize)]
pub struct BookForm {
    #[serde(default)]
    csrf: String,
    resource: String,
    start: i64,
    wait: u8,
}

impl Csrf for BookForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /bookings/book`.
pub async fn book(
    State(r): State<Residents>,
    Checked { me, visit, form: f }: Checked<BookForm>,
) -> Response {
    let (lang, cal, now) = (visit.lang, r.site().calendar, guard::now());
    let back = format!("/bookings/{}", f.resource);
    let m = me.member;
    let booked = r
        .with_store(move |s| {
            bookings::book(
                s,
                Actor::Member(m),
                &f.resource,
                Timestamp::from_unix_millis(f.start),
                m,
                f.wait == 1,
                cal,
                now,
            )
        })
        .await;
    match booked {
        Ok(b) if b.waiting_position.is_some() => see_other("/bookings?done=waiting"),
        Ok(_) => see_other("/bookings?done=booked"),
        Err(e) => page::refused(lang, &back, &e),
    }
}

/// A cancel form.
#[derive(serde::Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    csrf: String,
    booking: i64,
}

impl Csrf for CancelForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /bookings/cancel`: the member's own booking, within the window.
pub async fn cancel(
    State(r): State<Residents>,
    Checked { me, visit, form: f }: Checked<CancelForm>,
) -> Response {
    let (lang, cal, now) = (visit.lang, r.site().calendar, guard::now());
    let m = me.member;
    let done = r
        .with_store(move |s| {
            bookings::cancel(s, Actor::Member(m), f.booking, CancelAs::Member, cal, now)
        })
        .await;
    match done {
        Ok(_) => see_other("/bookings?done=cancelled"),
        Err(e) => page::refused(lang, "/bookings", &e),
    }
}
