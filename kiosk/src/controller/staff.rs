//! The staff page's state, with no Slint types: the staff member whose pass
//! opened it (every change made on it is theirs in the audit log) and the
//! member selected by scanning their pass.

use keting_core::ids::MemberId;

/// Who has the staff page open, and whom they selected.
#[derive(Clone, Debug, Default)]
pub struct StaffPage {
    staff: Option<MemberId>,
    selected: Option<MemberId>,
}

impl StaffPage {
    /// `staff` scanned their pass: the page is theirs, nobody selected.
    pub fn open(&mut self, staff: MemberId) {
        *self = Self {
            staff: Some(staff),
            selected: None,
        };
    }

    /// The staff member acting, if the page is open.
    pub fn staff(&self) -> Option<MemberId> {
        self.staff
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
        p.open(MemberId(1));
        p.select(MemberId(3));
        assert_eq!(
            (p.staff(), p.selected()),
            (Some(MemberId(1)), Some(MemberId(3)))
        );
        p.open(MemberId(2));
        assert_eq!(p.selected(), None, "another staff member starts afresh");
        p.close();
        assert_eq!((p.staff(), p.selected()), (None, None));
    }
}
