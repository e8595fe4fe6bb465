//! One activity's page (`/activities/ID`): what, where and when, its
//! places; its list in turn (places, offers with their time, the waiting
//! list), with sign-up at the desk for a resident and taking someone off;
//! its attendance (marked here by the organiser too), each volunteer's
//! time with a forgotten check-out flagged and confirmed here; closing
//! (held when someone attended, volunteers paid, shown what it will
//! award first) and cancelling with a reason.

use std::fmt::Write;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::activity::ActivityKind;
use keting_core::activity::rules::Standing;
use keting_core::activity::volunteer_hours::ShiftTime;
use keting_core::ids::MemberId;
use keting_core::staff::StaffAction;

use super::activities::{MAY, kind_word, state_word, status_of};
use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::{Dashboard, form_guard, html_page, lang, see_other};
use keting_desk::Actor;
use keting_desk::activities::{self as desk_activities, ActivityError, ActivityView, ClosingSheet};
use keting_desk::records::ActivityState;
use keting_link::clock;

type Loaded = (
    ActivityView,
    Vec<(keting_core::activity::rules::Entry, String)>,
    ClosingSheet,
);

async fn load(d: &Dashboard, id: i64) -> Result<Loaded, ActivityError> {
    d.with_store(move |s| {
        Ok((
            desk_activities::get(s, id)?,
            desk_activities::list_of(s, id)?,
            desk_activities::closing_sheet(s, id)?,
        ))
    })
    .await
}

/// `GET /activities/ID`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    render(&d, &who, lang, &id, StatusCode::OK, None).await
}

