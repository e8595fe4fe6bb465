//! The week's programme (`/activities?week=YYYY-MM-DD`): a timetable by
//! room, Monday to Sunday, each activity with its time, places left of its
//! capacity, its waiting list and its state, linked to its own page; the
//! form that plans one (or a repeat of it); and the week as CSV and XLSX,
//! equal to what the page lists.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::activity::recurrence::RepeatRule;
use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
use keting_core::calendar::{SiteCalendar, Span};
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
use time::{Date, Duration as Days};

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::xlsx::{Cell, Sheet};
use super::{Dashboard, bad_input, form_guard, html_page, lang, see_other};
use keting_desk::Actor;
use keting_desk::activities::{self as desk_activities, ActivityError, ActivityView};
use keting_desk::records::ActivityState;
use keting_link::clock;

/// Who may run activities, and the words for a role that may not.
pub(super) const MAY: (StaffAction, super::RoleWords) = (
    StaffAction::Activities,
    ("您的角色不能管理活动", "Your role may not run activities"),
);

/// The status a refusal is answered with.
pub(super) fn status_of(e: &ActivityError) -> StatusCode {
    match e {
        ActivityError::Forbidden(_) => StatusCode::FORBIDDEN,
        ActivityError::UnknownActivity(_) => StatusCode::NOT_FOUND,
        ActivityError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `?week=YYYY-MM-DD` (any day of the week; this week by default).
#[derive(Debug, Default, serde::Deserialize)]
pub struct WeekQuery {
    week: Option<String>,
}

/// A kind of activity in words.
pub fn kind_word(lang: Lang, k: ActivityKind) -> &'static str {
    match k {
        ActivityKind::Class => lang.t("课程", "class"),
        ActivityKind::Lecture => lang.t("讲座", "lecture"),
        ActivityKind::Event => lang.t("活动", "event"),
        ActivityKind::Volunteer => lang.t("志愿服务", "volunteer shift"),
    }
}

/// An activity's state in words, at `now`.
pub fn state_word(lang: Lang, v: &ActivityView, now: Timestamp) -> String {
    let p = &v.record.plan;
    match &v.record.state {
        ActivityState::Cancelled(reason) => match lang {
            Lang::Zh => format!("已取消：{reason}"),
            Lang::En => format!("cancelled: {reason}"),
        },
        ActivityState::Closed { held: true } => lang.t("已举办", "held").into(),
        ActivityState::Closed { held: false } => {
            lang.t("已结束（无人参加）", "closed, nobody came").into()
        }
        ActivityState::Open if now >= p.ends => lang.t("已结束，待登记", "ended, to close").into(),
        ActivityState::Open if now >= p.starts => lang.t("进行中", "on now").into(),
        ActivityState::Open => lang.t("报名中", "open for sign-up").into(),
    }
}

fn hhmm(cal: SiteCalendar, t: Timestamp) -> String {
    let l = cal.local(t);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

fn week_day(cal: SiteCalendar, q: Option<&str>) -> Result<Date, ()> {
    match q.map(str::trim).filter(|w| !w.is_empty()) {
        None => Ok(cal.date_of(clock::now())),
        Some(w) => keting_core::calendar::parse_date(w).map_err(|_| ()),
    }
}

fn monday_of(day: Date) -> Date {
    day - Days::days(i64::from(day.weekday().number_days_from_monday()))
}

async fn week(d: &Dashboard, span: Span) -> Result<Vec<ActivityView>, ActivityError> {
    let now = clock::now();
    d.with_store(move |s| desk_activities::programme(s, span, now))
        .await
}

/// `GET /activities`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<WeekQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    render(&d, &who, lang, q.week.as_deref(), StatusCode::OK, None).await
}

async fn render(
    d: &Dashboard,
    who: &StaffSession,
    lang: Lang,
    week_q: Option<&str>,
    status: StatusCode,
    note: Option<Result<String, String>>,
) -> Response {
    let cal = d.site().calendar;
    let Ok(day) = week_day(cal, week_q) else {
        return bad_input(
            lang,
            Some(who),
            lang.t("日期格式应为 2026-12-31", "A date is written 2026-12-31"),
        );
    };
    let monday = monday_of(day);
    let span = desk_activities::week_of(cal, day);
    let all = match week(d, span).await {
        Ok(a) => a,
        Err(e) => return bad_input(lang, Some(who), &e.words(lang)),
    };
    let now = clock::now();
    let days: Vec<Date> = (0..7).map(|i| monday + Days::days(i)).collect();
    let mut by_room: BTreeMap<String, Vec<Vec<&ActivityView>>> = BTreeMap::new();
    for v in &all {
        let i = (cal.date_of(v.record.plan.starts) - monday).whole_days();
        let cells = by_room
            .entry(v.record.plan.room.clone())
            .or_insert_with(|| vec![Vec::new(); 7]);
        if let Some(cell) = usize::try_from(i).ok().and_then(|i| cells.get_mut(i)) {
            cell.push(v);
        }
    }
    let rows: Vec<Vec<String>> = by_room
        .iter()
        .map(|(room, cells)| {
            let mut row = vec![esc(room)];
            for cell in cells {
                let mut c = String::new();
                for v in cell {
                    let p = &v.record.plan;
                    let _ = write!(
                        c,
                        "<div class=\"activity\"><a href=\"/activities/{}\">{} {}</a><br><small>{}–{} · {} {}{}</small><br><small>{}</small></div>",
                        v.record.id,
                        hhmm(cal, p.starts),
                        esc(lang.t(&p.title_zh, &p.title_en)),
                        hhmm(cal, p.starts),
                        hhmm(cal, p.ends),
                        lang.t("余", "left"),
                        format_args!("{}/{}", v.places_left, p.capacity),
                        if v.waiting > 0 {
                            match lang {
                                Lang::Zh => format!(" · 候补 {}", v.waiting),
                                Lang::En => format!(" · {} waiting", v.waiting),
                            }
                        } else {
                            String::new()
                        },
                        esc(&state_word(lang, v, now)),
                    );
                }
                row.push(c);
            }
            row
        })
        .collect();
    let head_days = super::timetable::week_heads(lang, &days);
    let mut head: Vec<&str> = vec![lang.t("地点", "Room")];
    head.extend(head_days.iter().map(String::as_str));
    let (prev, next) = (monday - Days::days(7), monday + Days::days(7));
    let mut body = format!(
        "<h1>{}</h1><form method=\"get\" action=\"/activities\" class=\"period\"><a href=\"/activities?week={prev}\">{}</a> \
         <label>{} <input name=\"week\" value=\"{monday}\" size=\"10\" maxlength=\"10\"></label> <button>{}</button> \
         <a href=\"/activities?week={next}\">{}</a> · <a href=\"/activities.csv?week={monday}\" download>{}</a> \
         <a href=\"/activities.xlsx?week={monday}\" download>{}</a></form>",
        lang.t("本周活动", "This week's programme"),
        lang.t("上一周", "Week before"),
        lang.t("周", "Week of"),
        lang.t("查看", "Show"),
        lang.t("下一周", "Week after"),
        lang.t("导出 CSV", "Export CSV"),
        lang.t("导出 Excel", "Export Excel"),
    );
    match &note {
        Some(Ok(msg)) => {
            let _ = write!(body, "<p class=\"ok\" id=\"note\">{}</p>", esc(msg));
        }
        Some(Err(why)) => {
            let _ = write!(body, "<p class=\"error\" id=\"note\">{}</p>", esc(why));
        }
        None => {}
    }
    let _ = write!(
        body,
        "<p id=\"week-count\">{}</p>",
        match lang {
            Lang::Zh => format!("本周共 {} 场活动", all.len()),
            Lang::En => format!("Activities this week: {}", all.len()),
        }
    );
    if rows.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.t("本周还没有活动", "Nothing planned this week")
        );
    } else {
        body.push_str(&html::table("programme", &head, &rows));
    }
    if who.role.may(StaffAction::Activities) {
        let from_district = d
            .with_store(move |s| desk_activities::from_district(s, cal, clock::now()))
            .await
            .unwrap_or_default();
        if !from_district.is_empty() {
            let rows: Vec<Vec<String>> = from_district
                .iter()
                .map(|a| {
                    vec![
                        format!("{} {}", esc(&a.date), esc(&a.starts)),
                        esc(lang.t(&a.title_zh, &a.title_en)),
                        esc(&a.place_zh),
                        format!(
                            "<form method=\"post\" action=\"/activities/adopt\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"msg_id\" value=\"{}\">\
                             <label>{} <input name=\"capacity\" value=\"30\" size=\"4\" maxlength=\"3\"></label> <label>{} <input name=\"minutes\" value=\"60\" size=\"4\" maxlength=\"4\"></label> <button>{}</button></form>",
                            esc(&who.csrf),
                            esc(&a.msg_id),
                            lang.t("名额", "Places"),
                            lang.t("分钟", "Minutes"),
                            lang.t("采用并开放报名", "Adopt, open for sign-up"),
                        ),
                    ]
                })
                .collect();
            let _ = write!(
                body,
                "<section><h2>{}</h2>{}</section>",
                lang.t("区里发来的活动", "From the district"),
                html::table(
                    "district-activities",
                    &[
                        lang.t("时间", "When"),
                        lang.t("活动", "Activity"),
                        lang.t("地点", "Where"),
                        ""
                    ],
                    &rows
                )
            );
        }
        let today = cal.date_of(clock::now());
        // A new activity is planned from today, not on a past Monday.
        body.push_str(&add_form(lang, who, monday.max(today)));
        let closed = d
            .with_store(move |s| desk_activities::closed_days(s, today))
            .await
            .unwrap_or_default();
        let listed: String = closed
            .iter()
            .map(|(day, why)| format!("<li>{day} {}</li>", esc(why)))
            .collect();
        let _ = write!(
            body,
            "<section><h2>{}</h2>{}<form method=\"post\" action=\"/activities/closed-day\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label>{} <input name=\"day\" size=\"10\" maxlength=\"10\" placeholder=\"2027-02-17\" required></label> \
             <label>{} <input name=\"reason\" maxlength=\"40\" required></label> <button>{}</button></form></section>",
            lang.t("闭馆日（重复活动跳过）", "Closed days (repeats skip them)"),
            if listed.is_empty() {
                String::new()
            } else {
                format!("<ul id=\"closed-days\">{listed}</ul>")
            },
            esc(&who.csrf),
            lang.t("日期", "Date"),
            lang.t("原因", "Reason"),
            lang.t("标为闭馆", "Mark closed"),
        );
    }
    html_page(
        status,
        html::page(
            lang,
            lang.t("活动", "Activities"),
            Some(who),
            Nav::Activities,
            &body,
        ),
    )
}

