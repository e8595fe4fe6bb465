//! Course packages: N sessions of one kind of resource, until a date.

use serde::{Deserialize, Serialize};

use super::resource::ResourceKind;
use crate::ids::MemberId;
use crate::time::Timestamp;

/// A member's course package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Its id (the kiosk's row id).
    pub id: i64,
    /// Whose.
    pub member: MemberId,
    /// Sessions of which kind of resource.
    pub kind: ResourceKind,
    /// Sessions bought.
    pub sessions: u16,
    /// Sessions used (booked, started or done; a cancelled or failed one is
    /// given back).
    pub used: u16,
    /// Not usable from this instant.
    pub expires: Timestamp,
}

/// Whether a package can pay for a session now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageState {
    /// Usable, with this many sessions left.
    Valid {
        /// Sessions left.
        left: u16,
    },
    /// Every session used.
    UsedUp,
    /// Past its expiry.
    Expired,
}

impl Package {
    /// Its state at `now`.
    pub fn state(&self, now: Timestamp) -> PackageState {
        if now >= self.expires {
            PackageState::Expired
        } else if self.used >= self.sessions {
            PackageState::UsedUp
        } else {
            PackageState::Valid {
                left: self.sessions - self.used,
            }
        }
    }
}
