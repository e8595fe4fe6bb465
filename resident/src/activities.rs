//! The activity programme for a resident: the next seven days' activities
//! with the places left, my place on each (signed up, offered a freed
//! place with the time to take it, waiting with my turn), sign up, take an
//! offered place, cancel until the start; and what I attended over the
//! last year with my volunteer hours.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use keting_core::activity::ActivityKind;
use keting_core::activity::rules::Standing;
use keting_core::calendar::Span;
use keting_core::time::Timestamp;
use keting_desk::Actor;
use keting_desk::activities::{self, ActivityError};
use keting_desk::records::ActivityState;
use keting_webkit::Lang;
use keting_webkit::html::esc;
use keting_webkit::respond::{html_page, see_other};

use crate::Residents;
use crate::bookings::{DAYS_AHEAD, Done};
use crate::guard::{self, Checked, Csrf, Visit};
use crate::page::{self, Extras, day_words, hhmm};

const YEAR_MS: i64 = 365 * 86_400_000;

/// Whole minutes from `now` to `until`, rounded up (0 once past).
fn minutes_left(until: Timestamp, now: Timestamp) -> i64 {
    let ms = (until.as_unix_millis() - now.as_unix_millis()).max(0);
    (ms + 59_999) / 60_000
}

/// `/activities`.
pub async fn page(State(r): State<Residents>, visit: Visit, Query(done): Query<Done>) -> Response {
    let me = match guard::resident(&r, &visit).await {
        Ok(me) => me,
        Err(out) => return *out,
    };
    let (lang, cal, now) = (visit.lang, r.site().calendar, guard::now());
    let member = me.member;
    let span = Span {
        start: now,
        end: cal.start_of(cal.date_of(now) + time::Duration::days(DAYS_AHEAD)),
    };
    let read = r
        .with_store(move |s| {
            let programme = activities::programme(s, span, now)?;
            let mine: HashMap<i64, Standing> = activities::of_member(s, member, now)?
                .into_iter()
                .map(|(rec, st)| (rec.id, st))
                .collect();
            let mut turns = HashMap::new();
            for (id, st) in &mine {
                if *st == Standing::Waiting {
                    turns.insert(*id, activities::waiting_turn(s, *id, member)?);
                }
            }
            let attended = activities::attended_by(
                s,
                member,
                Timestamp::from_unix_millis(now.as_unix_millis() - YEAR_MS),
                50,
            )?;
            Ok::<_, ActivityError>((programme, mine, turns, attended))
        })
        .await;
    let (programme, mine, turns, attended) = match read {
        Ok(x) => x,
        Err(e) => return page::unavailable(lang, &e),
    };
    let zh = lang == Lang::Zh;
    let waiting = mine
        .values()
        .any(|s| matches!(s, Standing::Waiting | Standing::Offered { .. }));
    let mut body = page::done_notice(lang, done.done.as_deref());
    body.push_str(&format!(
        "<h2>{}</h2>",
        lang.t("近7天的活动", "The next 7 days")
    ));
    let shown: Vec<_> = programme
        .iter()
        .filter(|a| a.record.state == ActivityState::Open && a.record.plan.ends > now)
        .collect();
    if shown.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            lang.t("近期没有活动。", "Nothing planned yet.")
        ));
    }
    for a in shown {
        let p = &a.record.plan;
        let started = now >= p.starts;
        let standing = mine.get(&a.record.id).copied();
        let title = if zh { &p.title_zh } else { &p.title_en };
        body.push_str(&format!(
            "<div class=\"card\"><p><b>{}</b>{}<br>{} {}–{} · {}</p>",
            esc(title),
            if p.kind == ActivityKind::Volunteer {
                lang.t("（志愿服务）", " (volunteering)")
            } else {
                ""
            },
            day_words(lang, cal, p.starts, now),
            hhmm(cal, p.starts),
            hhmm(cal, p.ends),
            esc(&p.room),
        ));
        let (line, class) = match standing {
            Some(Standing::Place) => (lang.t("您已报名", "You have a place").to_owned(), "ok"),
            Some(Standing::Offered { until }) => (
                match lang {
                    Lang::Zh => format!(
                        "有空位给您！请在{} {}前确认（还有{}分钟）",
                        day_words(lang, cal, until, now),
                        hhmm(cal, until),
                        minutes_left(until, now)
                    ),
                    Lang::En => format!(
                        "A place is yours if you take it by {} {} ({} minutes left)",
                        day_words(lang, cal, until, now),
                        hhmm(cal, until),
                        minutes_left(until, now)
                    ),
                },
                "warn",
            ),
            Some(Standing::Waiting) => (
                match (lang, turns.get(&a.record.id).copied().flatten()) {
                    (Lang::Zh, Some(n)) => format!("排队中，第{n}位"),
                    (Lang::En, Some(n)) => format!("On the waiting list: number {n}"),
                    _ => lang.t("排队中", "On the waiting list").to_owned(),
                },
                "muted",
            ),
            _ => (
                match lang {
                    Lang::Zh if a.places_left > 0 => format!("剩{}个名额", a.places_left),
                    Lang::Zh => format!("已满，{}人排队", a.waiting),
                    Lang::En if a.places_left > 0 => format!("{} places left", a.places_left),
                    Lang::En => format!("Full, {} waiting", a.waiting),
                },
                "muted",
            ),
        };
        body.push_str(&format!("<p class=\"{class}\">{}</p>", esc(&line)));
        let form = |action: &str, label: &str, quiet: bool| {
            format!(
                "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <input type=\"hidden\" name=\"activity\" value=\"{}\"><button{}>{}</button></form>",
                esc(&me.csrf),
                a.record.id,
                if quiet { " class=\"quiet\"" } else { "" },
                esc(label)
            )
        };
        if !started {
            match standing {
                Some(Standing::Offered { .. }) => {
                    body.push_str(&form(
                        "/activities/sign-up",
                        lang.t("确认参加", "Take the place"),
                        false,
                    ));
                    body.push_str(&form(
                        "/activities/off",
                        lang.t("不要了", "No, thank you"),
                        true,
                    ));
                }
                Some(Standing::Place) => body.push_str(&form(
                    "/activities/off",
                    lang.t("取消报名", "Cancel my place"),
                    true,
                )),
                Some(Standing::Waiting) => body.push_str(&form(
                    "/activities/off",
                    lang.t("不排了", "Leave the waiting list"),
                    true,
                )),
                _ if a.places_left > 0 => body.push_str(&form(
                    "/activities/sign-up",
                    lang.t("报名", "Sign up"),
                    false,
                )),
                _ => body.push_str(&form(
                    "/activities/sign-up",
                    lang.t("排队等候", "Join the waiting list"),
                    true,
                )),
            }
        }
        body.push_str("</div>");
    }
    body.push_str(&format!(
        "<h2>{}</h2>",
        lang.t("我参加过的活动（一年内）", "What I attended (last year)")
    ));
    if attended.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            lang.t("还没有记录。", "Nothing yet.")
        ));
    } else {
        let minutes: u32 = attended.iter().filter_map(|a| a.confirmed_minutes).sum();
        if attended.iter().any(|a| a.volunteer) {
            body.push_str(&format!(
                "<p class=\"ok\">{}</p>",
                match lang {
                    Lang::Zh => format!("志愿服务时长：{}小时{}分钟", minutes / 60, minutes % 60),
                    Lang::En => format!("Volunteer time: {} h {} min", minutes / 60, minutes % 60),
                }
            ));
        }
        body.push_str("<ul>");
        for a in &attended {
            let hours = match (a.volunteer, a.confirmed_minutes) {
                (true, Some(m)) => match lang {
                    Lang::Zh => format!("（{}分钟）", m),
                    Lang::En => format!(" ({m} min)"),
                },
                (true, None) => lang
                    .t("（时长待确认）", " (time to be confirmed)")
                    .to_owned(),
                _ => String::new(),
            };
            body.push_str(&format!(
                "<li>{} {}{}</li>",
                day_words(lang, cal, a.starts, now),
                esc(if zh { &a.title.0 } else { &a.title.1 }),
                esc(&hours)
            ));
        }
        body.push_str("</ul>");
    }
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("活动", "Activities"),
            Some("/activities"),
            &body,
            // Waiting or offered: the page looks again by itself.
            Extras {
                refresh_seconds: waiting.then_some(page::WAITING_REFRESH_SECONDS),
                wake: false,
                nav_below: false,
            },
        ),
    )
}