async fn render(
    d: &Dashboard,
    who: &StaffSession,
    lang: Lang,
    id: &str,
    status: StatusCode,
    note: Option<Result<String, String>>,
) -> Response {
    let Ok(id) = id.trim().parse::<i64>() else {
        return super::bad_input(
            lang,
            Some(who),
            lang.t("活动编号是数字", "An activity number is a number"),
        );
    };
    let (v, list, sheet) = match load(d, id).await {
        Ok(l) => l,
        Err(e) => {
            let status = status_of(&e);
            return super::not_done_with(status, lang, Some(who), &e.words(lang));
        }
    };
    let cal = d.site().calendar;
    let now = clock::now();
    let p = &v.record.plan;
    let local = |t| {
        let l = cal.local(t);
        format!("{} {:02}:{:02}", l.date(), l.hour(), l.minute())
    };
    let hm = |t| {
        let l = cal.local(t);
        format!("{:02}:{:02}", l.hour(), l.minute())
    };
    let may = who.role.may(StaffAction::Activities) && v.record.state == ActivityState::Open;
    let csrf = esc(&who.csrf);
    let mut body = format!(
        "<p><a href=\"/activities?week={}\">{}</a></p><h1>{}</h1>\
         <p class=\"facts\">{} · {} · {}–{} · {} <b id=\"places-left\">{}</b>/{} · {} <b id=\"waiting\">{}</b> · <span id=\"state\">{}</span>{}</p>",
        cal.date_of(p.starts),
        lang.t("← 本周活动", "← The week's programme"),
        esc(lang.t(&p.title_zh, &p.title_en)),
        kind_word(lang, p.kind),
        esc(&p.room),
        local(p.starts),
        hm(p.ends),
        lang.t("余位", "places left"),
        v.places_left,
        p.capacity,
        lang.t("候补", "waiting"),
        v.waiting,
        esc(&state_word(lang, &v, now)),
        if p.organiser_name.is_empty() {
            String::new()
        } else {
            format!(
                " · {} {}",
                lang.t("组织者", "organised by"),
                esc(&p.organiser_name)
            )
        },
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
    // The list in turn.
    let rows: Vec<Vec<String>> = list
        .iter()
        .filter(|(e, _)| e.standing.is_on_list())
        .enumerate()
        .map(|(i, (e, name))| {
            let standing = match e.standing {
                Standing::Place => lang.t("已报名", "place").to_owned(),
                Standing::Offered { until } => match lang {
                    Lang::Zh => format!("候补递补，{} 前确认", local(until)),
                    Lang::En => format!("offered until {}", local(until)),
                },
                _ => lang.t("候补", "waiting").to_owned(),
            };
            let off = if may {
                format!(
                    "<form method=\"post\" action=\"/activities/{id}/off\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"member\" value=\"{}\"><button>{}</button></form>",
                    e.member.0,
                    lang.t("取消报名", "Take off")
                )
            } else {
                String::new()
            };
            vec![format!("{}", i + 1), esc(name), format!("{}", e.member.0), standing, off]
        })
        .collect();
    let _ = write!(
        body,
        "<section><h2>{}</h2>",
        lang.t("报名名单", "Who is signed up")
    );
    if rows.is_empty() {
        let _ = write!(body, "<p>{}</p>", lang.t("还没有人报名", "Nobody yet"));
    } else {
        body.push_str(&html::table(
            "signups",
            &[
                "#",
                lang.t("姓名", "Name"),
                lang.t("会员号", "Member"),
                lang.t("状态", "Standing"),
                "",
            ],
            &rows,
        ));
    }
    if may {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/activities/{id}/signup\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>{} <input name=\"member\" size=\"8\" maxlength=\"10\" required></label> <button>{}</button></form>",
            lang.t("为居民报名：会员号", "Sign a resident up: member number"),
            lang.t("报名", "Sign up"),
        );
    }
    body.push_str("</section>");
    // Attendance and volunteers' time.
    let volunteer = p.kind == ActivityKind::Volunteer;
    let rows: Vec<Vec<String>> = sheet
        .lines
        .iter()
        .map(|l| {
            let mut row = vec![esc(&l.name), format!("{}", l.member.0), hm(l.row.arrived)];
            if volunteer {
                row.push(l.row.left.map(hm).unwrap_or_default());
                row.push(match l.time {
                    Some(ShiftTime::Minutes(m)) => match lang {
                        Lang::Zh => format!("{m} 分钟 · {} 积分", l.points),
                        Lang::En => format!("{m} min · {} points", l.points),
                    },
                    _ => format!(
                        "<span class=\"error\">{}</span>",
                        lang.t("未签退：请确认时长", "No check-out: confirm the time")
                    ),
                });
                row.push(if may {
                    format!(
                        "<form method=\"post\" action=\"/activities/{id}/hours\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"member\" value=\"{}\"><input name=\"minutes\" size=\"4\" maxlength=\"4\"> {} <button>{}</button></form>",
                        l.member.0,
                        lang.t("分钟", "min"),
                        lang.t("确认", "Confirm")
                    )
                } else {
                    String::new()
                });
            }
            row
        })
        .collect();
    let _ = write!(
        body,
        "<section><h2>{} <span id=\"attended\">{}</span></h2>",
        lang.t("到场", "Attended"),
        sheet.lines.len()
    );
    if !rows.is_empty() {
        let mut head = vec![
            lang.t("姓名", "Name"),
            lang.t("会员号", "Member"),
            lang.t("签到", "In"),
        ];
        if volunteer {
            head.extend([lang.t("签退", "Out"), lang.t("时长", "Time"), ""]);
        }
        body.push_str(&html::table("attendance", &head, &rows));
    }
    if may {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/activities/{id}/attend\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>{} <input name=\"member\" size=\"8\" maxlength=\"10\" required></label> <button>{}</button></form>",
            lang.t("登记到场：会员号", "Mark attendance: member number"),
            lang.t("登记", "Mark"),
        );
    }
    body.push_str("</section>");
    if may {
        let paid: i64 = sheet.lines.iter().map(|l| l.points).sum();
        let _ = write!(
            body,
            "<section><h2>{}</h2><p>{}</p><form method=\"post\" action=\"/activities/{id}/close\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>{}</button></form>\
             <form method=\"post\" action=\"/activities/{id}/cancel\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"> <label>{} <input name=\"reason\" maxlength=\"80\" required></label> <button>{}</button></form></section>",
            lang.t("结束登记", "Close"),
            match lang {
                Lang::Zh => format!(
                    "结束后：{} 人到场{}；志愿者共发放 {paid} 积分。活动结束后才能登记。",
                    sheet.lines.len(),
                    if sheet.lines.is_empty() {
                        "（无人到场，不计为举办）"
                    } else {
                        "，计为举办一场"
                    }
                ),
                Lang::En => format!(
                    "Closing records {} attended{}; volunteers are paid {paid} points in all. It can be closed once it has ended.",
                    sheet.lines.len(),
                    if sheet.lines.is_empty() {
                        " (nobody came: not counted as held)"
                    } else {
                        ", counted as held"
                    }
                ),
            },
            lang.t("结束并发放积分", "Close and award"),
            lang.t("取消原因", "Reason to cancel"),
            lang.t("取消活动", "Cancel the activity"),
        );
    }
    if may && now < p.starts {
        let l = cal.local(p.starts);
        let _ = write!(
            body,
            "<section><h2>{}</h2><form method=\"post\" action=\"/activities/{id}/edit\" class=\"activity-edit\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>{} <input name=\"title_zh\" value=\"{}\" maxlength=\"40\" required></label> \
             <label>{} <input name=\"title_en\" value=\"{}\" maxlength=\"40\" required></label> \
             <label>{} <input name=\"room\" value=\"{}\" maxlength=\"40\" required></label><br>\
             <label>{} <input name=\"date\" value=\"{}\" size=\"10\" maxlength=\"10\" required></label> \
             <label>{} <input name=\"start\" value=\"{}\" size=\"5\" maxlength=\"5\" required></label> \
             <label>{} <input name=\"end\" value=\"{}\" size=\"5\" maxlength=\"5\" required></label> \
             <label>{} <input name=\"capacity\" value=\"{}\" size=\"4\" maxlength=\"3\" required></label> \
             <button>{}</button></form></section>",
            lang.t("修改", "Change"),
            lang.t("中文标题", "Title (Chinese)"),
            esc(&p.title_zh),
            lang.t("英文标题", "Title (English)"),
            esc(&p.title_en),
            lang.t("地点", "Room"),
            esc(&p.room),
            lang.t("日期", "Date"),
            l.date(),
            lang.t("开始", "Starts"),
            hm(p.starts),
            lang.t("结束", "Ends"),
            hm(p.ends),
            lang.t("名额", "Places"),
            p.capacity,
            lang.t("保存", "Save"),
        );
    }
    html_page(
        status,
        html::page(
            lang,
            lang.t("活动", "Activity"),
            Some(who),
            Nav::Activities,
            &body,
        ),
    )
}

