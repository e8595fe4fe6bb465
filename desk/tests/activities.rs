//! Activities through the desk, as a centre lives them: a class of 20
//! that 25 want, places freed and offered in turn, one offer let lapse;
//! attendance and a close that counts it held; a volunteer shift with a
//! forgotten check-out, its time confirmed, paid once, reversed; a repeat
//! rule across a month with a holiday; bad input refused with nothing
//! written; a lower role refused.

#![allow(clippy::unwrap_used)]
use std::time::Duration;

use keting_core::activity::recurrence::RepeatRule;
use keting_core::activity::rules::{Attendance, SignedUp, Standing};
use keting_core::activity::volunteer_hours::ShiftTime;
use keting_core::activity::{ActivityKind, ActivityPlan, ActivityRefusal, Audience};
use keting_core::calendar::{SiteCalendar, YearMonth};
use keting_core::ids::MemberId;
use keting_core::staff::StaffRole;
use keting_core::time::Timestamp;
use keting_desk::activities::{self, ActivityError, Via};
use keting_desk::{self as desk, Actor};
use keting_store::Store;
use keting_store::members::{NewMember, Role};
use time::macros::date;

const MIN: i64 = 60_000;

fn cal() -> SiteCalendar {
    SiteCalendar::china()
}

/// 2026-12-07 (a Monday) at `hh:mm` local.
fn at(day: time::Date, hh: i64, mm: i64) -> Timestamp {
    Timestamp::from_unix_millis(cal().start_of(day).as_unix_millis() + (hh * 60 + mm) * MIN)
}

fn plus(t: Timestamp, minutes: i64) -> Timestamp {
    Timestamp::from_unix_millis(t.as_unix_millis() + minutes * MIN)
}

fn member(store: &mut Store, name: &str, roles: &[Role]) -> MemberId {
    store
        .write(|tx| {
            keting_store::members::add(
                tx,
                &NewMember::new(name, None, roles).unwrap(),
                Timestamp::from_unix_millis(0),
            )
        })
        .unwrap()
}

fn staff(store: &mut Store, role: StaffRole) -> MemberId {
    let id = member(store, "值班员", &[Role::Staff]);
    desk::staff::set_role(
        store,
        Actor::CommandLine,
        id,
        Some(role),
        Timestamp::from_unix_millis(0),
    )
    .unwrap();
    id
}

fn class(day: time::Date, capacity: u32) -> ActivityPlan {
    ActivityPlan {
        title_zh: "书法班".into(),
        title_en: "Calligraphy".into(),
        room: "活动室 2".into(),
        starts: at(day, 9, 0),
        ends: at(day, 10, 30),
        capacity,
        kind: ActivityKind::Class,
        audience: Audience::Everyone,
        points_per_hour: 0,
        organiser_name: String::new(),
    }
}

