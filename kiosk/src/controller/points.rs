//! The points page's state and rules, with no Slint types: the resident
//! on it, the drink they chose, the redemption under way; which drinks are
//! within reach, and the guards that make a second tap or a scan during a
//! vend change nothing.

use keting_core::ids::{DeviceId, MemberId};
use keting_core::ledger::Points;

/// The resident on the points page and what they chose.
#[derive(Clone, Debug, Default)]
pub struct PointsPage {
    member: Option<(MemberId, String)>,
    chosen: Option<(DeviceId, u8)>,
    redemption: Option<String>,
}

impl PointsPage {
    /// A pass was scanned: the page is theirs, unless a redemption is under
    /// way (a scan never interrupts a vend). Whether it took the scan.
    pub fn scanned(&mut self, member: MemberId, name: String) -> bool {
        if self.redemption.is_some() {
            return false;
        }
        self.member = Some((member, name));
        self.chosen = None;
        true
    }

    /// Whether a scan now would be taken (no redemption under way).
    pub fn takes_scans(&self) -> bool {
        self.redemption.is_none()
    }

    /// The resident on the page.
    pub fn member(&self) -> Option<&(MemberId, String)> {
        self.member.as_ref()
    }

    /// A drink was tapped.
    pub fn choose(&mut self, device: DeviceId, slot: u8) {
        self.chosen = Some((device, slot));
    }

    /// "No, go back".
    pub fn unchoose(&mut self) {
        self.chosen = None;
    }

    /// What "yes, redeem" redeems: the resident and the drink, unless a
    /// redemption is under way already (a second tap redeems nothing).
    pub fn to_redeem(&self) -> Option<(MemberId, DeviceId, u8)> {
        if self.redemption.is_some() {
            return None;
        }
        let (member, _) = self.member.as_ref()?;
        let (device, slot) = self.chosen.clone()?;
        Some((*member, device, slot))
    }

    /// The redemption `id` began (or was found under way after a restart).
    pub fn began(&mut self, id: String) {
        self.redemption = Some(id);
    }

    /// The redemption under way, if any.
    pub fn under_way(&self) -> Option<&str> {
        self.redemption.as_deref()
    }

    /// The redemption was settled: the page takes scans and taps again.
    pub fn settled(&mut self) {
        self.redemption = None;
        self.chosen = None;
    }
}

/// Whether a drink can be chosen: in stock and within the balance.
pub fn within_reach(price: Points, stock: u32, balance: Points) -> bool {
    stock > 0 && price <= balance
}

/// The progress bar while a vend is under way: the time since it began
/// against the time a vend may take, never full before the machine answers.
pub fn progress(elapsed_s: f32) -> f32 {
    (elapsed_s / 8.0).clamp(0.0, 0.95)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_tap_or_a_scan_during_a_vend_changes_nothing() {
        let mut p = PointsPage::default();
        let machine = DeviceId::new("drinks-1").unwrap();
        assert!(p.scanned(MemberId(3), "张伟".into()));
        assert_eq!(p.to_redeem(), None, "nothing chosen yet");
        p.choose(machine.clone(), 2);
        assert_eq!(p.to_redeem(), Some((MemberId(3), machine.clone(), 2)));
        p.began("r-1".into());
        assert_eq!(p.to_redeem(), None, "a second tap");
        assert!(!p.scanned(MemberId(4), "王秀英".into()), "a scan mid-vend");
        assert_eq!(p.member().map(|m| m.0), Some(MemberId(3)));
        p.settled();
        assert!(p.takes_scans());
        assert_eq!(p.to_redeem(), None, "the choice was used");
    }

    #[test]
    fn a_drink_out_of_stock_or_reach_cannot_be_chosen() {
        assert!(within_reach(10, 1, 10));
        assert!(!within_reach(10, 0, 50));
        assert!(!within_reach(11, 5, 10));
        assert!(progress(100.0) < 1.0);
        assert_eq!(progress(0.0), 0.0);
    }
}
