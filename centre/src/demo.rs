//! The demo site: residents, a programme and sample cards, so anyone can try
//! every check-in flow without a scanner or hardware.
//!
//! The demo site is an ordinary site flagged `demo`; its members are real
//! rows, its passes are really signed, and its check-ins really count. The
//! screen shows one tap-target per [`DemoCard`]: tapping one goes through the
//! same code path as a scan.

pub use crate::demo_error::DemoError;
use keting_core::ids::{Epoch, MemberId, SiteId};
use keting_core::pass::PassIssuer;
use keting_core::time::Timestamp;
use rusqlite::Connection;

use keting_store::gym;
use keting_store::members::{self, NewMember, Role};
use keting_store::programme::{self, ProgrammeItem, Recurrence};

use keting_core::booking::{Limits, OpeningWindow, Price, Resource, ResourceId, ResourceKind};
use keting_core::ids::DeviceId;

use keting_core::staff::StaffRole;
use keting_store::resources::ResourceRecord;
use keting_store::{Store, StoreError, packages, points, resources, staff_access, vending_slots};

/// A card the demo screen offers to "scan".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoCard {
    /// Who or what it is, in Chinese.
    pub label_zh: String,
    /// The same in English.
    pub label_en: String,
    /// The scanned text.
    pub pass: String,
}

/// The demo staff card's PIN (shown on its demo card).
pub const DEMO_STAFF_PIN: &str = "246810";

const RESIDENTS: &[(&str, &str, &[Role])] = &[
    ("王秀英", "3821", &[Role::Resident]),
    ("李建国", "5067", &[Role::Resident, Role::Volunteer]),
    ("陈晓梅", "7712", &[Role::Resident, Role::Gym]),
    ("张玥", "2290", &[Role::Resident]),
    ("刘主任", "6008", &[Role::Staff]),
];

/// The demo's gym member with a paid month.
const GYM_PAID: &str = "陈晓梅";
/// The demo's gym member whose month has run out.
const GYM_EXPIRED: &str = "李建国";

/// The member of the demo whose first card was lost and revoked.
const LOST_CARD_OWNER: &str = "李建国";

/// Fills a newly created demo site.
pub fn seed(conn: &Connection, now: Timestamp) -> Result<(), DemoError> {
    for (name, tail, roles) in RESIDENTS {
        let id = members::add(conn, &NewMember::new(name, Some(tail), roles)?, now)?;
        if roles.contains(&Role::Staff) {
            // The demo's centre manager, with the PIN the demo card shows.
            staff_access::set_role(conn, id, StaffRole::Manager, now)?;
            let hash = keting_desk::staff::hash_pin(DEMO_STAFF_PIN)
                .map_err(|e| DemoError::fixture("staff PIN", e))?;
            staff_access::set_pin_hash(conn, id, &hash, now)?;
        }
        if *name == LOST_CARD_OWNER {
            members::bump_epoch(conn, id)?;
        }
        // The gym door: one member paid this month, one whose month ran out.
        let calendar = keting_core::calendar::SiteCalendar::china();
        let this_month = calendar.month_of(now);
        match *name {
            GYM_PAID => gym::grant(conn, id, this_month.last_day(), now)?,
            GYM_EXPIRED => gym::grant(conn, id, this_month.previous().last_day(), now)?,
            _ => {}
        }
    }
    let item = |starts: &str, title_zh: &str, title_en: &str, place_zh: &str, place_en: &str| {
        ProgrammeItem {
            starts: starts.into(),
            title_zh: title_zh.into(),
            title_en: title_en.into(),
            place_zh: place_zh.into(),
            place_en: place_en.into(),
        }
    };
    let daily = [
        item(
            "10:30",
            "太极拳",
            "Tai chi",
            "一楼广场",
            "Ground-floor plaza",
        ),
        item(
            "14:00",
            "AI 钢琴体验",
            "AI piano taster",
            "琴房",
            "Piano room",
        ),
        item(
            "16:30",
            "四点半课堂",
            "After-school club",
            "自习室",
            "Study room",
        ),
    ];
    for i in &daily {
        programme::add(conn, Recurrence::Daily, i)?;
    }
    seed_points(conn, now)?;
    crate::demo_activities::seed(conn, now)?;
    crate::demo_history::seed(conn, now)?;
    seed_bookings(conn, now)
}

pub use crate::demo_ids::{DEMO_PIANO_COUNT, DEMO_PIANOS, DEMO_ROBOT, DEMO_VENDING};

/// Piano `c` of the demo: walk-up, 45 minutes, free, on the bank's channel
/// `c` (as `kiosk site import` registers a provisioned piano bank's).
pub fn piano(c: u8) -> Result<ResourceRecord, DemoError> {
    let bank = DeviceId::new(DEMO_PIANOS).map_err(|e| DemoError::fixture("piano bank id", e))?;
    Ok(crate::provisioned_devices::piano(
        &format!("piano-{c}"),
        &format!("{c}号钢琴"),
        &bank,
        c,
    )?)
}

/// The demo's moxibustion robot: hourly slots, 29.9 yuan to try, 88 a
/// session or a package, checked by staff after each session.
pub fn robot() -> Result<ResourceRecord, DemoError> {
    let robot = DeviceId::new(DEMO_ROBOT).map_err(|e| DemoError::fixture("robot id", e))?;
    Ok(crate::provisioned_devices::robot("robot", &robot)?)
}