fn add_form(lang: Lang, who: &StaffSession, day: Date) -> String {
    let kinds: String = ActivityKind::ALL
        .iter()
        .map(|k| {
            format!(
                "<option value=\"{}\">{}</option>",
                k.as_str(),
                kind_word(lang, *k)
            )
        })
        .collect();
    format!(
        "<section><h2>{}</h2><form method=\"post\" action=\"/activities/add\" class=\"activity-add\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{} <input name=\"title_zh\" maxlength=\"40\" required></label> \
         <label>{} <input name=\"title_en\" maxlength=\"40\" required></label> \
         <label>{} <input name=\"room\" maxlength=\"40\" required></label><br>\
         <label>{} <input name=\"date\" value=\"{day}\" size=\"10\" maxlength=\"10\" required></label> \
         <label>{} <input name=\"start\" value=\"09:00\" size=\"5\" maxlength=\"5\" required></label> \
         <label>{} <input name=\"end\" value=\"10:00\" size=\"5\" maxlength=\"5\" required></label> \
         <label>{} <input name=\"capacity\" value=\"20\" size=\"4\" maxlength=\"3\" required></label> \
         <label>{} <select name=\"kind\">{kinds}</select></label> \
         <label>{} <input name=\"points_per_hour\" value=\"0\" size=\"3\" maxlength=\"3\"></label><br>\
         <label>{} <input name=\"organiser\" maxlength=\"40\"></label> \
         <label>{} <input name=\"repeat\" placeholder=\"weekly mon,wed,fri until 2026-12-31\" size=\"36\" maxlength=\"80\"></label> \
         <button>{}</button></form></section>",
        lang.t("新增活动", "Plan an activity"),
        lang.t("中文标题", "Title (Chinese)"),
        lang.t("英文标题", "Title (English)"),
        lang.t("地点", "Room"),
        lang.t("日期", "Date"),
        lang.t("开始", "Starts"),
        lang.t("结束", "Ends"),
        lang.t("名额", "Places"),
        lang.t("类型", "Kind"),
        lang.t("每小时积分（志愿服务）", "Points an hour (volunteer shift)"),
        lang.t("外部组织者（可空）", "Outside organiser (optional)"),
        lang.t("重复（可空）", "Repeat (optional)"),
        lang.t("新增", "Add"),
        csrf = esc(&who.csrf),
    )
}

