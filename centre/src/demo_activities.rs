//! The demo site's activities: this week's programme (calligraphy on
//! weekday mornings, yoga three evenings, a health talk already full with
//! a waiting list, a volunteer shift tomorrow) and four weeks of history
//! (classes held with their attendance, shifts with volunteers' time paid
//! in points), so the programme, the kiosk's sign-up, the monthly report
//! and the district's count have something in them on a new demo.
//!
//! Written at the site's creation through the store, as the running
//! centre would have written it.

use std::time::Duration;

use keting_core::activity::rules::{Change, Standing};
use keting_core::activity::volunteer_hours;
use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
use keting_core::calendar::SiteCalendar;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use keting_store::StoreError;
use keting_store::activities::{self, Origin};
use keting_store::{members, points};
use rusqlite::Connection;
use time::{Date, Weekday};

fn member(conn: &Connection, name: &str) -> Result<MemberId, crate::demo_error::DemoError> {
    Ok(members::list(conn)?
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| m.id)
        .ok_or_else(|| StoreError::NotFound(name.into()))?)
}

#[allow(clippy::too_many_arguments)]
fn plan(
    cal: SiteCalendar,
    day: Date,
    (h0, m0): (i64, i64),
    (h1, m1): (i64, i64),
    zh: &str,
    en: &str,
    room: &str,
    capacity: u32,
    kind: ActivityKind,
) -> ActivityPlan {
    let at = |h: i64, m: i64| {
        Timestamp::from_unix_millis(cal.start_of(day).as_unix_millis() + (h * 60 + m) * 60_000)
    };
    ActivityPlan {
        title_zh: zh.into(),
        title_en: en.into(),
        room: room.into(),
        starts: at(h0, m0),
        ends: at(h1, m1),
        capacity,
        kind,
        audience: if kind == ActivityKind::Volunteer {
            Audience::Volunteers
        } else {
            Audience::Everyone
        },
        points_per_hour: if kind == ActivityKind::Volunteer {
            10
        } else {
            0
        },
        organiser_name: String::new(),
    }
}

fn place(
    conn: &Connection,
    id: i64,
    who: MemberId,
    standing: Standing,
    now: Timestamp,
) -> Result<(), crate::demo_error::DemoError> {
    Ok(activities::write_change(
        conn,
        id,
        &Change {
            member: who,
            standing,
        },
        "demo",
        now,
    )?)
}

/// Fills the demo's activities around `now`.
pub fn seed(conn: &Connection, now: Timestamp) -> Result<(), crate::demo_error::DemoError> {
    let cal = SiteCalendar::china();
    let today = cal.date_of(now);
    let origin = Origin::default();
    let wang = member(conn, "王秀英")?;
    let li = member(conn, "李建国")?;
    let chen = member(conn, "陈晓梅")?;
    let zhang = member(conn, "张玥")?;
    let residents = [wang, chen, zhang, li];
    let weekday = |d: Date| !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
    let yoga_day = |d: Date| {
        matches!(
            d.weekday(),
            Weekday::Tuesday | Weekday::Thursday | Weekday::Saturday
        )
    };

    // The demo's three recurring activities, on a given day.
    let calligraphy = |day| {
        plan(
            cal,
            day,
            (9, 0),
            (10, 30),
            "书法班",
            "Calligraphy class",
            "活动室二",
            20,
            ActivityKind::Class,
        )
    };
    let yoga = |day| {
        plan(
            cal,
            day,
            (19, 30),
            (20, 30),
            "免费瑜伽课",
            "Free yoga class",
            "24 小时健身房",
            15,
            ActivityKind::Class,
        )
    };
    let shelving = |day| {
        plan(
            cal,
            day,
            (14, 0),
            (17, 0),
            "图书整理",
            "Library shelving",
            "图书室",
            4,
            ActivityKind::Volunteer,
        )
    };

    // Four weeks of history: held, counted, volunteers paid.
    for back in (1..=28).rev() {
        let day = today - time::Duration::days(back);
        let mut held = Vec::new();
        if weekday(day) {
            held.push(calligraphy(day));
        }
        if yoga_day(day) {
            held.push(yoga(day));
        }
        if day.weekday() == Weekday::Wednesday {
            held.push(shelving(day));
        }
        for (k, p) in held.iter().enumerate() {
            let id = activities::insert(conn, p, origin, "demo", p.starts)?;
            let volunteer = p.kind == ActivityKind::Volunteer;
            let came: Vec<MemberId> = if volunteer {
                vec![li]
            } else {
                // 1 to 4 of the residents, varying by day.
                let n = 1 + usize::try_from((back + k as i64) % 4).unwrap_or(0);
                residents[..n].to_vec()
            };
            let mut minutes = 0;
            for who in &came {
                place(conn, id, *who, Standing::Place, p.starts)?;
                activities::record_arrival(conn, id, *who, "demo", p.starts)?;
                if volunteer {
                    let left = p.starts.saturating_add(Duration::from_secs(150 * 60));
                    activities::record_check_out(conn, id, *who, left)?;
                    minutes = 150;
                }
            }
            let closed_at = p.ends;
            if volunteer {
                let worth = volunteer_hours::points_for(minutes, p.points_per_hour);
                points::award_for_activity(
                    conn,
                    li,
                    id,
                    worth,
                    &format!("{} {day}", p.title_zh),
                    "demo",
                    cal,
                    closed_at,
                )?;
            }
            activities::close(
                conn,
                id,
                u32::try_from(came.len()).unwrap_or(0),
                minutes,
                "demo",
                closed_at,
            )?;
        }
    }

    // This week: places to take.
    for ahead in 0..7 {
        let day = today + time::Duration::days(ahead);
        if weekday(day) {
            let p = calligraphy(day);
            let id = activities::insert(conn, &p, origin, "demo", now)?;
            place(conn, id, zhang, Standing::Place, now)?;
            place(conn, id, chen, Standing::Place, now)?;
        }
        if yoga_day(day) {
            let p = yoga(day);
            activities::insert(conn, &p, origin, "demo", now)?;
        }
    }
    // A talk two days on with two places, both taken, one waiting.
    let talk_day = today + time::Duration::days(2);
    let talk = ActivityPlan {
        organiser_name: "福田区卫健局".into(),
        ..plan(
            cal,
            talk_day,
            (15, 0),
            (16, 0),
            "防跌倒健康讲座",
            "Preventing falls: a health talk",
            "多功能厅",
            2,
            ActivityKind::Lecture,
        )
    };
    let id = activities::insert(conn, &talk, origin, "demo", now)?;
    place(conn, id, zhang, Standing::Place, now)?;
    place(conn, id, li, Standing::Place, now)?;
    place(conn, id, chen, Standing::Waiting, now)?;
    // Tomorrow's shift, for volunteers.
    let shift = shelving(today + time::Duration::days(1));
    let id = activities::insert(conn, &shift, origin, "demo", now)?;
    place(conn, id, li, Standing::Place, now)?;
    Ok(())
}
