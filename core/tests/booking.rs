//! The booking rules under simulated time: a week of a centre's requests.

#![allow(clippy::unwrap_used)]

use keting_core::booking::rules::{self, check_in, release_due, start_by};
use keting_core::booking::slots::{slot_starting, slots_on};
use keting_core::booking::{
    BookingPolicy, BookingRefusal, BookingState, Charge, Decision, Limits, MemberBookings,
    OpeningWindow, Package, Price, Request, Resource, ResourceId, ResourceKind,
};
use keting_core::calendar::{SiteCalendar, parse_date};
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;

fn robot() -> Resource {
    Resource {
        id: ResourceId::new("robot").unwrap(),
        kind: ResourceKind::Robot,
        name_zh: "艾灸机器人".into(),
        name_en: "Moxibustion robot".into(),
        hours: vec![
            OpeningWindow::parse("09:00-12:00").unwrap(),
            OpeningWindow::parse("14:00-17:00").unwrap(),
        ],
        slot_minutes: Some(60),
        capacity: 1,
        price: Price::Yuan { fen: 8800 },
        trial_price: Some(Price::Yuan { fen: 2990 }),
        limits: Limits {
            per_day: 1,
            per_week: 3,
        },
        checked_after_use: true,
    }
}

fn childcare() -> Resource {
    Resource {
        id: ResourceId::new("childcare").unwrap(),
        kind: ResourceKind::Childcare,
        name_zh: "临时托管".into(),
        name_en: "Childcare".into(),
        hours: vec![
            OpeningWindow::parse("08:30-11:30").unwrap(),
            OpeningWindow::parse("14:00-17:30").unwrap(),
        ],
        slot_minutes: None,
        capacity: 6,
        price: Price::Yuan { fen: 9000 },
        trial_price: None,
        limits: Limits {
            per_day: 2,
            per_week: 10,
        },
        checked_after_use: false,
    }
}

fn cal() -> SiteCalendar {
    SiteCalendar::china()
}

fn at(day: &str, h: i64, m: i64) -> Timestamp {
    let d = parse_date(day).unwrap();
    Timestamp::from_unix_millis(cal().start_of(d).as_unix_millis() + h * 3_600_000 + m * 60_000)
}

fn package(id: i64, sessions: u16, used: u16, expires: Timestamp) -> Package {
    Package {
        id,
        member: MemberId(1),
        kind: ResourceKind::Robot,
        sessions,
        used,
        expires,
    }
}

#[test]
fn a_full_slot_is_refused_or_waited_for() {
    let r = robot();
    let policy = BookingPolicy::default();
    let slot = slot_starting(&r, cal(), at("2026-11-23", 9, 0)).unwrap();
    let now = at("2026-11-22", 10, 0);
    let me = MemberBookings {
        had_session: true,
        packages: vec![package(7, 10, 2, at("2027-06-01", 0, 0))],
        ..Default::default()
    };
    let req = Request {
        resource: &r,
        slot,
        now,
        wait_if_full: false,
    };
    assert_eq!(
        rules::decide(&policy, cal(), &req, &me, 0),
        Ok(Decision::Booked(Charge::Package { package: 7 }))
    );
    assert_eq!(
        rules::decide(&policy, cal(), &req, &me, 1),
        Err(BookingRefusal::Full)
    );
    let wait = Request {
        wait_if_full: true,
        ..req
    };
    assert_eq!(
        rules::decide(&policy, cal(), &wait, &me, 1),
        Ok(Decision::Waiting)
    );
    let care = childcare();
    let morning = slots_on(&care, cal(), parse_date("2026-11-23").unwrap())[0];
    let req = Request {
        resource: &care,
        slot: morning,
        now,
        wait_if_full: false,
    };
    assert!(rules::decide(&policy, cal(), &req, &MemberBookings::default(), 5).is_ok());
    assert_eq!(
        rules::decide(&policy, cal(), &req, &MemberBookings::default(), 6),
        Err(BookingRefusal::Full)
    );
}

