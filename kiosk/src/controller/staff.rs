//! The staff page's state, with no Slint types: the card waiting for its
//! PIN (the digits typed so far, kept here and never in the window), the
//! staff member whose card and PIN opened the page and their role (every
//! change made on it is theirs in the audit log; the page offers only what
//! the role may do), and the member selected by scanning their pass.

use keting_core::ids::MemberId;
use keting_core::staff::{Forbidden, PIN_LEN, StaffAction, StaffRole};

/// Who has the staff page open, and whom they selected.
#[derive(Clone, Debug, Default)]
pub struct StaffPage {
    staff: Option<(MemberId, StaffRole)>,
    selected: Option<MemberId>,
    pin: Option<(MemberId, String)>,
}

impl StaffPage {
    /// A staff card was scanned: its PIN is asked for; nobody acts yet.
    pub fn ask_pin(&mut self, card: MemberId) {
        *self = Self {
            pin: Some((card, String::new())),
            ..Self::default()
        };
    }

    /// The card waiting for its PIN.
    pub fn pin_card(&self) -> Option<MemberId> {
        self.pin.as_ref().map(|(m, _)| *m)
    }

    /// How many digits are typed.
    pub fn pin_entered(&self) -> usize {
        self.pin.as_ref().map_or(0, |(_, d)| d.len())
    }

    /// A digit typed: the whole PIN once it has [`PIN_LEN`] digits (the
    /// digits typed are then forgotten, whatever the PIN turns out to be).
    pub fn pin_digit(&mut self, digit: char) -> Option<String> {
        let (_, digits) = self.pin.as_mut()?;
        if !digit.is_ascii_digit() || digits.len() >= PIN_LEN {
            return None;
        }
        digits.push(digit);
        (digits.len() == PIN_LEN).then(|| std::mem::take(digits))
    }

    /// The last digit typed, taken back.
    pub fn pin_back(&mut self) {
        if let Some((_, digits)) = self.pin.as_mut() {
            digits.pop();
        }
    }

    /// `staff`'s card and PIN were accepted: the page is theirs, with
    /// their `role`, nobody selected.
    pub fn open(&mut self, staff: MemberId, role: StaffRole) {
        *self = Self {
            staff: Some((staff, role)),
            ..Self::default()
        };
    }

    /// The staff member acting, if the page is open.
    pub fn staff(&self) -> Option<MemberId> {
        self.staff.map(|(m, _)| m)
    }

    /// Their role, if the page is open.
    pub fn role(&self) -> Option<StaffRole> {
        self.staff.map(|(_, r)| r)
    }

    /// Whether the staff member on the page may do `action` (nobody on
    /// the page may do nothing).
    pub fn may(&self, action: StaffAction) -> bool {
        self.role().is_some_and(|r| r.may(action))
    }

    /// `action` by the staff member on the page: allowed, or why not.
    pub fn check(&self, action: StaffAction) -> Result<MemberId, Forbidden> {
        match self.staff {
            Some((m, role)) if role.may(action) => Ok(m),
            other => Err(Forbidden {
                role: other.map(|(_, r)| r),
                action,
            }),
        }
    }

    /// A member's pass was scanned on the page.
    pub fn select(&mut self, member: MemberId) {
        if self.staff.is_some() {
            self.selected = Some(member);
        }
    }

    /// The member selected.
    pub fn selected(&self) -> Option<MemberId> {
        self.selected
    }

    /// The page closed: nobody acts on it any more.
    pub fn close(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_needs_an_open_page_and_closing_forgets_both() {
        let mut p = StaffPage::default();
        p.select(MemberId(3));
        assert_eq!(p.selected(), None, "no staff member, no selection");
        p.open(MemberId(1), StaffRole::Staff);
        p.select(MemberId(3));
        assert_eq!(
            (p.staff(), p.selected()),
            (Some(MemberId(1)), Some(MemberId(3)))
        );
        p.open(MemberId(2), StaffRole::Staff);
        assert_eq!(p.selected(), None, "another staff member starts afresh");
        p.close();
        assert_eq!((p.staff(), p.selected()), (None, None));
    }

    #[test]
    fn a_pin_is_whole_at_six_digits_and_then_forgotten() {
        let mut p = StaffPage::default();
        assert_eq!(p.pin_digit('1'), None, "no card, no PIN");
        p.ask_pin(MemberId(4));
        assert_eq!(p.staff(), None, "the card alone opens nothing");
        for d in "24681".chars() {
            assert_eq!(p.pin_digit(d), None);
        }
        p.pin_back();
        p.pin_digit('x');
        assert_eq!(p.pin_entered(), 4);
        p.pin_digit('8');
        assert_eq!(p.pin_digit('0').as_deref(), Some("246880"));
        assert_eq!((p.pin_entered(), p.pin_card()), (0, Some(MemberId(4))));
        p.open(MemberId(4), StaffRole::Manager);
        assert_eq!((p.staff(), p.pin_card()), (Some(MemberId(4)), None));
    }

    #[test]
    fn the_page_offers_what_the_role_may_do_and_refuses_the_rest_by_name() {
        let mut p = StaffPage::default();
        assert_eq!(
            p.check(StaffAction::OpenDoor),
            Err(Forbidden {
                role: None,
                action: StaffAction::OpenDoor
            })
        );
        p.open(MemberId(5), StaffRole::Technician);
        assert!(p.may(StaffAction::Devices) && p.may(StaffAction::OpenDoor));
        assert!(!p.may(StaffAction::GymMonths) && !p.may(StaffAction::Points));
        assert_eq!(p.check(StaffAction::Devices), Ok(MemberId(5)));
        let refused = p.check(StaffAction::Points).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "technician may not award or reverse points"
        );
        p.open(MemberId(6), StaffRole::Observer);
        assert!(!p.may(StaffAction::OpenDoor) && !p.may(StaffAction::Restock));
    }
}