/// The add form.
#[derive(serde::Deserialize)]
pub struct AddForm {
    csrf: String,
    title_zh: String,
    title_en: String,
    room: String,
    date: String,
    start: String,
    end: String,
    capacity: String,
    kind: String,
    #[serde(default)]
    points_per_hour: String,
    #[serde(default)]
    organiser: String,
    #[serde(default)]
    repeat: String,
}

/// `HH:MM` on `day` in the site's time.
pub fn at(cal: SiteCalendar, day: Date, hm: &str) -> Option<Timestamp> {
    let (h, m) = hm.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && hm.trim().len() == 5).then(|| {
        Timestamp::from_unix_millis(cal.start_of(day).as_unix_millis() + (h * 60 + m) * 60_000)
    })
}

/// `POST /activities/add`.
pub async fn add(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<AddForm>,
) -> Response {
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, Some(MAY)) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let cal = d.site().calendar;
    let week = f.date.trim().to_owned();
    let parsed = (|| {
        let day = keting_core::calendar::parse_date(f.date.trim()).map_err(|_| {
            lang.t("日期格式应为 2026-12-31", "A date is written 2026-12-31")
                .to_owned()
        })?;
        let time_word = lang.t("时间格式应为 09:00", "A time is written 09:00");
        let starts = at(cal, day, &f.start).ok_or_else(|| time_word.to_owned())?;
        let ends = at(cal, day, &f.end).ok_or_else(|| time_word.to_owned())?;
        let capacity: u32 = f
            .capacity
            .trim()
            .parse()
            .map_err(|_| lang.t("名额是数字", "Places is a number").to_owned())?;
        let kind: ActivityKind = f
            .kind
            .parse()
            .map_err(|e: keting_core::activity::ActivityRefusal| e.words(lang))?;
        let points_per_hour: u32 = match f.points_per_hour.trim() {
            "" => 0,
            p => p.parse().map_err(|_| {
                lang.t("每小时积分是数字", "Points an hour is a number")
                    .to_owned()
            })?,
        };
        let repeat = match f.repeat.trim() {
            "" => None,
            r => Some((
                r.parse::<RepeatRule>().map_err(|e| e.words(lang))?,
                r.to_owned(),
            )),
        };
        Ok::<_, String>((
            ActivityPlan {
                title_zh: f.title_zh.clone(),
                title_en: f.title_en.clone(),
                room: f.room.clone(),
                starts,
                ends,
                capacity,
                kind,
                audience: if kind == ActivityKind::Volunteer {
                    Audience::Volunteers
                } else {
                    Audience::Everyone
                },
                points_per_hour,
                organiser_name: f.organiser.clone(),
            },
            repeat,
        ))
    })();
    let (plan, repeat) = match parsed {
        Ok(p) => p,
        Err(why) => {
            return render(
                &d,
                &who,
                lang,
                Some(&week),
                StatusCode::BAD_REQUEST,
                Some(Err(why)),
            )
            .await;
        }
    };
    let actor = Actor::Staff(who.member);
    let done = d
        .with_store(move |s| {
            desk_activities::add(
                s,
                actor,
                &plan,
                repeat.as_ref().map(|(r, t)| (r, t.as_str())),
                cal,
                clock::now(),
            )
        })
        .await;
    match done {
        Ok(ids) => {
            let msg = match lang {
                Lang::Zh => format!("已新增 {} 场活动", ids.len()),
                Lang::En => format!("{} activities planned", ids.len()),
            };
            render(&d, &who, lang, Some(&week), StatusCode::OK, Some(Ok(msg))).await
        }
        Err(e) => {
            render(
                &d,
                &who,
                lang,
                Some(&week),
                status_of(&e),
                Some(Err(e.words(lang))),
            )
            .await
        }
    }
}

