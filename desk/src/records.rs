//! The records the desks hand out and take in, and the database handle
//! their functions are called with: what a surface needs to call the desks,
//! so that no surface depends on `keting-store` itself. Types only: every
//! read and every change goes through a desk function.

pub use keting_store::activities::{
    ActivityRecord, ActivityState, AttendanceRow, Attended, HeldFigures,
};
pub use keting_store::alarms::{Alarm, AlarmKind};
pub use keting_store::bookings::Booking;
pub use keting_store::checkins::ScanSource;
pub use keting_store::device_commands::CommandRecord;
pub use keting_store::door_events::Entry;
pub use keting_store::feedback::{Suggestion, ToRate};
pub use keting_store::members::{Member, NewMember, NewMemberError, Role};
pub use keting_store::packages::PackageRefusal;
pub use keting_store::points::HistoryLine;
pub use keting_store::programme::ProgrammeRefusal;
pub use keting_store::ratings::{RatingRefusal, ServiceRatings};
pub use keting_store::redemptions::State as RedemptionState;
pub use keting_store::reports::VisitsByKind;
pub use keting_store::resident_phones::{InvitationKind, Phone};
pub use keting_store::resources::ResourceRecord;
pub use keting_store::site_record::SiteRecord;
pub use keting_store::staff_access::StaffAccess;
pub use keting_store::vending_slots::{DrinkSlotRefusal, Slot};
pub use keting_store::walk_up::WalkUp;
pub use keting_store::{Store, StoreError};
