//! What the district needs leaves with the commit of the desk action that
//! made it: a counted check-in, an award, an alarm raised and cleared are
//! queued in the district outbox in the same transaction, carry pseudonyms
//! and no name, and are pruned with the devices' events.

#![allow(clippy::unwrap_used)]
use keting_core::calendar::SiteCalendar;
use keting_core::ids::DeviceId;

use keting_core::district::{DistrictEvent, DistrictEventKind, Pseudonym};
use keting_core::time::Timestamp;
use keting_desk::{self as desk, Actor};
use keting_store::Store;
use keting_store::StoreError;
use keting_store::alarms::{self, AlarmKind};
use keting_store::members::NewMember;
use keting_store::uplink::{backlog, event, mark_sent_through, prune, unsent};
use rusqlite::params;

const KEY: [u8; 32] = [3; 32];

#[test]
fn what_the_district_needs_is_queued_with_its_commit_and_leaves_with_no_name() {
    let mut store = Store::open_in_memory().unwrap();
    let now = Timestamp::from_unix_millis(1_800_000_000_000);
    let id = store
        .write(|tx| {
            keting_store::members::add(
                tx,
                &NewMember::new("陈晓梅", Some("5067"), &[]).unwrap(),
                now,
            )
        })
        .unwrap();
    // A counted visit, one not counted (a repeat), an award, an alarm
    // raised and cleared.
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO checkins (at_ms, member_id, accepted, counted, reason, source)
                 VALUES (?1, ?2, 1, 1, NULL, 'scanner'), (?1, ?2, 1, 0, NULL, 'scanner')",
                params![now.as_unix_millis(), id.0],
            )
        })
        .unwrap();
    desk::points::award(
        &mut store,
        Actor::CommandLine,
        id,
        "敬老探访",
        15,
        SiteCalendar::china(),
        now,
    )
    .unwrap();
    let door = DeviceId::new("gym-door").unwrap();
    store
        .write(|tx| {
            alarms::raise(tx, &door, AlarmKind::Forced, "", now)?;
            alarms::clear(
                tx,
                &door,
                AlarmKind::Forced,
                now.saturating_add(std::time::Duration::from_secs(5)),
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let rows = unsent(store.conn(), 100).unwrap();
    let sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(
        sources,
        ["checkin", "posting", "alarm_raised", "alarm_cleared"]
    );
    assert_eq!(backlog(store.conn()).unwrap(), 4);
    let events: Vec<DistrictEvent> = rows
        .iter()
        .map(|r| event(store.conn(), "futian-01", &KEY, r).unwrap().unwrap())
        .collect();
    let visitor = Pseudonym::of(&KEY, id);
    assert_eq!(
        events[0].event,
        DistrictEventKind::CheckIn {
            visitor: visitor.clone()
        }
    );
    assert_eq!(
        events[1].event,
        DistrictEventKind::PointsAwarded {
            awarded_for: "敬老探访".into(),
            volunteer: visitor,
            points: 15
        }
    );
    assert!(
        matches!(&events[3].event, DistrictEventKind::Alarm { raised: false, alarm, .. } if alarm == "forced")
    );
    assert_eq!(events[0].message_id(), format!("futian-01:{}", rows[0].id));
    for e in &events {
        let text = String::from_utf8(e.encode()).unwrap();
        assert!(!text.contains("陈晓梅") && !text.contains("5067"), "{text}");
    }
    // Acknowledged in order: the first two go, two wait.
    mark_sent_through(store.conn(), rows[1].id, 2, now).unwrap();
    assert_eq!(backlog(store.conn()).unwrap(), 2);
    // The district is told how many of the numbers so far left.
    let tally = keting_store::uplink::tally_due(store.conn())
        .unwrap()
        .unwrap();
    assert_eq!(
        (tally.from_id, tally.through_id, tally.sent),
        (1, rows[1].id, 2)
    );
    assert_eq!(
        keting_store::uplink::tally_event("futian-01", &tally, now).message_id(),
        format!("futian-01:tally:{}", rows[1].id),
        "a tally never takes an event's message id"
    );
    keting_store::uplink::tally_reported(store.conn(), &tally).unwrap();
    assert_eq!(keting_store::uplink::tally_due(store.conn()).unwrap(), None);
    assert_eq!(unsent(store.conn(), 100).unwrap()[0].id, rows[2].id);
    // Kept as long as the devices' events. With a district, only what was
    // sent goes then: the two it has not heard of stay, however long the
    // link is down.
    let later = now.saturating_add(std::time::Duration::from_secs(60));
    assert_eq!(prune(store.conn(), now, Some(100)).unwrap(), (0, 0));
    assert_eq!(prune(store.conn(), later, Some(100)).unwrap(), (2, 0));
    assert_eq!(backlog(store.conn()).unwrap(), 2, "nothing unsent is lost");
    // Past the most it keeps, the oldest unsent goes (and is counted).
    assert_eq!(prune(store.conn(), later, Some(1)).unwrap(), (1, 1));
    assert_eq!(
        unsent(store.conn(), 100).unwrap()[0].id,
        rows[3].id,
        "the newest stays"
    );
    // Without a district, everything past its time goes.
    assert_eq!(prune(store.conn(), later, None).unwrap(), (1, 1));
    assert_eq!(backlog(store.conn()).unwrap(), 0);
}

#[test]
fn an_event_number_is_never_given_twice_not_after_a_prune_nor_a_restore() {
    let mut store = Store::open_in_memory().unwrap();
    let now = Timestamp::from_unix_millis(1_800_000_000_000);
    let id = store
        .write(|tx| {
            keting_store::members::add(tx, &NewMember::new("王秀英", None, &[]).unwrap(), now)
        })
        .unwrap();
    let visit = |store: &mut Store, at: Timestamp| {
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO checkins (at_ms, member_id, accepted, counted, reason, source)
                     VALUES (?1, ?2, 1, 1, NULL, 'scanner')",
                    params![at.as_unix_millis(), id.0],
                )
            })
            .unwrap();
        unsent(store.conn(), 100).unwrap().last().unwrap().id
    };
    let first = visit(&mut store, now);
    let second = visit(&mut store, now);
    assert_eq!(second, first + 1);
    // A centre with no district: every row pruned (kept as long as the
    // devices' events). The next number still follows the last one given.
    let later = now.saturating_add(std::time::Duration::from_secs(86_400));
    assert_eq!(prune(store.conn(), later, None).unwrap(), (2, 2));
    let third = visit(&mut store, later);
    assert_eq!(
        third,
        second + 1,
        "not 1 again: the district had taken 1 already"
    );
    // A restored backup: numbers move on a generation.
    store
        .write(|tx| keting_store::uplink::after_restore(tx))
        .unwrap();
    let fourth = visit(&mut store, later);
    assert_eq!(
        fourth,
        third + 1 + u64::try_from(keting_store::uplink::RESTORE_GAP).unwrap()
    );
}