/// The closed-day form.
#[derive(serde::Deserialize)]
pub struct ClosedDayForm {
    csrf: String,
    day: String,
    reason: String,
}

/// `POST /activities/closed-day`: a day the centre is closed (a public
/// holiday); repeat rules skip it.
pub async fn closed_day(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<ClosedDayForm>,
) -> Response {
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, Some(MAY)) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let Ok(day) = keting_core::calendar::parse_date(f.day.trim()) else {
        let why = lang
            .t("日期格式应为 2026-12-31", "A date is written 2026-12-31")
            .to_owned();
        return render(
            &d,
            &who,
            lang,
            None,
            StatusCode::BAD_REQUEST,
            Some(Err(why)),
        )
        .await;
    };
    let reason: String = f.reason.chars().take(40).collect();
    if reason.contains(['<', '>']) {
        let why = lang.t("原因不能有 < >", "A reason has no < >").to_owned();
        return render(
            &d,
            &who,
            lang,
            None,
            StatusCode::BAD_REQUEST,
            Some(Err(why)),
        )
        .await;
    }
    let actor = Actor::Staff(who.member);
    let done = d
        .with_store(move |s| desk_activities::close_day(s, actor, day, &reason, clock::now()))
        .await;
    match done {
        Ok(()) => {
            let msg = match lang {
                Lang::Zh => format!("{day} 已标为闭馆"),
                Lang::En => format!("{day} is marked closed"),
            };
            render(&d, &who, lang, None, StatusCode::OK, Some(Ok(msg))).await
        }
        Err(e) => {
            render(
                &d,
                &who,
                lang,
                None,
                status_of(&e),
                Some(Err(e.words(lang))),
            )
            .await
        }
    }
}

