//! The staff dashboard's sessions: the web kit's sessions of a staff
//! member ([`StaffUser`]), under the cookie [`COOKIE`]. A staff member
//! whose role changes or who is removed loses their open sessions.

use keting_core::ids::MemberId;
use keting_core::staff::StaffRole;

pub use keting_webkit::session::{Session, Sessions as WebSessions, cookie_value, same_token};

/// The cookie's name.
pub const COOKIE: &str = "keting_session";

/// The staff member behind a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffUser {
    /// The staff member.
    pub member: MemberId,
    /// Their name.
    pub name: String,
    /// Their role when they signed in.
    pub role: StaffRole,
}

/// A staff member's session.
pub type StaffSession = Session<StaffUser>;

/// Every staff session.
pub type Sessions = WebSessions<StaffUser>;