#[test]
fn a_class_of_twenty_fills_waits_offers_in_turn_and_is_counted_held_once_closed() {
    let mut store = Store::open_in_memory().unwrap();
    let day = date!(2026 - 12 - 07);
    let organiser = staff(&mut store, StaffRole::Staff);
    let now = at(date!(2026 - 12 - 01), 10, 0);
    let ids = activities::add(
        &mut store,
        Actor::Staff(organiser),
        &class(day, 20),
        None,
        cal(),
        now,
    )
    .unwrap();
    let id = ids[0];
    let people: Vec<MemberId> = (0..25)
        .map(|i| member(&mut store, &format!("居民{i}"), &[]))
        .collect();
    let mut outcomes = Vec::new();
    for (i, p) in people.iter().enumerate() {
        outcomes.push(
            activities::sign_up(&mut store, Actor::Member(*p), id, *p, plus(now, i as i64))
                .unwrap(),
        );
    }
    assert_eq!(
        outcomes.iter().filter(|o| **o == SignedUp::Place).count(),
        20
    );
    assert_eq!(outcomes[20..], [1, 2, 3, 4, 5].map(SignedUp::Waiting));
    let v = activities::get(&store, id).unwrap();
    assert_eq!((v.places_left, v.places_held, v.waiting), (0, 20, 5));
    // Twice is refused, and writes nothing.
    assert!(matches!(
        activities::sign_up(
            &mut store,
            Actor::Member(people[0]),
            id,
            people[0],
            plus(now, 30)
        ),
        Err(ActivityError::Refused(ActivityRefusal::AlreadySignedUp))
    ));

    // Two cancel their own places: the first two waiting are offered them
    // for the centre's two hours.
    let t1 = plus(now, 60);
    activities::cancel_place(&mut store, Actor::Member(people[3]), id, people[3], t1).unwrap();
    activities::cancel_place(&mut store, Actor::Member(people[7]), id, people[7], t1).unwrap();
    let standing = |store: &Store, m: MemberId| {
        activities::list_of(store, id)
            .unwrap()
            .into_iter()
            .find(|(e, _)| e.member == m)
            .unwrap()
            .0
            .standing
    };
    let until = plus(t1, 120);
    assert_eq!(standing(&store, people[20]), Standing::Offered { until });
    assert_eq!(standing(&store, people[21]), Standing::Offered { until });
    assert_eq!(standing(&store, people[22]), Standing::Waiting);
    // A resident may not cancel someone else's place.
    assert!(matches!(
        activities::cancel_place(&mut store, Actor::Member(people[0]), id, people[1], t1),
        Err(ActivityError::Forbidden(_))
    ));

    // One takes the offer; the other lets it lapse, and the sweep offers
    // it to the third.
    assert_eq!(
        activities::sign_up(
            &mut store,
            Actor::Member(people[20]),
            id,
            people[20],
            plus(t1, 30)
        )
        .unwrap(),
        SignedUp::Place
    );
    assert!(
        activities::settle_offers(&mut store, plus(until, -1))
            .unwrap()
            .is_empty()
    );
    let moved = activities::settle_offers(&mut store, until).unwrap();
    assert_eq!(moved.len(), 2, "{moved:?}");
    assert_eq!(standing(&store, people[21]), Standing::Lapsed);
    assert_eq!(
        standing(&store, people[22]),
        Standing::Offered {
            until: plus(until, 120)
        }
    );
    assert!(matches!(
        activities::sign_up(
            &mut store,
            Actor::Member(people[21]),
            id,
            people[21],
            plus(until, 1)
        )
        .unwrap(),
        SignedUp::Waiting(3)
    ));

    // Sign-up closes at the start; attendance runs from half an hour before.
    assert!(matches!(
        activities::sign_up(
            &mut store,
            Actor::Member(people[24]),
            id,
            people[24],
            at(day, 9, 0)
        ),
        Err(ActivityError::Refused(_))
    ));
    let room = "活动室 2";
    let via = Via::RoomKiosk(room.into());
    assert!(matches!(
        activities::scan_in_room(&mut store, &via, room, people[0], at(day, 8, 29)),
        Err(ActivityError::Refused(ActivityRefusal::NotOnNow))
    ));
    for p in people[0..14]
        .iter()
        .filter(|p| **p != people[3] && **p != people[7])
    {
        let a = activities::scan_in_room(&mut store, &via, room, *p, at(day, 8, 50)).unwrap();
        assert_eq!(a.attendance, Attendance::Arrived);
    }
    let again = activities::scan_in_room(&mut store, &via, room, people[0], at(day, 9, 5)).unwrap();
    assert_eq!(
        (again.attendance, again.name.as_str()),
        (Attendance::Again, "居民0")
    );
    assert!(matches!(
        activities::scan_in_room(&mut store, &via, "另一个房间", people[0], at(day, 9, 5)),
        Err(ActivityError::Refused(ActivityRefusal::NotOnNow))
    ));

    // Closing waits for the end; then it is held, once.
    assert!(matches!(
        activities::close(
            &mut store,
            Actor::Staff(organiser),
            id,
            cal(),
            at(day, 10, 0)
        ),
        Err(ActivityError::Refused(ActivityRefusal::NotEnded))
    ));
    let closed = activities::close(
        &mut store,
        Actor::Staff(organiser),
        id,
        cal(),
        at(day, 10, 30),
    )
    .unwrap();
    assert!(closed.held);
    assert_eq!(closed.attended, 12);
    assert!(closed.awards.is_empty());
    assert!(matches!(
        activities::close(
            &mut store,
            Actor::Staff(organiser),
            id,
            cal(),
            at(day, 11, 0)
        ),
        Err(ActivityError::Refused(ActivityRefusal::NotOpen {
            state: "closed"
        }))
    ));
    let month = desk::reports::month_figures(
        &store,
        cal(),
        YearMonth {
            year: 2026,
            month: time::Month::December,
        },
    )
    .unwrap();
    assert_eq!(
        (month.activities, month.participants, month.distinct_people),
        (1, 12, 12)
    );
}