/// The edit form.
#[derive(serde::Deserialize)]
pub struct EditForm {
    csrf: String,
    title_zh: String,
    title_en: String,
    room: String,
    date: String,
    start: String,
    end: String,
    capacity: String,
}

/// `POST /activities/ID/edit`: titles, room, times and places of an
/// activity not yet started; the places may not go below those taken.
pub async fn edit(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<EditForm>,
) -> Response {
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, Some(MAY)) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let Ok(n) = id.trim().parse::<i64>() else {
        return super::bad_input(
            lang,
            Some(&who),
            lang.t("活动编号是数字", "An activity number is a number"),
        );
    };
    let cal = d.site().calendar;
    let parsed = (|| {
        let day = keting_core::calendar::parse_date(f.date.trim()).map_err(|_| {
            lang.t("日期格式应为 2026-12-31", "A date is written 2026-12-31")
                .to_owned()
        })?;
        let time_word = lang.t("时间格式应为 09:00", "A time is written 09:00");
        let starts =
            super::activities::at(cal, day, &f.start).ok_or_else(|| time_word.to_owned())?;
        let ends = super::activities::at(cal, day, &f.end).ok_or_else(|| time_word.to_owned())?;
        let capacity: u32 = f
            .capacity
            .trim()
            .parse()
            .map_err(|_| lang.t("名额是数字", "Places is a number").to_owned())?;
        Ok::<_, String>((starts, ends, capacity))
    })();
    let (starts, ends, capacity) = match parsed {
        Ok(p) => p,
        Err(why) => {
            return render(&d, &who, lang, &id, StatusCode::BAD_REQUEST, Some(Err(why))).await;
        }
    };
    let actor = Actor::Staff(who.member);
    let (zh, en, room) = (f.title_zh.clone(), f.title_en.clone(), f.room.clone());
    let done = d
        .with_store(move |s| {
            let mut plan = desk_activities::get(s, n)?.record.plan;
            plan.title_zh = zh;
            plan.title_en = en;
            plan.room = room;
            plan.starts = starts;
            plan.ends = ends;
            plan.capacity = capacity;
            desk_activities::edit(s, actor, n, &plan, clock::now())
        })
        .await;
    match done {
        Ok(()) => {
            let msg = lang.t("已保存", "Saved").to_owned();
            render(&d, &who, lang, &id, StatusCode::OK, Some(Ok(msg))).await
        }
        Err(e) => render(&d, &who, lang, &id, status_of(&e), Some(Err(e.words(lang)))).await,
    }
}

/// A form naming a member.
#[derive(serde::Deserialize)]
pub struct MemberForm {
    csrf: String,
    member: String,
    #[serde(default)]
    minutes: String,
}

/// The cancel form.
#[derive(serde::Deserialize)]
pub struct CancelForm {
    csrf: String,
    reason: String,
}

/// The close form.
#[derive(serde::Deserialize)]
pub struct CloseForm {
    csrf: String,
}

enum Act {
    SignUp(MemberId),
    Off(MemberId),
    Attend(MemberId),
    Hours(MemberId, u32),
    Close,
    Cancel(String),
}