/// The adopt form.
#[derive(serde::Deserialize)]
pub struct AdoptForm {
    csrf: String,
    msg_id: String,
    capacity: String,
    minutes: String,
}

/// `POST /activities/adopt`: a district activity becomes the centre's.
pub async fn adopt(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<AdoptForm>,
) -> Response {
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, Some(MAY)) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let (Ok(capacity), Ok(minutes)) = (
        f.capacity.trim().parse::<u32>(),
        f.minutes.trim().parse::<u32>(),
    ) else {
        let why = lang
            .t("名额和分钟数是数字", "Places and minutes are numbers")
            .to_owned();
        return render(
            &d,
            &who,
            lang,
            None,
            StatusCode::BAD_REQUEST,
            Some(Err(why)),
        )
        .await;
    };
    let cal = d.site().calendar;
    let actor = Actor::Staff(who.member);
    let msg_id = f.msg_id.clone();
    let done = d
        .with_store(move |s| {
            desk_activities::adopt(s, actor, &msg_id, capacity, minutes, cal, clock::now())
        })
        .await;
    match done {
        Ok(id) => {
            let msg = match lang {
                Lang::Zh => format!("已采用为第 {id} 号活动，开放报名"),
                Lang::En => format!("Adopted as activity {id}, open for sign-up"),
            };
            render(&d, &who, lang, None, StatusCode::OK, Some(Ok(msg))).await
        }
        Err(e) => {
            render(
                &d,
                &who,
                lang,
                None,
                status_of(&e),
                Some(Err(e.words(lang))),
            )
            .await
        }
    }
}