#[test]
fn past_slots_and_limits_are_refused() {
    let r = robot();
    let policy = BookingPolicy::default();
    let slot = slot_starting(&r, cal(), at("2026-11-23", 9, 0)).unwrap();
    let me = MemberBookings::default();
    let req = |now| Request {
        resource: &r,
        slot,
        now,
        wait_if_full: false,
    };
    // Until the grace after the start, a place can still be taken.
    assert!(rules::decide(&policy, cal(), &req(at("2026-11-23", 9, 9)), &me, 0).is_ok());
    assert_eq!(
        rules::decide(&policy, cal(), &req(at("2026-11-23", 9, 11)), &me, 0),
        Err(BookingRefusal::SlotPast)
    );
    assert_eq!(
        rules::decide(&policy, cal(), &req(at("2026-11-24", 9, 0)), &me, 0),
        Err(BookingRefusal::SlotPast)
    );

    let now = at("2026-11-22", 10, 0);
    let other = |day, h| {
        (
            slot_starting(&r, cal(), at(day, h, 0)).unwrap(),
            BookingState::Booked,
        )
    };
    let same_day = MemberBookings {
        this_week: vec![other("2026-11-23", 14)],
        ..Default::default()
    };
    assert_eq!(
        rules::decide(&policy, cal(), &req(now), &same_day, 0),
        Err(BookingRefusal::OverDailyLimit { limit: 1 })
    );
    let week = MemberBookings {
        this_week: vec![
            other("2026-11-24", 9),
            other("2026-11-25", 9),
            other("2026-11-26", 9),
        ],
        ..Default::default()
    };
    assert_eq!(
        rules::decide(&policy, cal(), &req(now), &week, 0),
        Err(BookingRefusal::OverWeeklyLimit { limit: 3 })
    );
    // Cancelled bookings do not count.
    let cancelled = MemberBookings {
        this_week: vec![(other("2026-11-23", 14).0, BookingState::Cancelled)],
        ..Default::default()
    };
    assert!(rules::decide(&policy, cal(), &req(now), &cancelled, 0).is_ok());
    assert_eq!(
        rules::decide(
            &policy,
            cal(),
            &req(now),
            &MemberBookings {
                in_this_slot: true,
                ..Default::default()
            },
            0
        ),
        Err(BookingRefusal::AlreadyBooked)
    );
}

#[test]
fn trial_then_package_then_expired() {
    let r = robot();
    let now = at("2026-11-22", 10, 0);
    let first = MemberBookings::default();
    assert_eq!(
        rules::charge(&r, &first, now),
        Ok(Charge::Yuan {
            fen: 2990,
            trial: true
        })
    );
    let after = MemberBookings {
        had_session: true,
        ..Default::default()
    };
    assert_eq!(
        rules::charge(&r, &after, now),
        Ok(Charge::Yuan {
            fen: 8800,
            trial: false
        })
    );
    // The package expiring first pays.
    let two = MemberBookings {
        had_session: true,
        packages: vec![
            package(1, 10, 0, at("2027-03-01", 0, 0)),
            package(2, 5, 0, at("2026-12-31", 0, 0)),
        ],
        ..Default::default()
    };
    assert_eq!(
        rules::charge(&r, &two, now),
        Ok(Charge::Package { package: 2 })
    );
    let expired = MemberBookings {
        had_session: true,
        packages: vec![package(3, 10, 4, at("2026-11-01", 0, 0))],
        ..Default::default()
    };
    assert_eq!(
        rules::charge(&r, &expired, now),
        Err(BookingRefusal::PackageExpired)
    );
    let used = MemberBookings {
        had_session: true,
        packages: vec![package(4, 10, 10, at("2027-11-01", 0, 0))],
        ..Default::default()
    };
    assert_eq!(
        rules::charge(&r, &used, now),
        Err(BookingRefusal::PackageUsedUp)
    );
    // An expired package is refused before the waiting list is joined.
    let slot = slot_starting(&r, cal(), at("2026-11-23", 9, 0)).unwrap();
    let req = Request {
        resource: &r,
        slot,
        now,
        wait_if_full: true,
    };
    assert_eq!(
        rules::decide(&BookingPolicy::default(), cal(), &req, &expired, 1),
        Err(BookingRefusal::PackageExpired)
    );
}

