//! The staff dashboard's HTML: its page frame (the shared frame of
//! `keting_webkit` with the dashboard's brand, navigation and live script),
//! and the staff roles in words. Escaping, tables and notices are the web
//! kit's, re-exported here for the pages.

pub use keting_webkit::Lang;
use keting_webkit::frame::{self, NavLink, SignedIn, Surface};
pub use keting_webkit::html::{esc, notice, table};

use super::session::StaffSession;

/// Which page is shown (for the navigation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    /// Today.
    Today,
    /// Foot traffic.
    Traffic,
    /// Members.
    Members,
    /// Volunteer points.
    Points,
    /// The monthly report.
    Report,
    /// The drinks machine.
    Vending,
    /// Bookings and utilisation.
    Bookings,
    /// The week's activities.
    Activities,
    /// The alarm history.
    Alarms,
    /// Residents' suggestions.
    Suggestions,
    /// The devices.
    Devices,
    /// The sign-in page (no navigation).
    None,
}

/// The dashboard's brand and links.
const SURFACE: Surface<'static> = Surface {
    title_suffix: ("客厅工作台", "Keting dashboard"),
    brand: ("客厅 · 工作台", "Keting · Dashboard"),
    nav: &[
        NavLink {
            href: "/",
            zh: "今日",
            en: "Today",
        },
        NavLink {
            href: "/traffic",
            zh: "客流",
            en: "Foot traffic",
        },
        NavLink {
            href: "/members",
            zh: "会员",
            en: "Members",
        },
        NavLink {
            href: "/points",
            zh: "积分",
            en: "Points",
        },
        NavLink {
            href: "/vending",
            zh: "饮料机",
            en: "Drinks",
        },
        NavLink {
            href: "/bookings",
            zh: "预约",
            en: "Bookings",
        },
        NavLink {
            href: "/activities",
            zh: "活动",
            en: "Activities",
        },
        NavLink {
            href: "/suggestions",
            zh: "意见箱",
            en: "Suggestions",
        },
        NavLink {
            href: "/report",
            zh: "月报",
            en: "Report",
        },
        NavLink {
            href: "/devices",
            zh: "设备",
            en: "Devices",
        },
        NavLink {
            href: "/alarms",
            zh: "报警记录",
            en: "Alarms",
        },
    ],
    script: Some("/assets/live.js"),
};

impl Nav {
    fn href(self) -> Option<&'static str> {
        Some(match self {
            Self::Today => "/",
            Self::Traffic => "/traffic",
            Self::Members => "/members",
            Self::Points => "/points",
            Self::Vending => "/vending",
            Self::Bookings => "/bookings",
            Self::Activities => "/activities",
            Self::Report => "/report",
            Self::Devices => "/devices",
            Self::Alarms => "/alarms",
            Self::Suggestions => "/suggestions",
            Self::None => return None,
        })
    }
}

/// A whole page: `title`, the signed-in staff member (if any), `body`.
pub fn page(lang: Lang, title: &str, who: Option<&StaffSession>, nav: Nav, body: &str) -> String {
    let signed_in = who.map(|w| SignedIn {
        name: &w.name,
        role: role_word(lang, w.role),
        csrf: &w.csrf,
    });
    frame::page(&SURFACE, lang, title, signed_in, nav.href(), body)
}

/// A role for people.
pub fn role_word(lang: Lang, role: keting_core::staff::StaffRole) -> &'static str {
    use keting_core::staff::StaffRole::*;
    match (role, lang) {
        (Observer, Lang::Zh) => "观察员",
        (Staff, Lang::Zh) => "工作人员",
        (Technician, Lang::Zh) => "技术员",
        (Manager, Lang::Zh) => "主管",
        (Observer, Lang::En) => "observer",
        (Staff, Lang::En) => "staff",
        (Technician, Lang::En) => "technician",
        (Manager, Lang::En) => "manager",
    }
}