#[test]
fn a_held_activity_goes_up_once_with_its_counts_and_no_name_and_one_nobody_attended_not_at_all() {
    use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
    use keting_desk::activities::{self, Via};
    let mut store = Store::open_in_memory().unwrap();
    let cal = SiteCalendar::china();
    let now = Timestamp::from_unix_millis(1_800_000_000_000);
    let plan = |title: &str| ActivityPlan {
        title_zh: title.into(),
        title_en: "Taiji".into(),
        room: "广场".into(),
        starts: now.saturating_add(std::time::Duration::from_secs(3600)),
        ends: now.saturating_add(std::time::Duration::from_secs(7200)),
        capacity: 30,
        kind: ActivityKind::Class,
        audience: Audience::Everyone,
        points_per_hour: 0,
        organiser_name: "太极协会".into(),
    };
    let held = activities::add(
        &mut store,
        Actor::CommandLine,
        &plan("太极拳"),
        None,
        cal,
        now,
    )
    .unwrap()[0];
    let empty = activities::add(
        &mut store,
        Actor::CommandLine,
        &plan("八段锦"),
        None,
        cal,
        now,
    )
    .unwrap()[0];
    let who = store
        .write(|tx| {
            keting_store::members::add(
                tx,
                &NewMember::new("陈晓梅", Some("5067"), &[]).unwrap(),
                now,
            )
        })
        .unwrap();
    let during = now.saturating_add(std::time::Duration::from_secs(3700));
    activities::scan_in_room(
        &mut store,
        &Via::Reader("reader-1".into()),
        "广场",
        who,
        during,
    )
    .unwrap();
    let after = now.saturating_add(std::time::Duration::from_secs(7200));
    activities::close(&mut store, Actor::CommandLine, held, cal, after).unwrap();
    let closed = activities::close(&mut store, Actor::CommandLine, empty, cal, after).unwrap();
    assert!(!closed.held);
    let rows = unsent(store.conn(), 100).unwrap();
    let events: Vec<DistrictEvent> = rows
        .iter()
        .map(|r| event(store.conn(), "futian-01", &KEY, r).unwrap().unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].event,
        DistrictEventKind::ActivityHeld {
            activity: u64::try_from(held).unwrap(),
            activity_kind: "class".into(),
            starts_ms: plan("x").starts.as_unix_millis(),
            participants: 1,
            volunteer_minutes: 0,
        }
    );
    let text = String::from_utf8(events[0].encode()).unwrap();
    assert!(!text.contains("陈晓梅") && !text.contains("太极"), "{text}");
}
