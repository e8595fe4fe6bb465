//! Today's page: visits so far and by hour (chart and table), every
//! device's state (an offline device shows as offline, never as its last
//! state), the open alarms with acknowledge (for a role that may), the
//! sessions running, and who entered the gym tonight. Its live part is
//! `/live/today`, fetched again on every server-sent event.

use std::fmt::Write;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;

use super::chart;
use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::{Dashboard, form_guard, html_page, lang, refused, see_other};
use keting_desk::device_view::Availability;
use keting_desk::records::{ActivityState, Alarm, AlarmKind};
use keting_desk::{self as desk, Actor};
use keting_link::clock;

fn hhmm(d: &Dashboard, t: Timestamp) -> String {
    let l = d.site().calendar.local(t);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

/// An alarm for people.
pub fn alarm_words(lang: Lang, a: &Alarm) -> String {
    let what = match (a.kind, lang) {
        (AlarmKind::Forced, Lang::Zh) => "门被强行打开",
        (AlarmKind::Forced, Lang::En) => "forced open",
        (AlarmKind::HeldOpen, Lang::Zh) => "门开太久",
        (AlarmKind::HeldOpen, Lang::En) => "held open",
        (AlarmKind::ReaderLockout, Lang::Zh) => "读卡器暂停",
        (AlarmKind::ReaderLockout, Lang::En) => "reader locked out",
        (AlarmKind::Offline, Lang::Zh) => "离线超过一分钟",
        (AlarmKind::Offline, Lang::En) => "offline for over a minute",
        (AlarmKind::Fault, Lang::Zh) => "故障",
        (AlarmKind::Fault, Lang::En) => "fault",
        (AlarmKind::VendInDoubt, Lang::Zh) => "饮料出货待确认",
        (AlarmKind::VendInDoubt, Lang::En) => "drinks in doubt",
        (AlarmKind::ClockWrong, Lang::Zh) => "时钟错误",
        (AlarmKind::ClockWrong, Lang::En) => "clock wrong",
        (AlarmKind::Help, Lang::Zh) => "紧急求助",
        (AlarmKind::Help, Lang::En) => "HELP button pressed",
        (AlarmKind::Fire, Lang::Zh) => "消防报警：门已释放，待复位",
        (AlarmKind::Fire, Lang::En) => "fire alarm: door released until reset",
        (AlarmKind::Welfare, Lang::Zh) => "有人独自在内太久，请联系或前往查看",
        (AlarmKind::Welfare, Lang::En) => "someone alone inside too long: call or go and look",
        (AlarmKind::Tailgating, Lang::Zh) => "有人未刷码跟随进入",
        (AlarmKind::Tailgating, Lang::En) => "someone came in without a scan",
    };
    if a.detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {}", a.detail)
    }
}

/// A session device's or the drinks machine's state, for people.
/// A session device's or the drinks machine's state in words.
pub fn device_word(lang: Lang, state: &str) -> String {
    let (zh, en) = match state {
        "ready" => ("就绪", "ready"),
        "running" => ("运行中", "running"),
        "idle" => ("空闲", "idle"),
        "vending" => ("出货中", "vending"),
        "out_of_order" => ("停用", "out of order"),
        "fault" => ("故障", "fault"),
        "unavailable" => ("硬件无响应", "hardware not answering"),
        other => (other, other),
    };
    lang.t(zh, en).to_owned()
}

/// A door's lock state in words.
pub fn lock_word(lang: Lang, s: keting_core::door::lock::LockState) -> &'static str {
    use keting_core::door::lock::LockState::*;
    match s {
        Unknown => lang.t("状态未知", "state unknown"),
        Locked => lang.t("已锁", "locked"),
        Unlocked => lang.t("已开锁", "unlocked"),
        Open => lang.t("门开着", "open"),
        HeldOpen => lang.t("门开太久", "held open"),
        Forced => lang.t("被强行打开", "forced"),
        Released => lang.t("消防释放，待复位", "released for a fire, until reset"),
    }
}