/// The week as a sheet, as the page lists it.
fn sheet(lang: Lang, cal: SiteCalendar, monday: Date, all: &[ActivityView]) -> Sheet {
    let now = clock::now();
    Sheet {
        name: match lang {
            Lang::Zh => format!("活动 {monday} 周"),
            Lang::En => format!("Activities week of {monday}"),
        },
        head: [
            lang.t("编号", "Number"),
            lang.t("日期", "Date"),
            lang.t("开始", "Starts"),
            lang.t("结束", "Ends"),
            lang.t("地点", "Room"),
            lang.t("中文标题", "Title (Chinese)"),
            lang.t("英文标题", "Title (English)"),
            lang.t("类型", "Kind"),
            lang.t("名额", "Places"),
            lang.t("已报名", "Taken"),
            lang.t("候补", "Waiting"),
            lang.t("到场", "Attended"),
            lang.t("状态", "State"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: all
            .iter()
            .map(|v| {
                let p = &v.record.plan;
                vec![
                    Cell::from(u64::try_from(v.record.id).unwrap_or(0)),
                    Cell::from(cal.date_of(p.starts).to_string()),
                    Cell::from(hhmm(cal, p.starts)),
                    Cell::from(hhmm(cal, p.ends)),
                    Cell::from(p.room.as_str()),
                    Cell::from(p.title_zh.as_str()),
                    Cell::from(p.title_en.as_str()),
                    Cell::from(kind_word(lang, p.kind)),
                    Cell::from(u64::from(p.capacity)),
                    Cell::from(u64::from(v.places_held)),
                    Cell::from(u64::from(v.waiting)),
                    Cell::from(u64::from(v.record.attended)),
                    Cell::from(state_word(lang, v, now)),
                ]
            })
            .collect(),
    }
}

async fn export(
    d: &Dashboard,
    headers: &HeaderMap,
    q: &WeekQuery,
) -> Result<(Lang, Date, Sheet), Response> {
    let lang = lang(headers);
    let Some(who) = d.session(headers) else {
        return Err(see_other("/sign-in"));
    };
    let cal = d.site().calendar;
    let day = week_day(cal, q.week.as_deref()).map_err(|()| {
        bad_input(
            lang,
            Some(&who),
            lang.t("日期格式应为 2026-12-31", "A date is written 2026-12-31"),
        )
    })?;
    let monday = monday_of(day);
    let all = week(d, desk_activities::week_of(cal, day))
        .await
        .map_err(|e| bad_input(lang, Some(&who), &e.words(lang)))?;
    Ok((lang, monday, sheet(lang, cal, monday, &all)))
}

/// `GET /activities.csv`: the week as CSV.
pub async fn csv(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<WeekQuery>,
) -> Response {
    match export(&d, &headers, &q).await {
        Ok((_, monday, sheet)) => {
            super::csv_download(&format!("keting-activities-{monday}.csv"), &sheet)
        }
        Err(r) => r,
    }
}

/// `GET /activities.xlsx`: the week as an Excel workbook.
pub async fn xlsx(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<WeekQuery>,
) -> Response {
    match export(&d, &headers, &q).await {
        Ok((lang, monday, sheet)) => {
            super::xlsx_download(lang, &format!("keting-activities-{monday}.xlsx"), &[sheet])
        }
        Err(r) => r,
    }
}