/// Childcare and a study room to book, and a robot package. (The pianos
/// and the robot are registered with their devices: `centre::demo_devices`.)
fn seed_bookings(conn: &Connection, now: Timestamp) -> Result<(), DemoError> {
    let hours = |list: &[&str]| -> Result<Vec<OpeningWindow>, DemoError> {
        list.iter()
            .map(|h| OpeningWindow::parse(h).ok_or_else(|| DemoError::fixture("hours", h)))
            .collect()
    };
    let id = |s: &str| ResourceId::new(s).map_err(|e| DemoError::fixture("resource id", e));
    let resources_ = [
        Resource {
            id: id("childcare")?,
            kind: ResourceKind::Childcare,
            name_zh: "临时托管".into(),
            name_en: "Childcare".into(),
            hours: hours(&["08:30-11:30", "14:00-17:30"])?,
            slot_minutes: None,
            capacity: 6,
            price: Price::Yuan { fen: 9000 },
            trial_price: None,
            limits: Limits {
                per_day: 2,
                per_week: 10,
            },
            checked_after_use: false,
        },
        Resource {
            id: id("study-room")?,
            kind: ResourceKind::Room,
            name_zh: "自习室".into(),
            name_en: "Study room".into(),
            hours: hours(&["08:30-21:00"])?,
            slot_minutes: Some(120),
            capacity: 12,
            price: Price::Free,
            trial_price: None,
            limits: Limits {
                per_day: 2,
                per_week: 10,
            },
            checked_after_use: false,
        },
    ];
    for resource in resources_ {
        resources::put(
            conn,
            &resources::ResourceRecord {
                resource,
                device: None,
                channel: None,
                session: std::time::Duration::from_secs(45 * 60),
            },
        )?;
    }
    for c in 1..=DEMO_PIANO_COUNT {
        resources::put(conn, &piano(c)?)?;
    }
    resources::put(conn, &robot()?)?;
    let member = members::list(conn)?
        .into_iter()
        .find(|m| m.name == "李建国")
        .ok_or_else(|| StoreError::NotFound("李建国".into()))?;
    let half_a_year = now.saturating_add(std::time::Duration::from_secs(183 * 86_400));
    packages::sell(
        conn,
        member.id,
        ResourceKind::Robot,
        10,
        half_a_year,
        "demo",
        now,
    )?;
    Ok(())
}

/// The drinks machine's catalogue, and points for two volunteers.
fn seed_points(conn: &Connection, now: Timestamp) -> Result<(), DemoError> {
    let machine = keting_core::ids::DeviceId::new(DEMO_VENDING)
        .map_err(|e| DemoError::fixture("drinks machine id", e))?;
    for (slot, zh, en, price, stock) in [
        (1, "矿泉水", "Mineral water", 10, 8),
        (2, "豆奶", "Soy milk", 15, 8),
        (3, "绿茶", "Green tea", 20, 0),
        (4, "咖啡", "Coffee", 40, 8),
    ] {
        vending_slots::set(
            conn,
            &vending_slots::Slot {
                device: machine.clone(),
                slot,
                name_zh: zh.into(),
                name_en: en.into(),
                price,
                stock,
            },
        )?;
    }
    let calendar = keting_core::calendar::SiteCalendar::china();
    let day = calendar.date_of(now).to_string();
    for (name, activity, worth) in [("王秀英", "敬老探访", 25), ("李建国", "图书整理", 35)]
    {
        let member = members::list(conn)?
            .into_iter()
            .find(|m| m.name == name)
            .ok_or_else(|| StoreError::NotFound(name.into()))?;
        let a = points::occasion(conn, activity, worth, &day, "demo", now)?;
        points::award(conn, member.id, a, "demo", calendar, now)?;
    }
    Ok(())
}

/// The cards the demo screen offers: each demo resident's current pass, the
/// lost (revoked) card, and a pass of another centre.
pub fn cards(store: &Store, issuer: &PassIssuer) -> Result<Vec<DemoCard>, DemoError> {
    let mut cards = Vec::new();
    let all = members::list(store.conn())?;
    for m in all.iter().take(RESIDENTS.len()) {
        let staff = m.roles.contains(&Role::Staff);
        cards.push(DemoCard {
            label_zh: if staff {
                format!("工作人员 PIN {DEMO_STAFF_PIN}")
            } else {
                m.name.clone()
            },
            label_en: if staff {
                format!("Staff PIN {DEMO_STAFF_PIN}")
            } else {
                m.name.clone()
            },
            pass: issuer.issue(m.id, m.epoch),
        });
    }
    if let Some(m) = all
        .iter()
        .find(|m| m.name == LOST_CARD_OWNER && m.epoch > Epoch(0))
    {
        cards.push(DemoCard {
            label_zh: "挂失的旧卡".into(),
            label_en: "Lost card".into(),
            pass: issuer.issue(m.id, Epoch(0)),
        });
    }
    cards.push(DemoCard {
        label_zh: "其他中心的码".into(),
        label_en: "Other centre".into(),
        pass: other_centre_pass(),
    });
    Ok(cards)
}

/// A correctly signed pass of a neighbouring demo centre.
fn other_centre_pass() -> String {
    let site = SiteId::new("baoan-xixiang").unwrap_or_else(|_| unreachable!());
    PassIssuer::new(site, ed25519_dalek::SigningKey::from_bytes(&[0x5a; 32]))
        .issue(MemberId(1), Epoch(0))
}
