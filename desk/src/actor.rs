//! Who acts at a desk, as the audit log names them.
//!
//! Every desk function takes an [`Actor`]; its audit row carries
//! [`Actor::audit_name`], so "who did this" is never left to a caller's
//! string.

use std::fmt;

use keting_core::ids::MemberId;

/// The person or program behind a desk call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A staff member, identified on the touch screen by their pass.
    Staff(MemberId),
    /// Someone at the centre's command line (a shell on the centre's
    /// machine: the site's owner).
    CommandLine,
    /// The kiosk's own screen acting for a resident (a redemption begun
    /// with the resident's pass).
    Kiosk,
    /// A resident acting for themselves on the screen, identified by their
    /// pass (their bookings, their piano, their rating).
    Member(MemberId),
    /// The demo site being set up.
    Demo,
}

impl Actor {
    /// The actor as the audit log writes it: `staff:<id>`, `member:<id>`,
    /// `command-line`, `kiosk`, `demo`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::CommandLine => "command-line".to_owned(),
            Actor::Kiosk => "kiosk".to_owned(),
            Actor::Member(id) => format!("member:{id}"),
            Actor::Demo => "demo".to_owned(),
        }
    }

    /// The staff member, if a staff member acts.
    pub fn staff(&self) -> Option<MemberId> {
        match self {
            Actor::Staff(id) => Some(*id),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.audit_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_log_names_staff_by_member_number() {
        assert_eq!(Actor::Staff(MemberId(7)).audit_name(), "staff:7");
        assert_eq!(Actor::CommandLine.audit_name(), "command-line");
        assert_eq!(Actor::Staff(MemberId(7)).staff(), Some(MemberId(7)));
        assert_eq!(Actor::CommandLine.staff(), None);
    }
}