/// The live part of the page.
async fn live_html(d: &Dashboard, who: &StaffSession, lang: Lang) -> String {
    let cal = d.site().calendar;
    let now = clock::now();
    let today = cal.date_of(now);
    let figures = d
        .with_store(move |store| {
            let total = desk::reports::visits_today(store, cal, now)?;
            let hours = desk::reports::visits_per_hour(store, cal, today)?;
            Ok::<_, keting_desk::records::StoreError>((total, hours))
        })
        .await;
    let activities = d
        .with_store(move |store| {
            let span = cal.day_span(today);
            let planned = desk::activities::programme(store, span, now)?
                .iter()
                .filter(|v| !matches!(v.record.state, ActivityState::Cancelled(_)))
                .count();
            Ok::<_, desk::activities::ActivityError>((
                planned,
                desk::activities::held_in(store, span)?,
            ))
        })
        .await;
    let view = d.doors();
    let mut h = String::new();
    let mut acts_html = String::new();
    if let Ok((planned, held)) = &activities {
        let _ = write!(
            acts_html,
            "<section><h2><a href=\"/activities\">{}</a></h2><p id=\"activities-today\">{}</p></section>",
            lang.t("今日活动", "Activities today"),
            match lang {
                Lang::Zh => format!(
                    "共 {planned} 场，已举办 {} 场，参加 {} 人次，志愿服务 {:.1} 小时",
                    held.held,
                    held.participants,
                    held.volunteer_minutes as f64 / 60.0
                ),
                Lang::En => format!(
                    "{planned} planned, {} held, {} took part, {:.1} volunteer hours",
                    held.held,
                    held.participants,
                    held.volunteer_minutes as f64 / 60.0
                ),
            }
        );
    }
    match figures {
        Ok((total, hours)) => {
            let _ = write!(
                h,
                "<section><h2>{}</h2><p class=\"big\" id=\"visits-today\">{total}</p></section>",
                lang.t("今日到访", "Visits today")
            );
            let labels: Vec<String> = (0..24).map(|i| format!("{i:02}")).collect();
            let rows: Vec<Vec<String>> = hours
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0)
                .map(|(i, v)| vec![format!("{i:02}:00"), format!("{v}")])
                .collect();
            let _ = write!(
                h,
                "<section><h2>{}</h2><div class=\"grid\">{}{}</div></section>",
                lang.t("每小时到访", "Visits by hour"),
                chart::bars(&labels, &hours, 720, 220),
                html::table(
                    "hours",
                    &[lang.t("时段", "Hour"), lang.t("到访", "Visits")],
                    &rows
                )
            );
        }
        Err(e) => {
            tracing::error!("dashboard: today's visits: {e}");
            let _ = write!(
                h,
                "<p class=\"error\">{}</p>",
                lang.t("到访数读取失败", "Visits could not be read")
            );
        }
    }
    h.push_str(&acts_html);
    // Alarms.
    let may_ack = who.role.may(StaffAction::Alarms);
    let rows: Vec<Vec<String>> = view
        .alarms
        .iter()
        .map(|a| {
            let acked = match &a.acked {
                Some((by, t)) => format!("{} {}", esc(by), hhmm(d, *t)),
                None if may_ack => format!(
                    "<form method=\"post\" action=\"/alarms/ack\" class=\"inline\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"id\" value=\"{}\">\
                     <button class=\"ack\">{}</button></form>",
                    esc(&who.csrf),
                    a.id,
                    lang.t("确认", "Acknowledge")
                ),
                None => lang.t("未确认", "not acknowledged").to_owned(),
            };
            // A door released for a fire locks again only when staff reset it.
            let acked = if a.kind == AlarmKind::Fire && who.role.may(StaffAction::OpenDoor) {
                format!(
                    "{acked} <form method=\"post\" action=\"/doors/reset\" class=\"inline\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"door\" value=\"{}\">\
                     <button class=\"ack\">{}</button></form>",
                    esc(&who.csrf),
                    esc(a.device.as_str()),
                    lang.t("火警解除后复位门锁", "Reset the door (fire over)")
                )
            } else {
                acked
            };
            vec![
                format!("{}", a.id),
                hhmm(d, a.raised),
                esc(a.device.as_str()),
                format!(
                    "<span class=\"alarm\">{}</span>",
                    esc(&alarm_words(lang, a))
                ),
                acked,
            ]
        })
        .collect();
    let _ = write!(
        h,
        "<section id=\"alarms\"><h2>{}</h2>",
        lang.t("未解除的报警", "Open alarms")
    );
    if rows.is_empty() {
        let _ = write!(h, "<p class=\"ok\">{}</p>", lang.t("没有报警", "No alarms"));
    } else {
        h.push_str(&html::table(
            "alarms",
            &[
                "#",
                lang.t("时间", "Raised"),
                lang.t("设备", "Device"),
                lang.t("报警", "Alarm"),
                lang.t("确认", "Acknowledged"),
            ],
            &rows,
        ));
    }
    h.push_str("</section>");
    // Devices: offline is offline, never the last state.
    let state_word = |a: Availability, state: Option<String>| match a {
        Availability::Online => esc(&state.unwrap_or_else(|| lang.t("在线", "online").to_owned())),
        Availability::Offline => format!(
            "<span class=\"offline\">{}</span>",
            lang.t("离线", "offline")
        ),
        Availability::NeverSeen => lang.t("未连接过", "never seen").to_owned(),
    };
    let mut rows: Vec<Vec<String>> = view
        .doors
        .iter()
        .map(|door| {
            vec![
                esc(&door.name),
                lang.t("门", "door").to_owned(),
                state_word(
                    door.availability,
                    door.state.map(|s| lock_word(lang, s).to_owned()),
                ),
                esc(door.fault.as_deref().unwrap_or("")),
                door.last_seen.map(|t| hhmm(d, t)).unwrap_or_default(),
            ]
        })
        .collect();
    rows.extend(view.session_devices.iter().map(|s| {
        vec![
            esc(s.id.as_str()),
            if s.in_use.1 > 0 {
                lang.t("场次设备", "session device")
            } else {
                lang.t("设备", "device")
            }
            .to_owned(),
            state_word(
                s.availability,
                s.state.as_deref().map(|st| {
                    let word = device_word(lang, st);
                    match s.in_use {
                        (_, 0) => word,
                        (used, all) => match lang {
                            Lang::Zh => format!("{word}（使用中 {used}/{all}）"),
                            Lang::En => format!("{word} ({used} of {all} in use)"),
                        },
                    }
                }),
            ),
            esc(s.fault.as_deref().unwrap_or("")),
            String::new(),
        ]
    }));
    let devices = if rows.is_empty() {
        format!(
            "<p>{}</p>",
            lang.t("尚未登记设备", "No device registered yet")
        )
    } else {
        html::table(
            "devices",
            &[
                lang.t("名称", "Name"),
                lang.t("类型", "Kind"),
                lang.t("状态", "State"),
                lang.t("故障", "Fault"),
                lang.t("最后联系", "Last seen"),
            ],
            &rows,
        )
    };
    let _ = write!(
        h,
        "<section><h2>{}</h2>{}{devices}</section>",
        lang.t("设备", "Devices"),
        if view.connected {
            String::new()
        } else {
            format!(
                "<p class=\"offline\">{}</p>",
                lang.t(
                    "中心与设备的连接中断：设备状态未知",
                    "The centre cannot hear its devices: their state is unknown"
                )
            )
        },
    );
    let rows: Vec<Vec<String>> = view
        .tonight
        .iter()
        .map(|e| {
            vec![
                hhmm(d, e.at),
                esc(e.name.as_deref().unwrap_or("")),
                format!("{}", e.member.0),
                esc(&e.door),
            ]
        })
        .collect();
    let _ = write!(
        h,
        "<section><h2>{}</h2>",
        lang.t("今晚进入健身房", "In the gym tonight")
    );
    // Who is inside now, per door, from its passages (in, out).
    for door in &view.inside {
        let n = door.head_count();
        let names: Vec<String> = door
            .names
            .iter()
            .map(|(m, _, since)| format!("{} {}", esc(&door.name_of(*m)), hhmm(d, *since)))
            .collect();
        let _ = match (n, lang) {
            (0, Lang::Zh) => write!(
                h,
                "<p class=\"inside\">{}：现在里面没有人</p>",
                esc(&door.name)
            ),
            (0, Lang::En) => write!(
                h,
                "<p class=\"inside\">{}: nobody inside now</p>",
                esc(&door.name)
            ),
            (n, Lang::Zh) => write!(
                h,
                "<p class=\"inside\"><strong>{}：现在里面 {n} 人</strong>（{}）</p>",
                esc(&door.name),
                names.join("、")
            ),
            (n, Lang::En) => write!(
                h,
                "<p class=\"inside\"><strong>{}: {n} inside now</strong> ({})</p>",
                esc(&door.name),
                names.join(", ")
            ),
        };
    }
    if rows.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            lang.t("今晚还没有人进入", "Nobody yet tonight")
        );
    } else {
        h.push_str(&html::table(
            "tonight",
            &[
                lang.t("时间", "Time"),
                lang.t("姓名", "Name"),
                lang.t("会员号", "Member"),
                lang.t("门", "Door"),
            ],
            &rows,
        ));
    }
    h.push_str("</section>");
    h
}