#[test]
fn a_volunteer_shift_flags_a_forgotten_check_out_pays_confirmed_time_once_and_can_be_reversed() {
    let mut store = Store::open_in_memory().unwrap();
    let day = date!(2026 - 12 - 08);
    let organiser = staff(&mut store, StaffRole::Staff);
    let now = at(date!(2026 - 12 - 01), 10, 0);
    let shift = ActivityPlan {
        title_zh: "图书整理".into(),
        title_en: "Library shelving".into(),
        room: "图书室".into(),
        starts: at(day, 14, 0),
        ends: at(day, 17, 0),
        capacity: 4,
        kind: ActivityKind::Volunteer,
        audience: Audience::Volunteers,
        points_per_hour: 10,
        organiser_name: String::new(),
    };
    let id = activities::add(
        &mut store,
        Actor::Staff(organiser),
        &shift,
        None,
        cal(),
        now,
    )
    .unwrap()[0];
    let resident = member(&mut store, "居民", &[]);
    assert!(matches!(
        activities::sign_up(&mut store, Actor::Member(resident), id, resident, now),
        Err(ActivityError::Refused(ActivityRefusal::VolunteersOnly))
    ));
    let (a, b) = (
        member(&mut store, "志愿者甲", &[Role::Volunteer]),
        member(&mut store, "志愿者乙", &[Role::Volunteer]),
    );
    for v in [a, b] {
        activities::sign_up(&mut store, Actor::Member(v), id, v, now).unwrap();
    }
    let via = Via::Reader("reader-library".into());
    // A checks in and out (2 h 10 min); B checks in and forgets.
    assert_eq!(
        activities::scan_in_room(&mut store, &via, "图书室", a, at(day, 13, 50))
            .unwrap()
            .attendance,
        Attendance::Arrived
    );
    assert_eq!(
        activities::scan_in_room(&mut store, &via, "图书室", a, at(day, 13, 50))
            .unwrap()
            .attendance,
        Attendance::Again
    );
    assert_eq!(
        activities::scan_in_room(&mut store, &via, "图书室", b, at(day, 14, 5))
            .unwrap()
            .attendance,
        Attendance::Arrived
    );
    assert_eq!(
        activities::scan_in_room(&mut store, &via, "图书室", a, at(day, 16, 0))
            .unwrap()
            .attendance,
        Attendance::CheckedOut
    );

    let end = at(day, 17, 0);
    let sheet = activities::closing_sheet(&store, id).unwrap();
    assert_eq!(sheet.lines[0].time, Some(ShiftTime::Minutes(130)));
    assert_eq!(sheet.lines[1].time, Some(ShiftTime::ForgotCheckOut));
    assert!(matches!(
        activities::close(&mut store, Actor::Staff(organiser), id, cal(), end),
        Err(ActivityError::Refused(ActivityRefusal::ForgottenCheckOut {
            count: 1
        }))
    ));
    // Hours longer than the shift are refused, nothing written.
    assert!(matches!(
        activities::confirm_time(&mut store, Actor::Staff(organiser), id, b, 181, end),
        Err(ActivityError::Refused(ActivityRefusal::HoursOverShift {
            shift_minutes: 180
        }))
    ));
    activities::confirm_time(&mut store, Actor::Staff(organiser), id, b, 150, end).unwrap();
    let closed = activities::close(&mut store, Actor::Staff(organiser), id, cal(), end).unwrap();
    assert_eq!(closed.attended, 2);
    let paid: Vec<(MemberId, u32, i64)> = closed.awards.iter().map(|w| (w.0, w.1, w.2)).collect();
    assert_eq!(paid, vec![(a, 130, 21), (b, 150, 25)]);
    assert_eq!(
        desk::points::balance(&mut store, a, cal(), end).unwrap().1,
        21
    );
    // Closing twice pays nothing more.
    assert!(activities::close(&mut store, Actor::Staff(organiser), id, cal(), end).is_err());
    assert_eq!(
        desk::points::balance(&mut store, b, cal(), end).unwrap().1,
        25
    );
    // An award is reversible like any other, naming who did it.
    desk::points::reverse(
        &mut store,
        Actor::Staff(organiser),
        closed.awards[1].3,
        "记错时间",
        cal(),
        end,
    )
    .unwrap();
    assert_eq!(
        desk::points::balance(&mut store, b, cal(), end).unwrap().1,
        0
    );
    let month = desk::reports::month_figures(
        &store,
        cal(),
        YearMonth {
            year: 2026,
            month: time::Month::December,
        },
    )
    .unwrap();
    assert_eq!((month.activities, month.volunteer_minutes), (1, 280));
}

