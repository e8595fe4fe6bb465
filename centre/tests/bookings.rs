//! Bookings in the kiosk's database under simulated time: a no-show's place
//! released and the waiting list promoted, the cancellation window, a
//! failed session giving its package session (or points) back, an expired
//! package refused, the piano queue served when a piano frees.

use std::time::Duration;

use keting_core::booking::{
    BookingPolicy, BookingRefusal, BookingState, Charge, Limits, OpeningWindow, Price, Resource,
    ResourceId, ResourceKind,
};
use keting_core::calendar::{SiteCalendar, parse_date};
use keting_core::ids::{DeviceId, MemberId};
use keting_core::ledger::{Account, Points};
use keting_core::time::Timestamp;
use keting_desk::bookings::BookingError;
use keting_store::bookings::{self, DeviceWork};
use keting_store::members::{self, NewMember, Role};
use keting_store::ratings::RatingRefusal;
use keting_store::resources::{self, ResourceRecord};
use keting_store::walk_up::{self, WalkUp};
use keting_store::{Store, StoreError, packages, points};

const CAL: fn() -> SiteCalendar = SiteCalendar::china;

/// Local time on 2026-11-23 (a Monday).
fn at(h: i64, m: i64) -> Timestamp {
    let day = parse_date("2026-11-23").unwrap();
    Timestamp::from_unix_millis(CAL().start_of(day).as_unix_millis() + h * 3_600_000 + m * 60_000)
}

fn resource(id: &str, kind: ResourceKind, capacity: u16, price: Price) -> ResourceRecord {
    ResourceRecord {
        resource: Resource {
            id: ResourceId::new(id).unwrap(),
            kind,
            name_zh: "资源".into(),
            name_en: "Resource".into(),
            hours: vec![OpeningWindow::parse("09:00-17:00").unwrap()],
            slot_minutes: Some(60),
            capacity,
            price,
            trial_price: None,
            limits: Limits {
                per_day: 2,
                per_week: 5,
            },
            checked_after_use: kind == ResourceKind::Robot,
        },
        device: (kind == ResourceKind::Piano || kind == ResourceKind::Robot).then(|| {
            DeviceId::new(if kind == ResourceKind::Piano {
                "pianos"
            } else {
                "robot"
            })
            .unwrap()
        }),
        channel: Some(1),
        session: Duration::from_secs(45 * 60),
    }
}