/// `GET /`.
pub async fn page(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let date = d.site().calendar.date_of(clock::now());
    let body = format!(
        "<h1>{} {date}</h1><div data-live=\"/live/today\">{}</div>",
        lang.t("今日", "Today"),
        live_html(&d, &who, lang).await
    );
    html_page(
        StatusCode::OK,
        html::page(lang, lang.t("今日", "Today"), Some(&who), Nav::Today, &body),
    )
}

/// `GET /live/today`: the live part alone.
pub async fn live(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return html_page(StatusCode::UNAUTHORIZED, String::new());
    };
    html_page(StatusCode::OK, live_html(&d, &who, lang).await)
}

/// The reset form: a door released for a fire.
#[derive(serde::Deserialize)]
pub struct ResetForm {
    csrf: String,
    door: String,
}

/// `POST /doors/reset`: a door released by its fire input locks again, in
/// the signed-in staff member's name; waits for the door's answer.
pub async fn reset_door(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<ResetForm>,
) -> Response {
    let may = Some((
        StaffAction::OpenDoor,
        ("你的角色不能复位门锁", "Your role may not reset a door"),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let member = who.member;
    let door = f.door.trim().to_owned();
    let asked = d
        .with_store(move |store| {
            let device = desk::doors::door_id(&door)?;
            desk::doors::request_reset(store, Actor::Staff(member), &device, clock::now())
        })
        .await;
    let command = match asked {
        Ok(c) => c,
        Err(e) => return refused(lang, Some(&who), &e.words(lang)),
    };
    let give_up = std::time::Instant::now() + desk::doors::COMMAND_DEADLINE;
    loop {
        let c = command.clone();
        let outcome = d
            .with_store(move |store| desk::doors::open_outcome(store, &c))
            .await;
        match outcome {
            Ok(Some(o)) if o == "done" => return see_other("/#alarms"),
            Ok(Some(o)) => {
                tracing::warn!(command, "door reset refused: {o}");
                let still =
                    o.contains(&keting_core::door::lock::ResetRefusal::FireStillActive.to_string());
                let words = if still {
                    lang.t(
                        "火警输入仍然有效：火警解除后再复位",
                        "The fire alarm input is still active: reset once the fire alarm is over",
                    )
                } else {
                    lang.t(
                        "门没有复位，请到现场查看",
                        "The door did not reset: check it on site",
                    )
                };
                return refused(lang, Some(&who), words);
            }
            Ok(None) if std::time::Instant::now() < give_up => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Ok(None) => {
                return refused(
                    lang,
                    Some(&who),
                    lang.t(
                        "门没有回应：它在线吗？",
                        "The door did not answer: is it online?",
                    ),
                );
            }
            Err(e) => return refused(lang, Some(&who), &e.words(lang)),
        }
    }
}

/// The acknowledge form.
#[derive(serde::Deserialize)]
pub struct AckForm {
    csrf: String,
    id: String,
}

/// `POST /alarms/ack`: acknowledged by the signed-in staff member, audited.
pub async fn ack(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<AckForm>,
) -> Response {
    let may = Some((
        StaffAction::Alarms,
        (
            "观察员不能确认报警",
            "An observer may not acknowledge alarms",
        ),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let Ok(id) = f.id.trim().parse::<i64>() else {
        return refused(
            lang,
            Some(&who),
            lang.t("报警编号不对", "Not an alarm number"),
        );
    };
    let member = who.member;
    let done = d
        .with_store(move |store| desk::alarms::ack(store, Actor::Staff(member), id, clock::now()))
        .await;
    match done {
        Ok(a) => {
            tracing::info!(
                alarm = a.id,
                staff = member.0,
                "alarm acknowledged on the dashboard"
            );
            see_other("/#alarms")
        }
        Err(e) => refused(lang, Some(&who), &e.words(lang)),
    }
}