async fn act(
    d: Dashboard,
    headers: HeaderMap,
    id: String,
    csrf: &str,
    act: Result<Act, &'static (&'static str, &'static str)>,
) -> Response {
    let (who, lang) = match form_guard(&d, &headers, csrf, Some(MAY)) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let act = match act {
        Ok(a) => a,
        Err((zh, en)) => {
            return render(
                &d,
                &who,
                lang,
                &id,
                StatusCode::BAD_REQUEST,
                Some(Err(lang.t(zh, en).to_owned())),
            )
            .await;
        }
    };
    let Ok(n) = id.trim().parse::<i64>() else {
        return super::bad_input(
            lang,
            Some(&who),
            lang.t("活动编号是数字", "An activity number is a number"),
        );
    };
    let actor = Actor::Staff(who.member);
    let cal = d.site().calendar;
    let done = d
        .with_store(move |s| {
            let now = clock::now();
            Ok::<_, ActivityError>(match act {
                Act::SignUp(m) => match desk_activities::sign_up(s, actor, n, m, now)? {
                    keting_core::activity::rules::SignedUp::Place => {
                        (lang.t("已报名", "Signed up: a place")).to_owned()
                    }
                    keting_core::activity::rules::SignedUp::Waiting(k) => match lang {
                        Lang::Zh => format!("名额已满，已排候补第 {k} 位"),
                        Lang::En => format!("Full: on the waiting list, number {k}"),
                    },
                },
                Act::Off(m) => {
                    desk_activities::cancel_place(s, actor, n, m, now)?;
                    lang.t(
                        "已取消报名；空出的名额已递补给下一位",
                        "Taken off; a freed place is offered to the next",
                    )
                    .to_owned()
                }
                Act::Attend(m) => {
                    let a = desk_activities::attend(s, actor, n, m, now)?;
                    match lang {
                        Lang::Zh => format!("{}：已登记", a.name),
                        Lang::En => format!("{}: marked", a.name),
                    }
                }
                Act::Hours(m, min) => {
                    desk_activities::confirm_time(s, actor, n, m, min, now)?;
                    match lang {
                        Lang::Zh => format!("{} 号：时长 {min} 分钟已确认", m.0),
                        Lang::En => format!("Member {}: {min} minutes confirmed", m.0),
                    }
                }
                Act::Close => {
                    let c = desk_activities::close(s, actor, n, cal, now)?;
                    let points: i64 = c.awards.iter().map(|a| a.2).sum();
                    match lang {
                        Lang::Zh => format!(
                            "已结束：{} 人到场，{} 位志愿者共 {points} 积分",
                            c.attended,
                            c.awards.len()
                        ),
                        Lang::En => format!(
                            "Closed: {} attended, {} volunteers paid {points} points",
                            c.attended,
                            c.awards.len()
                        ),
                    }
                }
                Act::Cancel(reason) => {
                    desk_activities::cancel_activity(s, actor, n, &reason, now)?;
                    lang.t(
                        "活动已取消，报名者会看到原因",
                        "Cancelled: those signed up see the reason",
                    )
                    .to_owned()
                }
            })
        })
        .await;
    match done {
        Ok(msg) => render(&d, &who, lang, &id, StatusCode::OK, Some(Ok(msg))).await,
        Err(e) => render(&d, &who, lang, &id, status_of(&e), Some(Err(e.words(lang)))).await,
    }
}

static BAD_MEMBER: (&str, &str) = ("会员号是数字", "A member number is a number");
static BAD_MINUTES: (&str, &str) = ("时长是分钟数", "The time is a number of minutes");

fn member(s: &str) -> Result<MemberId, &'static (&'static str, &'static str)> {
    s.trim().parse().map(MemberId).map_err(|_| &BAD_MEMBER)
}

/// `POST /activities/ID/signup`.
pub async fn signup(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<MemberForm>,
) -> Response {
    let a = member(&f.member).map(Act::SignUp);
    act(d, headers, id, &f.csrf, a).await
}

/// `POST /activities/ID/off`.
pub async fn off(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<MemberForm>,
) -> Response {
    let a = member(&f.member).map(Act::Off);
    act(d, headers, id, &f.csrf, a).await
}

/// `POST /activities/ID/attend`.
pub async fn attend(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<MemberForm>,
) -> Response {
    let a = member(&f.member).map(Act::Attend);
    act(d, headers, id, &f.csrf, a).await
}

/// `POST /activities/ID/hours`.
pub async fn hours(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<MemberForm>,
) -> Response {
    let a = member(&f.member).and_then(|m| {
        f.minutes
            .trim()
            .parse::<u32>()
            .map(|min| Act::Hours(m, min))
            .map_err(|_| &BAD_MINUTES)
    });
    act(d, headers, id, &f.csrf, a).await
}

/// `POST /activities/ID/close`.
pub async fn close(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CloseForm>,
) -> Response {
    act(d, headers, id, &f.csrf, Ok(Act::Close)).await
}

/// `POST /activities/ID/cancel`.
pub async fn cancel(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CancelForm>,
) -> Response {
    act(d, headers, id, &f.csrf, Ok(Act::Cancel(f.reason))).await
}