#[test]
fn the_cancellation_window_holds() {
    let policy = BookingPolicy::default();
    let slot = slot_starting(&robot(), cal(), at("2026-11-23", 14, 0)).unwrap();
    let b = BookingState::Booked;
    assert_eq!(
        rules::cancel(&policy, b, slot, at("2026-11-23", 12, 0), false),
        Ok(true)
    );
    assert_eq!(
        rules::cancel(&policy, b, slot, at("2026-11-23", 12, 1), false),
        Err(BookingRefusal::TooLateToCancel { hours: 2 })
    );
    assert_eq!(
        rules::cancel(&policy, b, slot, at("2026-11-23", 13, 59), true),
        Ok(true)
    );
    assert_eq!(
        rules::cancel(
            &policy,
            BookingState::Waiting,
            slot,
            at("2026-11-23", 13, 0),
            false
        ),
        Ok(false)
    );
    assert_eq!(
        rules::cancel(
            &policy,
            BookingState::Started,
            slot,
            at("2026-11-23", 14, 5),
            true
        ),
        Err(BookingRefusal::NotBooked(BookingState::Started))
    );
}

#[test]
fn unstarted_places_are_released_after_the_grace() {
    let policy = BookingPolicy::default();
    let slot = slot_starting(&robot(), cal(), at("2026-11-23", 14, 0)).unwrap();
    let by = start_by(&policy, slot, at("2026-11-22", 9, 0));
    assert_eq!(by, at("2026-11-23", 14, 10));
    let b = BookingState::Booked;
    assert!(!release_due(b, by, at("2026-11-23", 14, 9)));
    assert!(release_due(b, by, at("2026-11-23", 14, 10)));
    assert!(!release_due(
        BookingState::Started,
        by,
        at("2026-11-23", 15, 0)
    ));
    assert_eq!(
        check_in(&policy, b, slot, by, at("2026-11-23", 13, 40)),
        Err(BookingRefusal::TooEarly { minutes: 15 })
    );
    assert_eq!(
        check_in(&policy, b, slot, by, at("2026-11-23", 13, 50)),
        Ok(())
    );
    assert_eq!(
        check_in(&policy, b, slot, by, at("2026-11-23", 14, 10)),
        Err(BookingRefusal::NotStartedInTime)
    );
    // A member promoted at 14:10 has ten minutes from then; never past the end.
    let promoted = start_by(&policy, slot, at("2026-11-23", 14, 10));
    assert_eq!(promoted, at("2026-11-23", 14, 20));
    assert_eq!(
        check_in(&policy, b, slot, promoted, at("2026-11-23", 14, 15)),
        Ok(())
    );
    assert_eq!(start_by(&policy, slot, at("2026-11-23", 14, 55)), slot.end);
}

#[test]
fn a_resource_is_refused_what_no_surface_may_set() {
    use keting_core::booking::ResourceError;
    assert!(robot().validate().is_ok());
    let with = |f: &dyn Fn(&mut Resource)| {
        let mut r = robot();
        f(&mut r);
        r.validate()
    };
    let cases: [(&dyn Fn(&mut Resource), ResourceError); 8] = [
        (
            &|r| r.name_zh = "长".repeat(41),
            ResourceError::BadName { chinese: true },
        ),
        (
            &|r| r.name_zh = " ".into(),
            ResourceError::BadName { chinese: true },
        ),
        (
            &|r| r.name_en = "<b>Room</b>".into(),
            ResourceError::BadName { chinese: false },
        ),
        (
            &|r| r.name_en = "Room\u{7}".into(),
            ResourceError::BadName { chinese: false },
        ),
        (&|r| r.capacity = 0, ResourceError::BadCapacity),
        (&|r| r.capacity = 501, ResourceError::BadCapacity),
        (&|r| r.limits.per_day = 0, ResourceError::BadLimits),
        (&|r| r.limits.per_week = 101, ResourceError::BadLimits),
    ];
    for (change, refusal) in cases {
        assert_eq!(with(change), Err(refusal));
    }
    assert!(
        with(&|r| r.name_zh = "长".repeat(40)).is_ok(),
        "40 characters fit"
    );
}
