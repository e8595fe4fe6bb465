//! My calendar: an address (`/calendar/SECRET.ics`) a phone's calendar app
//! subscribes to, with my bookings and activities from now on, so a
//! change shows at the app's next fetch. The app sends no cookie, so the
//! address carries its own secret (stored hashed), made on my phone and
//! replaced there (the old one then stops); a new card or ending every
//! phone ends it. Events are in Chinese first, then English.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use keting_core::activity::rules::Standing;
use keting_core::booking::BookingState;
use keting_core::time::Timestamp;
use keting_desk::Actor;
use keting_desk::activities::ActivityError;
use keting_desk::bookings::BookingError;
use keting_desk::phones::PhoneError;
use keting_desk::{activities, booking_view, bookings, phones};
use keting_webkit::html::esc;
use keting_webkit::respond::html_page;

use crate::Residents;
use crate::guard::{self, Checked, Csrf, Visit};
use crate::page::{self, Extras};

/// Text escaped for an iCalendar value.
fn ics_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// What reading a member's calendar can fail with: a calendar address no
/// longer bound answers as one that never was; anything else is the
/// database's.
#[derive(Debug, thiserror::Error)]
enum CalendarReadError {
    #[error(transparent)]
    Phone(#[from] PhoneError),
    #[error(transparent)]
    Booking(#[from] BookingError),
    #[error(transparent)]
    Activity(#[from] ActivityError),
}

/// `t` as an iCalendar UTC time.
fn ics_time(t: Timestamp) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(t.as_unix_millis().div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// A content line folded at 75 octets, as RFC 5545 asks (never inside a
/// character).
fn line(out: &mut String, l: &str) {
    let mut width = 0;
    for c in l.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn event(
    out: &mut String,
    uid: &str,
    now: Timestamp,
    start: Timestamp,
    end: Timestamp,
    summary: &str,
    place: &str,
) {
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{uid}"));
    line(out, &format!("DTSTAMP:{}", ics_time(now)));
    line(out, &format!("DTSTART:{}", ics_time(start)));
    line(out, &format!("DTEND:{}", ics_time(end)));
    line(out, &format!("SUMMARY:{}", ics_text(summary)));
    if !place.is_empty() {
        line(out, &format!("LOCATION:{}", ics_text(place)));
    }
    line(out, "END:VEVENT");
}

/// `GET /calendar/SECRET.ics`.
pub async fn feed(State(r): State<Residents>, visit: Visit, Path(file): Path<String>) -> Response {
    if let Err(out) = guard::within_limit(&r, &visit) {
        return *out;
    }
    let token = file.strip_suffix(".ics").unwrap_or("").to_owned();
    let now = guard::now();
    let site = r.site().site_id.to_string();
    let centre = r.site().name.clone();
    let read = r
        .with_store(move |s| {
            let member = phones::calendar_of(s, &token)?;
            let since = Timestamp::from_unix_millis(now.as_unix_millis() - 86_400_000);
            let mine = bookings::of_member(s, member, since)?;
            let resources = bookings::resources(s, None)?;
            let acts = activities::of_member(s, member, since)?;
            Ok::<_, CalendarReadError>((mine, resources, acts))
        })
        .await;
    let (mine, resources, acts) = match read {
        Ok(x) => x,
        Err(CalendarReadError::Phone(PhoneError::SignedOut)) => {
            return page::no_such_page(visit.lang);
        }
        Err(CalendarReadError::Activity(e)) if !matches!(e, ActivityError::Store(_)) => {
            return page::no_such_page(visit.lang);
        }
        Err(e) => return page::unavailable(visit.lang, &e),
    };
    let mut out = String::with_capacity(4096);
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Keting//Residents//ZH");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, &format!("X-WR-CALNAME:{}", ics_text(&centre)));
    for b in mine.iter().filter(|b| booking_view::shown_on_menu(b)) {
        let name = resources
            .iter()
            .find(|x| x.resource.id.as_str() == b.resource)
            .map(|x| format!("{} {}", x.resource.name_zh, x.resource.name_en))
            .unwrap_or_else(|| b.resource.clone());
        let state = match b.state {
            BookingState::Waiting => "排队中 waiting list",
            _ => "已预约 booked",
        };
        event(
            &mut out,
            &format!("booking-{}@{site}", b.id),
            now,
            b.slot.start,
            b.slot.end,
            &format!("{name}（{state}）"),
            &centre,
        );
    }
    for (a, standing) in &acts {
        let state = match standing {
            Standing::Place => "已报名 signed up",
            Standing::Offered { .. } => "有空位，请确认 a place to take",
            _ => "排队中 waiting list",
        };
        let p = &a.plan;
        event(
            &mut out,
            &format!("activity-{}@{site}", a.id),
            now,
            p.starts,
            p.ends,
            &format!("{} {}（{state}）", p.title_zh, p.title_en),
            &p.room,
        );
    }
    line(&mut out, "END:VCALENDAR");
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out,
    )
        .into_response()
}

/// A form naming only its token.
#[derive(serde::Deserialize)]
pub struct NewForm {
    #[serde(default)]
    csrf: String,
}

impl Csrf for NewForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /calendar/new`: a new calendar address, shown once.
pub async fn new(
    State(r): State<Residents>,
    Checked { me, visit, .. }: Checked<NewForm>,
) -> Response {
    let (lang, now, m) = (visit.lang, guard::now(), me.member);
    let token = match r
        .with_store(move |s| phones::new_calendar(s, Actor::Member(m), m, now))
        .await
    {
        Ok(t) => t,
        Err(e) => return page::refused(lang, "/bookings", &e),
    };
    let url = format!(
        "{}/calendar/{token}.ics",
        guard::public_base(&visit.headers)
    );
    let mut body = String::new();
    let _ = write!(
        body,
        "<p>{}</p><p class=\"card\" id=\"calendar-link\">{}</p><p class=\"muted\">{}</p><p><a href=\"/bookings\">{}</a></p>",
        lang.t("在手机日历里“添加订阅日历”，填入下面这个地址，预约和活动就会出现在日历里，有变化会自动更新：", "In your phone's calendar, add a subscribed calendar with this address: your bookings and activities show there and follow every change:"),
        esc(&url),
        lang.t("这个地址只给您自己用。重新生成后，旧地址就不能用了。", "Keep this address to yourself. Making a new one stops the old one."),
        lang.t("返回预约", "Back to bookings"),
    );
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("我的日历", "My calendar"),
            Some("/bookings"),
            &body,
            Extras::default(),
        ),
    )
}