#[test]
fn a_repeat_rule_makes_each_evening_of_a_month_but_not_the_closed_holiday() {
    let mut store = Store::open_in_memory().unwrap();
    let now = at(date!(2026 - 11 - 30), 10, 0);
    activities::close_day(
        &mut store,
        Actor::CommandLine,
        date!(2026 - 12 - 25),
        "圣诞节 Christmas",
        now,
    )
    .unwrap();
    let yoga = ActivityPlan {
        title_zh: "瑜伽".into(),
        title_en: "Yoga".into(),
        starts: at(date!(2026 - 12 - 01), 19, 0),
        ends: at(date!(2026 - 12 - 01), 20, 0),
        ..class(date!(2026 - 12 - 01), 15)
    };
    let rule: RepeatRule = "weekly mon,wed,fri until 2026-12-31".parse().unwrap();
    let ids = activities::add(
        &mut store,
        Actor::CommandLine,
        &yoga,
        Some((&rule, "weekly mon,wed,fri until 2026-12-31")),
        cal(),
        now,
    )
    .unwrap();
    assert_eq!(ids.len(), 12);
    let all = activities::programme(
        &store,
        cal().month_span(YearMonth {
            year: 2026,
            month: time::Month::December,
        }),
        now,
    )
    .unwrap();
    assert_eq!(all.len(), 12);
    for v in &all {
        let local = cal().local(v.record.plan.starts);
        assert!(matches!(
            local.weekday(),
            time::Weekday::Monday | time::Weekday::Wednesday | time::Weekday::Friday
        ));
        assert_eq!((local.hour(), local.minute()), (19, 0));
        assert_ne!(local.date(), date!(2026 - 12 - 25));
        assert_eq!(v.record.series, Some(ids[0]));
        assert_eq!(v.places_left, 15);
    }
    // Each occurrence has its own places.
    let m = member(&mut store, "居民", &[]);
    activities::sign_up(&mut store, Actor::CommandLine, ids[0], m, now).unwrap();
    assert_eq!(activities::get(&store, ids[0]).unwrap().places_left, 14);
    assert_eq!(activities::get(&store, ids[1]).unwrap().places_left, 15);
    // This week's programme holds that week's three.
    let week = activities::programme(
        &store,
        activities::week_of(cal(), date!(2026 - 12 - 09)),
        now,
    )
    .unwrap();
    assert_eq!(week.len(), 3);
}

#[test]
fn bad_input_and_a_lower_role_are_refused_with_nothing_written() {
    let mut store = Store::open_in_memory().unwrap();
    let day = date!(2026 - 12 - 07);
    let now = at(date!(2026 - 12 - 01), 10, 0);
    let observer = staff(&mut store, StaffRole::Observer);
    let technician = staff(&mut store, StaffRole::Technician);
    let resident = member(&mut store, "居民", &[]);
    let backwards = ActivityPlan {
        ends: at(day, 8, 0),
        ..class(day, 20)
    };
    let none = ActivityPlan {
        capacity: 0,
        ..class(day, 20)
    };
    let markup = ActivityPlan {
        title_en: "<script>".into(),
        ..class(day, 20)
    };
    let points_on_class = ActivityPlan {
        points_per_hour: 5,
        ..class(day, 20)
    };
    for (plan, why) in [
        (&backwards, ActivityRefusal::EndsBeforeStart),
        (&none, ActivityRefusal::BadCapacity),
        (&markup, ActivityRefusal::BadTitle),
        (&points_on_class, ActivityRefusal::PointsForNonVolunteer),
    ] {
        match activities::add(&mut store, Actor::CommandLine, plan, None, cal(), now) {
            Err(ActivityError::Refused(r)) => assert_eq!(r, why),
            other => panic!("{other:?}"),
        }
    }
    for who in [
        Actor::Staff(observer),
        Actor::Staff(technician),
        Actor::Member(resident),
        Actor::Kiosk,
    ] {
        assert!(matches!(
            activities::add(&mut store, who, &class(day, 20), None, cal(), now),
            Err(ActivityError::Forbidden(_))
        ));
    }
    let week = activities::programme(&store, activities::week_of(cal(), day), now).unwrap();
    assert!(week.is_empty(), "nothing written: {week:?}");

    let id = activities::add(
        &mut store,
        Actor::CommandLine,
        &class(day, 2),
        None,
        cal(),
        now,
    )
    .unwrap()[0];
    let (a, b) = (member(&mut store, "甲", &[]), member(&mut store, "乙", &[]));
    activities::sign_up(&mut store, Actor::CommandLine, id, a, now).unwrap();
    activities::sign_up(&mut store, Actor::CommandLine, id, b, now).unwrap();
    // A resident signs up only themselves; capacity may not drop below the
    // places taken; a cancellation needs a reason.
    assert!(matches!(
        activities::sign_up(&mut store, Actor::Member(resident), id, a, now),
        Err(ActivityError::Forbidden(_))
    ));
    assert!(matches!(
        activities::edit(&mut store, Actor::CommandLine, id, &class(day, 1), now),
        Err(ActivityError::Refused(
            ActivityRefusal::CapacityBelowTaken { taken: 2 }
        ))
    ));
    assert!(matches!(
        activities::cancel_activity(&mut store, Actor::CommandLine, id, "  ", now),
        Err(ActivityError::Refused(ActivityRefusal::NoReason))
    ));
    assert!(matches!(
        activities::sign_up(&mut store, Actor::CommandLine, 999, a, now),
        Err(ActivityError::UnknownActivity(999))
    ));
    // Cancelled: those signed up see it with the reason; no more sign-ups.
    activities::cancel_activity(
        &mut store,
        Actor::CommandLine,
        id,
        "老师生病 Teacher ill",
        now,
    )
    .unwrap();
    let mine = activities::of_member(&store, a, now).unwrap();
    assert_eq!(mine.len(), 1);
    assert!(
        matches!(&mine[0].0.state, keting_store::activities::ActivityState::Cancelled(r) if r.contains("Teacher ill"))
    );
    assert!(matches!(
        activities::sign_up(&mut store, Actor::CommandLine, id, resident, now),
        Err(ActivityError::Refused(ActivityRefusal::NotOpen {
            state: "cancelled"
        }))
    ));
    let _ = Duration::ZERO;
}