fn site(resources_: &[ResourceRecord], members_: usize) -> (Store, Vec<MemberId>) {
    let mut store = Store::open_in_memory().unwrap();
    let ids = store
        .write(|tx| {
            for r in resources_ {
                resources::put(tx, r)?;
            }
            (0..members_)
                .map(|i| {
                    let new = NewMember::new(&format!("居民{i}"), None, &[Role::Resident])?;
                    members::add(tx, &new, at(0, 0))
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .unwrap();
    (store, ids)
}

fn book(
    store: &mut Store,
    res: &str,
    start: Timestamp,
    m: MemberId,
    wait: bool,
    now: Timestamp,
) -> Result<bookings::Booked, StoreError> {
    store.write(|tx| {
        bookings::book(
            tx,
            &BookingPolicy::default(),
            CAL(),
            res,
            start,
            m,
            wait,
            now,
        )
    })
}

fn state(store: &Store, id: i64) -> BookingState {
    bookings::get(store.conn(), id).unwrap().state
}

fn sweep(store: &mut Store, now: Timestamp) -> bookings::Swept {
    store
        .write(|tx| bookings::sweep(tx, &BookingPolicy::default(), CAL(), now))
        .unwrap()
}

#[test]
fn a_no_show_releases_the_place_and_the_waiting_list_is_promoted() {
    let (mut store, m) = site(&[resource("robot", ResourceKind::Robot, 1, Price::Free)], 3);
    let start = at(14, 0);
    let first = book(&mut store, "robot", start, m[0], false, at(9, 0))
        .unwrap()
        .booking
        .id;
    let second = book(&mut store, "robot", start, m[1], true, at(9, 1)).unwrap();
    assert_eq!(second.waiting_position, Some(1));
    let third = book(&mut store, "robot", start, m[2], true, at(9, 2)).unwrap();
    assert_eq!(third.waiting_position, Some(2));
    // Nine minutes after the start, the place is still the first member's.
    assert!(sweep(&mut store, at(14, 9)).released.is_empty());
    // At ten, nobody started it: released, and the first waiting gets it.
    let swept = sweep(&mut store, at(14, 10));
    assert_eq!(swept.released.len(), 1);
    assert_eq!(state(&store, first), BookingState::Released);
    assert_eq!(
        swept.promoted.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![second.booking.id]
    );
    // The promoted member has ten minutes from the promotion.
    let refused = store.write(|tx| {
        bookings::check_in(tx, &BookingPolicy::default(), CAL(), m[0], None, at(14, 11))
    });
    assert!(
        refused.is_err(),
        "the released member cannot start any more"
    );
    let b = store
        .write(|tx| {
            bookings::check_in(
                tx,
                &BookingPolicy::default(),
                CAL(),
                m[1],
                Some("robot"),
                at(14, 15),
            )
        })
        .unwrap();
    assert_eq!(b.state, BookingState::Started);
    assert!(sweep(&mut store, at(14, 30)).promoted.is_empty());
    assert_eq!(state(&store, third.booking.id), BookingState::Waiting);
    // The slot over, the one still waiting lapses.
    sweep(&mut store, at(15, 0));
    assert_eq!(state(&store, third.booking.id), BookingState::Lapsed);
}

#[test]
fn the_cancellation_window_holds_and_a_package_session_comes_back() {
    let price = Price::Yuan { fen: 8800 };
    let (mut store, m) = site(&[resource("robot", ResourceKind::Robot, 1, price)], 1);
    let pkg = store
        .write(|tx| {
            packages::sell(
                tx,
                m[0],
                ResourceKind::Robot,
                10,
                at(24 * 30, 0),
                "desk",
                at(0, 0),
            )
        })
        .unwrap();
    let used = |store: &Store| packages::of_member(store.conn(), m[0], None).unwrap()[0].used;
    let a = book(&mut store, "robot", at(14, 0), m[0], false, at(9, 0))
        .unwrap()
        .booking;
    assert_eq!(a.charge, Some(Charge::Package { package: pkg }));
    assert_eq!(used(&store), 1);
    // Two hours before: the member may cancel, the session comes back.
    let c = store
        .write(|tx| {
            bookings::cancel(
                tx,
                &BookingPolicy::default(),
                CAL(),
                a.id,
                Some(m[0]),
                at(12, 0),
            )
        })
        .unwrap();
    assert!(c.returned);
    assert_eq!(used(&store), 0);
    let b = book(&mut store, "robot", at(14, 0), m[0], false, at(12, 0))
        .unwrap()
        .booking;
    // A minute later it is too late for the member...
    let late = store.write(|tx| {
        bookings::cancel(
            tx,
            &BookingPolicy::default(),
            CAL(),
            b.id,
            Some(m[0]),
            at(12, 1),
        )
    });
    assert!(
        matches!(
            late,
            Err(StoreError::Booking(BookingRefusal::TooLateToCancel {
                hours: 2
            }))
        ),
        "{late:?}"
    );
    assert_eq!(state(&store, b.id), BookingState::Booked);
    // ...but not for staff.
    store
        .write(|tx| bookings::cancel(tx, &BookingPolicy::default(), CAL(), b.id, None, at(13, 30)))
        .unwrap();
    assert_eq!(used(&store), 0);
}

#[test]
fn a_failed_robot_session_gives_the_package_session_back_and_a_finished_one_waits_for_staff() {
    let (mut store, m) = site(
        &[resource(
            "robot",
            ResourceKind::Robot,
            1,
            Price::Yuan { fen: 8800 },
        )],
        1,
    );
    store
        .write(|tx| {
            packages::sell(
                tx,
                m[0],
                ResourceKind::Robot,
                2,
                at(24 * 30, 0),
                "desk",
                at(0, 0),
            )
        })
        .unwrap();
    let used = |store: &Store| packages::of_member(store.conn(), m[0], None).unwrap()[0].used;
    let a = book(&mut store, "robot", at(10, 0), m[0], false, at(9, 0))
        .unwrap()
        .booking;
    store
        .write(|tx| bookings::check_in(tx, &BookingPolicy::default(), CAL(), m[0], None, at(10, 2)))
        .unwrap();
    // The centre must tell the robot to start.
    let work = bookings::device_work(store.conn(), at(10, 2)).unwrap();
    assert_eq!(
        work.iter().map(|(w, b)| (*w, b.id)).collect::<Vec<_>>(),
        vec![(DeviceWork::On, a.id)]
    );
    store
        .write(|tx| bookings::mark_device(tx, a.id, true, at(10, 2)))
        .unwrap();
    let failed = store
        .write(|tx| bookings::fail(tx, CAL(), a.id, "arm blocked", at(10, 20)))
        .unwrap();
    assert_eq!(
        (failed.state, failed.returned),
        (BookingState::Failed, true)
    );
    assert_eq!(used(&store), 0, "the session came back");
    // The next session finishes: it waits for staff, the session is spent.
    let b = book(&mut store, "robot", at(14, 0), m[0], false, at(13, 0))
        .unwrap()
        .booking;
    store
        .write(|tx| bookings::check_in(tx, &BookingPolicy::default(), CAL(), m[0], None, at(14, 0)))
        .unwrap();
    let done = store
        .write(|tx| bookings::finish(tx, CAL(), b.id, "time_up", true, at(15, 0)))
        .unwrap();
    assert_eq!(done.state, BookingState::ToCheck);
    assert_eq!(used(&store), 1);
    store
        .write(|tx| bookings::clear(tx, b.id, at(15, 5)))
        .unwrap();
    assert_eq!(state(&store, b.id), BookingState::Done);
}

#[test]
fn points_are_held_spent_at_the_end_and_returned_on_failure_and_an_expired_package_is_refused() {
    let (mut store, m) = site(
        &[
            resource(
                "room-1",
                ResourceKind::Room,
                1,
                Price::Points { points: 20 },
            ),
            resource("robot", ResourceKind::Robot, 1, Price::Yuan { fen: 8800 }),
        ],
        1,
    );
    let balance = |store: &Store| points::balance(store.conn(), Account::Member(m[0])).unwrap();
    store
        .write(|tx| {
            let a = points::occasion(
                tx,
                "图书整理",
                Points::from(50u32),
                "2026-11-23",
                "staff",
                at(8, 0),
            )?;
            points::award(tx, m[0], a, "staff", CAL(), at(8, 0))
        })
        .unwrap();
    let a = book(&mut store, "room-1", at(10, 0), m[0], false, at(9, 0))
        .unwrap()
        .booking;
    assert_eq!(balance(&store), Points::from(30u32), "20 held");
    store
        .write(|tx| bookings::check_in(tx, &BookingPolicy::default(), CAL(), m[0], None, at(10, 0)))
        .unwrap();
    store
        .write(|tx| bookings::fail(tx, CAL(), a.id, "power cut", at(10, 30)))
        .unwrap();
    assert_eq!(balance(&store), Points::from(50u32), "returned");
    let b = book(&mut store, "room-1", at(11, 0), m[0], false, at(10, 40))
        .unwrap()
        .booking;
    store
        .write(|tx| bookings::check_in(tx, &BookingPolicy::default(), CAL(), m[0], None, at(11, 0)))
        .unwrap();
    sweep(&mut store, at(12, 0));
    assert_eq!(state(&store, b.id), BookingState::Done);
    assert_eq!(balance(&store), Points::from(30u32), "spent");
    // A package that expired yesterday: refused with the reason, nothing booked.
    store
        .write(|tx| {
            packages::sell(
                tx,
                m[0],
                ResourceKind::Robot,
                10,
                at(9, 0),
                "desk",
                at(0, 0),
            )
        })
        .unwrap();
    let r = book(&mut store, "robot", at(14, 0), m[0], false, at(12, 0));
    assert!(
        matches!(r, Err(StoreError::Booking(BookingRefusal::PackageExpired))),
        "{r:?}"
    );
    assert!(
        bookings::of_resource(store.conn(), "robot", at(0, 0), at(24, 0))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_piano_queue_is_served_when_a_piano_frees() {
    let mut one = resource("piano-1", ResourceKind::Piano, 1, Price::Free);
    one.resource.hours = vec![OpeningWindow::parse("08:00-21:00").unwrap()];
    let (mut store, m) = site(&[one], 3);
    let policy = BookingPolicy::default();
    let scan = |store: &mut Store, who: MemberId, now: Timestamp| {
        store
            .write(|tx| walk_up::scan(tx, &policy, CAL(), ResourceKind::Piano, who, &[], now))
            .unwrap()
    };
    let WalkUp::Started(first) = scan(&mut store, m[0], at(10, 0)) else {
        panic!("a free piano")
    };
    assert_eq!(first.slot.end, at(10, 45));
    assert!(matches!(
        scan(&mut store, m[0], at(10, 1)),
        WalkUp::AlreadyPlaying(_)
    ));
    assert_eq!(
        scan(&mut store, m[1], at(10, 2)),
        WalkUp::Queued { position: 1 }
    );
    assert_eq!(
        scan(&mut store, m[2], at(10, 3)),
        WalkUp::Queued { position: 2 }
    );
    // An unavailable piano is never given.
    let served = store
        .write(|tx| walk_up::serve_queue(tx, &policy, ResourceKind::Piano, &[], at(10, 30)))
        .unwrap();
    assert!(served.is_empty(), "still in use");
    // The time is up: the piano frees and the first in the queue gets it.
    sweep(&mut store, at(10, 45));
    let served = store
        .write(|tx| {
            walk_up::serve_queue(
                tx,
                &policy,
                ResourceKind::Piano,
                &["piano-1".into()],
                at(10, 45),
            )
        })
        .unwrap();
    assert!(served.is_empty(), "its piano bank is offline");
    let served = store
        .write(|tx| walk_up::serve_queue(tx, &policy, ResourceKind::Piano, &[], at(10, 45)))
        .unwrap();
    assert_eq!(
        served.iter().map(|b| b.member).collect::<Vec<_>>(),
        vec![m[1]]
    );
    // Not started within ten minutes: released, and the next is served.
    sweep(&mut store, at(10, 55));
    let served = store
        .write(|tx| walk_up::serve_queue(tx, &policy, ResourceKind::Piano, &[], at(10, 55)))
        .unwrap();
    assert_eq!(
        served.iter().map(|b| b.member).collect::<Vec<_>>(),
        vec![m[2]]
    );
    // This one scans in time: 45 minutes from the scan.
    let WalkUp::Started(b) = scan(&mut store, m[2], at(11, 0)) else {
        panic!("kept for them")
    };
    assert_eq!((b.slot.start, b.slot.end), (at(11, 0), at(11, 45)));
}

#[test]
fn a_session_is_rated_once_after_it_ends_and_the_staff_see_the_average() {
    use keting_store::ratings;
    let (mut store, m) = site(&[resource("room-1", ResourceKind::Room, 4, Price::Free)], 3);
    let mut ended = Vec::new();
    for (i, who) in m.iter().enumerate() {
        let b = book(&mut store, "room-1", at(10, 0), *who, false, at(9, 0))
            .unwrap()
            .booking;
        if i < 2 {
            store
                .write(|tx| {
                    bookings::check_in(tx, &BookingPolicy::default(), CAL(), *who, None, at(10, 0))
                })
                .unwrap();
            ended.push(b.id);
        } else {
            // Never started: nothing to rate.
            let r = store.write(|tx| ratings::rate(tx, b.id, Some(*who), 5, at(10, 30)));
            assert!(
                matches!(
                    &r,
                    Err(StoreError::Rating(RatingRefusal::NotOver(
                        BookingState::Booked
                    )))
                ),
                "{r:?}"
            );
        }
    }
    sweep(&mut store, at(11, 0));
    // The next scan asks about the session just over.
    let asked = ratings::to_rate(store.conn(), m[0], at(11, 5))
        .unwrap()
        .unwrap();
    assert_eq!(asked.id, ended[0]);
    store
        .write(|tx| ratings::rate(tx, ended[0], Some(m[0]), 5, at(11, 5)))
        .unwrap();
    assert_eq!(
        ratings::to_rate(store.conn(), m[0], at(11, 6)).unwrap(),
        None
    );
    let again = store.write(|tx| ratings::rate(tx, ended[0], Some(m[0]), 1, at(11, 6)));
    assert!(
        matches!(&again, Err(StoreError::Rating(RatingRefusal::RatedAlready))),
        "{again:?}"
    );
    let not_theirs = store.write(|tx| ratings::rate(tx, ended[1], Some(m[0]), 1, at(11, 6)));
    assert!(
        matches!(
            &not_theirs,
            Err(StoreError::Rating(RatingRefusal::NotYours))
        ),
        "{not_theirs:?}"
    );
    assert!(
        store
            .write(|tx| ratings::rate(tx, ended[1], Some(m[1]), 6, at(11, 6)))
            .is_err()
    );
    store
        .write(|tx| ratings::rate(tx, ended[1], Some(m[1]), 2, at(11, 7)))
        .unwrap();
    // A day later, nothing is asked any more.
    assert_eq!(
        ratings::to_rate(store.conn(), m[1], at(36, 0)).unwrap(),
        None
    );
    let per = ratings::per_service(store.conn(), at(0, 0)).unwrap();
    assert_eq!(per.len(), 1);
    assert_eq!(
        (
            per[0].kind,
            per[0].count,
            per[0].average_x100,
            per[0].satisfied
        ),
        (ResourceKind::Room, 2, 350, 1)
    );
}

#[test]
fn the_sites_cancellation_window_is_what_staff_set_and_the_desk_names_who_cancelled() {
    use keting_desk::Actor;
    use keting_desk::bookings::{self as desk, CancelAs, PolicyChange};
    let (mut store, m) = site(&[resource("robot", ResourceKind::Robot, 1, Price::Free)], 1);
    let b = desk::book(
        &mut store,
        Actor::Member(m[0]),
        "robot",
        at(14, 0),
        m[0],
        false,
        CAL(),
        at(11, 0),
    )
    .unwrap()
    .booking;
    // 90 minutes before the start: too late under the default 2 hours...
    let late = desk::cancel(
        &mut store,
        Actor::Member(m[0]),
        b.id,
        CancelAs::Member,
        CAL(),
        at(12, 30),
    );
    assert!(
        matches!(
            late,
            Err(BookingError::Refused(BookingRefusal::TooLateToCancel {
                hours: 2
            }))
        ),
        "{late:?}"
    );
    // ...in time once the site allows cancelling until an hour before.
    let change = PolicyChange {
        cancel_before_minutes: Some(60),
        ..PolicyChange::default()
    };
    let manager = store
        .write(|tx| {
            keting_store::members::add(
                tx,
                &keting_store::members::NewMember::new(
                    "刘主任",
                    None,
                    &[keting_store::members::Role::Staff],
                )?,
                at(12, 0),
            )
        })
        .unwrap();
    keting_desk::staff::set_role(
        &mut store,
        Actor::CommandLine,
        manager,
        Some(keting_core::staff::StaffRole::Manager),
        at(12, 0),
    )
    .unwrap();
    desk::policy(&mut store, Actor::Staff(manager), change, at(12, 30)).unwrap();
    desk::cancel(
        &mut store,
        Actor::Member(m[0]),
        b.id,
        CancelAs::Member,
        CAL(),
        at(12, 31),
    )
    .unwrap();
    assert_eq!(state(&store, b.id), BookingState::Cancelled);
    let log = keting_store::audit::recent(store.conn(), 3).unwrap();
    let who: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        who,
        vec![
            ("member:1", "booking.cancel"),
            (format!("staff:{manager}").as_str(), "booking.policy"),
            ("command-line", "staff.role")
        ]
    );
}

#[test]
fn a_bank_that_comes_back_is_sent_its_session_again_at_once() {
    let (mut store, m) = site(
        &[resource("piano-1", ResourceKind::Piano, 1, Price::Free)],
        1,
    );
    let policy = BookingPolicy::default();
    let WalkUp::Started(b) = store
        .write(|tx| {
            walk_up::scan(
                tx,
                &policy,
                CAL(),
                ResourceKind::Piano,
                m[0],
                &[],
                at(10, 0),
            )
        })
        .unwrap()
    else {
        panic!("a free piano")
    };
    let work = |store: &Store, now| bookings::device_work(store.conn(), now).unwrap();
    assert_eq!(work(&store, at(10, 0)).len(), 1, "to be switched on");
    bookings::mark_command_sent(store.conn(), b.id, at(10, 0)).unwrap();
    assert!(
        work(&store, at(10, 0)).is_empty(),
        "sent: not again before the resend time"
    );
    // The bank was away (the command was lost); it is back.
    let bank = DeviceId::new("pianos").unwrap();
    assert_eq!(bookings::resend_to(store.conn(), &bank).unwrap(), 1);
    let again = work(&store, at(10, 0));
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].0, again[0].1.id), (DeviceWork::On, b.id));
    // Another device's return changes nothing.
    bookings::mark_command_sent(store.conn(), b.id, at(10, 0)).unwrap();
    assert_eq!(
        bookings::resend_to(store.conn(), &DeviceId::new("robot").unwrap()).unwrap(),
        0
    );
}

#[test]
fn a_resident_books_for_themselves_and_only_front_desk_staff_for_anyone() {
    use keting_core::staff::{StaffAction, StaffRole};
    use keting_desk::Actor;
    let room = resource("room", ResourceKind::Room, 4, Price::Free);
    let (mut store, ids) = site(&[room], 4);
    let (wang, li, desk_staff, tech) = (ids[0], ids[1], ids[2], ids[3]);
    for (who, role) in [
        (desk_staff, StaffRole::Staff),
        (tech, StaffRole::Technician),
    ] {
        keting_desk::staff::set_role(&mut store, Actor::CommandLine, who, Some(role), at(0, 0))
            .unwrap();
    }
    let book = |store: &mut Store, actor, member, h| {
        keting_desk::bookings::book(
            store,
            actor,
            "room",
            at(h, 0),
            member,
            false,
            CAL(),
            at(8, 0),
        )
    };
    // 王 may not book (or queue for a piano) in 李's name.
    let refused = book(&mut store, Actor::Member(wang), li, 10);
    assert!(
        matches!(refused, Err(BookingError::Forbidden(f)) if f.action == StaffAction::Bookings),
        "{refused:?}"
    );
    assert!(matches!(
        keting_desk::bookings::leave_piano_queue(&mut store, Actor::Member(wang), li, at(8, 0)),
        Err(BookingError::Forbidden(_))
    ));
    // A technician's role is not the front desk's.
    assert!(matches!(
        book(&mut store, Actor::Staff(tech), li, 10),
        Err(BookingError::Forbidden(_))
    ));
    assert!(
        keting_desk::bookings::of_member(&store, li, at(0, 0))
            .unwrap()
            .is_empty()
    );
    // 王 books for himself; the front desk books for 李.
    book(&mut store, Actor::Member(wang), wang, 10).unwrap();
    book(&mut store, Actor::Staff(desk_staff), li, 11).unwrap();
    assert_eq!(
        keting_desk::bookings::of_member(&store, li, at(0, 0))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_bookings_desk_refuses_with_a_type_for_each_reason_and_writes_nothing() {
    use keting_desk::Actor;
    use keting_desk::bookings::PolicyChange;
    use keting_store::packages::PackageRefusal;
    let room = resource("room-1", ResourceKind::Room, 4, Price::Free);
    let piano = resource("piano-1", ResourceKind::Piano, 1, Price::Free);
    let (mut store, m) = site(&[room.clone(), piano.clone()], 1);
    let audited = |store: &Store| {
        keting_store::audit::recent(store.conn(), 100)
            .unwrap()
            .len()
    };
    let before = audited(&store);
    let book = |store: &mut Store, res: &str, start| {
        keting_desk::bookings::book(
            store,
            Actor::Member(m[0]),
            res,
            start,
            m[0],
            false,
            CAL(),
            at(8, 0),
        )
    };
    // A resource that is not there names the ones that are.
    match book(&mut store, "room-9", at(10, 0)) {
        Err(BookingError::UnknownResource { id, known }) => {
            assert_eq!(id, "room-9");
            assert!(known.contains("room-1"), "{known}");
        }
        other => panic!("{other:?}"),
    }
    // No slot starts at 10:30 (hourly slots from 09:00), nor after closing.
    for start in [at(10, 30), at(18, 0)] {
        match book(&mut store, "room-1", start) {
            Err(BookingError::NoSuchSlot {
                resource,
                hours,
                slots,
            }) => {
                assert_eq!(
                    (resource.as_str(), hours.as_str()),
                    ("room-1", "09:00-17:00")
                );
                assert_eq!(slots, "slots of 60 minutes");
            }
            other => panic!("{other:?}"),
        }
    }
    // Pianos are walked up to, never booked.
    assert!(matches!(
        book(&mut store, "piano-1", at(10, 0)),
        Err(BookingError::PianoNotBookable)
    ));
    // A piano without its bank, a place that would not wait, a package of
    // no sessions: each refused by name.
    let mut no_bank = piano.clone();
    no_bank.device = None;
    assert!(matches!(
        keting_desk::bookings::put_resource(&mut store, Actor::CommandLine, &no_bank, at(8, 0)),
        Err(BookingError::PianoNeedsBank)
    ));
    let no_grace = PolicyChange {
        start_grace_minutes: Some(0),
        ..PolicyChange::default()
    };
    assert!(matches!(
        keting_desk::bookings::policy(&mut store, Actor::CommandLine, no_grace, at(8, 0)),
        Err(BookingError::NoGrace)
    ));
    let last_day = parse_date("2026-12-31").unwrap();
    assert!(matches!(
        keting_desk::bookings::sell_package(
            &mut store,
            Actor::CommandLine,
            m[0],
            ResourceKind::Room,
            0,
            last_day,
            CAL(),
            at(8, 0),
        ),
        Err(BookingError::Package(PackageRefusal::Sessions(0)))
    ));
    // Nothing was written: no booking, no package, no audit row.
    assert!(
        keting_desk::bookings::of_member(&store, m[0], at(0, 0))
            .unwrap()
            .is_empty()
    );
    assert!(
        keting_desk::bookings::packages(&store, m[0])
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        keting_desk::bookings::resource(&store, "piano-1")
            .unwrap()
            .device,
        piano.device
    );
    assert_eq!(audited(&store), before);
}