/// A sign-up or cancel form.
#[derive(serde::Deserialize)]
pub struct ActivityForm {
    #[serde(default)]
    csrf: String,
    activity: i64,
}

impl Csrf for ActivityForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /activities/sign-up`: a place, an offered place taken, or a turn.
pub async fn sign_up(
    State(r): State<Residents>,
    Checked { me, visit, form: f }: Checked<ActivityForm>,
) -> Response {
    let (lang, now, m) = (visit.lang, guard::now(), me.member);
    match r
        .with_store(move |s| activities::sign_up(s, Actor::Member(m), f.activity, m, now))
        .await
    {
        Ok(keting_core::activity::rules::SignedUp::Place) => see_other("/activities?done=signed"),
        Ok(keting_core::activity::rules::SignedUp::Waiting(_)) => {
            see_other("/activities?done=waiting")
        }
        Err(e) => page::refused(lang, "/activities", &e),
    }
}

/// `POST /activities/off`: my place, offer or turn given up.
pub async fn off(
    State(r): State<Residents>,
    Checked { me, visit, form: f }: Checked<ActivityForm>,
) -> Response {
    let (lang, now, m) = (visit.lang, guard::now(), me.member);
    match r
        .with_store(move |s| activities::cancel_place(s, Actor::Member(m), f.activity, m, now))
        .await
    {
        Ok(()) => see_other("/activities?done=off"),
        Err(e) => page::refused(lang, "/activities", &e),
    }
}