#[test]
fn a_district_activity_is_adopted_in_one_action_once_and_shows_with_places_instead_of_its_line() {
    use keting_core::district::{DISTRICT_VERSION, DownlinkKind, DownlinkMessage};
    let mut store = Store::open_in_memory().unwrap();
    let now = at(date!(2026 - 12 - 01), 8, 0);
    let sent = DownlinkMessage {
        v: DISTRICT_VERSION,
        id: "futian-notice-7".into(),
        centre: "futian-01".into(),
        at_ms: now.as_unix_millis(),
        message: DownlinkKind::Activity {
            date: "2026-12-01".into(),
            starts: "15:30".into(),
            title_zh: "义诊".into(),
            title_en: "Free health check".into(),
            place_zh: "多功能厅".into(),
            place_en: "Hall".into(),
        },
    };
    store
        .write(|tx| keting_store::district_notices::apply(tx, &sent, now))
        .unwrap();
    let waiting = activities::from_district(&store, cal(), now).unwrap();
    assert_eq!(waiting.len(), 1);
    let observer = staff(&mut store, StaffRole::Observer);
    assert!(matches!(
        activities::adopt(
            &mut store,
            Actor::Staff(observer),
            "futian-notice-7",
            30,
            90,
            cal(),
            now
        ),
        Err(ActivityError::Forbidden(_))
    ));
    let organiser = staff(&mut store, StaffRole::Staff);
    let id = activities::adopt(
        &mut store,
        Actor::Staff(organiser),
        "futian-notice-7",
        30,
        90,
        cal(),
        now,
    )
    .unwrap();
    let v = activities::get(&store, id).unwrap();
    assert_eq!(
        (v.record.plan.title_zh.as_str(), v.places_left),
        ("义诊", 30)
    );
    assert_eq!(v.record.plan.starts, at(date!(2026 - 12 - 01), 15, 30));
    assert_eq!(v.record.plan.ends, at(date!(2026 - 12 - 01), 17, 0));
    assert_eq!(v.record.adopted_notice.as_deref(), Some("futian-notice-7"));
    assert!(matches!(
        activities::adopt(
            &mut store,
            Actor::Staff(organiser),
            "futian-notice-7",
            30,
            90,
            cal(),
            now
        ),
        Err(ActivityError::UnknownNotice(_))
    ));
    assert!(
        activities::from_district(&store, cal(), now)
            .unwrap()
            .is_empty()
    );
    // The home page shows it once, as an activity with places.
    let today = desk::home::on_today(&store, cal(), date!(2026 - 12 - 01), now).unwrap();
    let lines: Vec<_> = today.iter().filter(|l| l.title_zh == "义诊").collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].places, Some(desk::home::Places::Left(30)));
}
