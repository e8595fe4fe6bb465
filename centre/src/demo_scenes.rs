//! Scenes of the demo site that the kiosk's screenshots show (`kiosk
//! screenshot --page …`): what a district sent, bookings to rate and to
//! come, a session over and waiting for a check, the staff member as a
//! technician, a clock behind the newest visit. They write the database as
//! the running centre would have, for pictures and tests only: nothing a
//! person does comes through here.

use std::time::Duration;

use keting_core::ids::MemberId;
use keting_store::site_record::SiteRecord;
use keting_store::{Store, StoreError};

use crate::clock;

/// What a district sends: an announcement for a week and an activity today.
pub fn district(store: &mut Store, site: &SiteRecord) -> Result<(), StoreError> {
    use keting_core::district::{DISTRICT_VERSION, DownlinkKind, DownlinkMessage};
    let now = clock::now();
    let today = site.calendar.local(now).date().to_string();
    let message = |id: &str, message| DownlinkMessage {
        v: DISTRICT_VERSION,
        id: id.into(),
        centre: "demo".into(),
        at_ms: now.as_unix_millis(),
        message,
    };
    let notices = [
        message(
            "sample-1",
            DownlinkKind::Announcement {
                zh: "本周六上午九点，福田区在各社区中心举办免费义诊，欢迎参加".into(),
                en: "Free health check at every centre, Saturday 9:00".into(),
                until_ms: now.as_unix_millis() + 7 * 86_400_000,
            },
        ),
        message(
            "sample-2",
            DownlinkKind::Activity {
                date: today,
                starts: "15:30".into(),
                title_zh: "全区书法联展".into(),
                title_en: "District calligraphy show".into(),
                place_zh: "活动室一".into(),
                place_en: "Activity room 1".into(),
            },
        ),
    ];
    store.write(|tx| {
        for n in &notices {
            keting_store::district_notices::apply(tx, n, now)?;
        }
        Ok(())
    })
}

/// Bookings for the services pages: 王秀英's robot session tomorrow at
/// 9:00 and her piano session this morning (to rate), 李建国's robot
/// session the day after tomorrow at 10:00.
pub fn bookings(store: &mut Store, site: &SiteRecord) -> Result<(), StoreError> {
    use keting_core::booking::ResourceKind;
    use keting_store::{bookings, walk_up};
    let cal = site.calendar;
    let now = clock::now();
    let today = cal.date_of(now);
    let at = |days: i64, h: i64| {
        keting_core::time::Timestamp::from_unix_millis(
            cal.start_of(today).as_unix_millis() + days * 86_400_000 + h * 3_600_000,
        )
    };
    let policy = keting_store::booking_policy::get(store.conn())?;
    store.write(|tx| {
        bookings::book(tx, &policy, cal, "robot", at(1, 9), MemberId(1), false, now)?;
        bookings::book(
            tx,
            &policy,
            cal,
            "robot",
            at(2, 10),
            MemberId(2),
            false,
            now,
        )?;
        if let walk_up::WalkUp::Started(b) = walk_up::scan(
            tx,
            &policy,
            cal,
            ResourceKind::Piano,
            MemberId(1),
            &[],
            at(0, 10),
        )? {
            bookings::finish(
                tx,
                cal,
                b.id,
                "ended_early",
                true,
                at(0, 10).saturating_add(Duration::from_secs(1800)),
            )?;
        }
        Ok(())
    })
}

/// For the service desk: 李建国's robot session this morning, over and
/// waiting for a check; 王秀英's piano session, rated.
pub fn service_desk(store: &mut Store, site: &SiteRecord) -> Result<(), StoreError> {
    use keting_core::booking::ResourceKind;
    use keting_store::{bookings, ratings, walk_up};
    let cal = site.calendar;
    let policy = keting_store::booking_policy::get(store.conn())?;
    let day = cal.start_of(cal.date_of(clock::now())).as_unix_millis();
    let at = |h: i64| keting_core::time::Timestamp::from_unix_millis(day + h * 3_600_000);
    store.write(|tx| {
        let b = bookings::book(tx, &policy, cal, "robot", at(9), MemberId(2), false, at(8))?;
        bookings::check_in(tx, &policy, cal, MemberId(2), Some("robot"), at(9))?;
        bookings::finish(tx, cal, b.booking.id, "time_up", true, at(10))?;
        if let walk_up::WalkUp::Started(p) = walk_up::scan(
            tx,
            &policy,
            cal,
            ResourceKind::Piano,
            MemberId(1),
            &[],
            at(10),
        )? {
            bookings::finish(tx, cal, p.id, "time_up", true, at(11))?;
            ratings::rate(tx, p.id, Some(MemberId(1)), 5, at(11))?;
        }
        Ok(())
    })
}

/// The demo's staff member, as a technician.
pub fn technician(store: &mut Store) -> Result<(), StoreError> {
    let now = clock::now();
    store.write(|tx| {
        for s in keting_store::staff_access::list(tx)? {
            keting_store::staff_access::set_role(
                tx,
                s.member,
                keting_core::staff::StaffRole::Technician,
                now,
            )?;
        }
        Ok(())
    })
}

/// The room of the room kiosk's pictures.
pub const ROOM: &str = "活动室一";

/// For a room kiosk: a paper-cutting class on in [`ROOM`] now (from half an
/// hour ago for an hour and a half), two already there.
pub fn room(store: &mut Store) -> Result<(), StoreError> {
    use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
    use keting_store::activities;
    let now = clock::now();
    let starts = keting_core::time::Timestamp::from_unix_millis(now.as_unix_millis() - 30 * 60_000);
    let plan = ActivityPlan {
        title_zh: "剪纸班".into(),
        title_en: "Paper-cutting class".into(),
        room: ROOM.into(),
        starts,
        ends: starts.saturating_add(Duration::from_secs(90 * 60)),
        capacity: 12,
        kind: ActivityKind::Class,
        audience: Audience::Everyone,
        points_per_hour: 0,
        organiser_name: String::new(),
    };
    store.write(|tx| {
        let id = activities::insert(tx, &plan, activities::Origin::default(), "demo", starts)?;
        for m in [3, 4] {
            activities::record_arrival(tx, id, MemberId(m), "demo", starts)?;
        }
        Ok(())
    })
}

/// A visit recorded a day from now: this machine's clock is then a day
/// behind the newest record, as a Pi's that woke at the time it last saved.
pub fn clock_behind(store: &mut Store) -> Result<(), StoreError> {
    use keting_core::checkin::CheckInDecision;
    let ahead = clock::now().saturating_add(Duration::from_secs(24 * 3600));
    store.write(|tx| {
        keting_store::checkins::insert(
            tx,
            ahead,
            Some(MemberId(1)),
            &CheckInDecision::Accepted {
                member: MemberId(1),
                counted: true,
            },
            keting_store::checkins::ScanSource::DemoTap,
        )?;
        Ok(())
    })
}
