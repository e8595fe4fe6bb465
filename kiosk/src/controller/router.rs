//! The page routing, decided here and not read back from the window: which
//! page is shown, what a scan means on it, and when an untouched page gives
//! way to the home page.
//!
//! A scan on the home page (or a result) is a check-in; on the staff page it
//! selects a member; on the award page it awards the chosen activity; on the
//! points and bookings pages it names the resident using them. A staff
//! card opens the PIN page first, which gives up after [`PIN_IDLE`]. A staff
//! member's pages close after [`STAFF_IDLE`] untouched, a resident's after
//! [`RESIDENT_IDLE`], a result after [`RESULT_SHOWN`].

use std::time::Duration;

/// A staff page closes after this long untouched: short, since a staff
/// member who walks away leaves the doors and the points to the next person.
pub const STAFF_IDLE: Duration = Duration::from_secs(60);
/// The PIN page gives up after this long untouched.
pub const PIN_IDLE: Duration = Duration::from_secs(20);
/// A resident's page (points, bookings) goes home after this long untouched.
pub const RESIDENT_IDLE: Duration = Duration::from_secs(60);
/// A result stays on screen this long.
pub const RESULT_SHOWN: Duration = Duration::from_secs(6);

/// A page of the kiosk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Screen {
    /// Where to scan, today's visits, what is on.
    #[default]
    Home,
    /// A scan's result.
    Result,
    /// A staff card's PIN, before the staff page.
    StaffPin,
    /// The staff page: doors, tonight's entries, gym months.
    Staff,
    /// Redeeming points for a drink.
    Points,
    /// Awarding points (staff).
    Award,
    /// Restocking the drinks machine (staff).
    Restock,
    /// Pianos and bookings.
    Bookings,
    /// The staff's service desk.
    ServiceDesk,
    /// This week's activities: sign up, join the waiting list, give up.
    Activities,
    /// A room's screen (`kiosk --room NAME`): what is on, each scan counted
    /// as attendance. The home page of a room kiosk.
    Room,
    /// My phone: a one-time QR that binds a resident's own phone.
    Phone,
}

/// What a scan means on the page shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanMeans {
    /// A check-in at the door.
    CheckIn,
    /// Selects a member on the staff page.
    SelectMember,
    /// Awards the chosen activity to the volunteer.
    Award,
    /// Names the resident redeeming points.
    PointsMember,
    /// Names the resident using the bookings page.
    BookingsMember,
    /// Names the resident on the activities page.
    ActivitiesMember,
    /// Counts the scanned person at what is on in the room.
    RoomAttendance,
    /// Names the resident binding their phone.
    PhoneMember,
}

impl Screen {
    /// Whether this is one of the staff's pages (opened by a staff pass).
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Screen::Staff | Screen::Award | Screen::Restock | Screen::ServiceDesk
        )
    }

    /// How long the page stays untouched before the screen goes home
    /// (`None`: the home page stays).
    pub fn idle(self) -> Option<Duration> {
        match self {
            Screen::Home | Screen::Room => None,
            Screen::Result => Some(RESULT_SHOWN),
            Screen::StaffPin => Some(PIN_IDLE),
            Screen::Points | Screen::Bookings | Screen::Activities | Screen::Phone => {
                Some(RESIDENT_IDLE)
            }
            Screen::Staff | Screen::Award | Screen::Restock | Screen::ServiceDesk => {
                Some(STAFF_IDLE)
            }
        }
    }

    /// What a scan means here.
    pub fn scan_means(self) -> ScanMeans {
        match self {
            Screen::Home
            | Screen::Result
            | Screen::StaffPin
            | Screen::Restock
            | Screen::ServiceDesk => ScanMeans::CheckIn,
            Screen::Staff => ScanMeans::SelectMember,
            Screen::Award => ScanMeans::Award,
            Screen::Points => ScanMeans::PointsMember,
            Screen::Bookings => ScanMeans::BookingsMember,
            Screen::Activities => ScanMeans::ActivitiesMember,
            Screen::Room => ScanMeans::RoomAttendance,
            Screen::Phone => ScanMeans::PhoneMember,
        }
    }
}

/// The page shown, and the page the screen rests on (the home page, or a
/// room kiosk's room page).
#[derive(Clone, Debug, Default)]
pub struct Router {
    screen: Screen,
    home: Screen,
}

impl Router {
    /// A router that rests on `home` (a room kiosk rests on its room).
    pub fn resting_on(home: Screen) -> Self {
        Self { screen: home, home }
    }

    /// The page the screen rests on.
    pub fn home(&self) -> Screen {
        self.home
    }

    /// The page shown.
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// Shows `screen`; returns how long it stays untouched before the
    /// screen goes home, if it does (the adapter's timer runs for that, and
    /// every touch restarts it with [`Screen::idle`]).
    pub fn show(&mut self, screen: Screen) -> Option<Duration> {
        self.screen = screen;
        screen.idle()
    }

    /// Goes home (to the page it rests on).
    pub fn go_home(&mut self) {
        self.screen = self.home;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_means_what_the_page_shown_says() {
        assert_eq!(Screen::Home.scan_means(), ScanMeans::CheckIn);
        assert_eq!(Screen::Result.scan_means(), ScanMeans::CheckIn);
        assert_eq!(Screen::Staff.scan_means(), ScanMeans::SelectMember);
        assert_eq!(Screen::Award.scan_means(), ScanMeans::Award);
        assert_eq!(Screen::Points.scan_means(), ScanMeans::PointsMember);
        assert_eq!(Screen::Bookings.scan_means(), ScanMeans::BookingsMember);
        assert_eq!(Screen::Activities.scan_means(), ScanMeans::ActivitiesMember);
        assert_eq!(Screen::Room.scan_means(), ScanMeans::RoomAttendance);
    }

    #[test]
    fn a_room_kiosk_rests_on_its_room_and_goes_back_to_it() {
        let mut r = Router::resting_on(Screen::Room);
        assert_eq!(r.screen(), Screen::Room);
        assert_eq!(Screen::Room.idle(), None, "the room page stays");
        r.show(Screen::Staff);
        r.go_home();
        assert_eq!(r.screen(), Screen::Room);
    }

    #[test]
    fn each_page_stays_untouched_for_its_time_and_home_stays() {
        let mut r = Router::default();
        assert_eq!(r.show(Screen::Points), Some(RESIDENT_IDLE));
        assert_eq!(r.show(Screen::Bookings), Some(RESIDENT_IDLE));
        for staff in [
            Screen::Staff,
            Screen::Award,
            Screen::Restock,
            Screen::ServiceDesk,
        ] {
            assert_eq!(r.show(staff), Some(STAFF_IDLE));
        }
        r.go_home();
        assert_eq!(r.screen(), Screen::Home);
        assert_eq!(Screen::Home.idle(), None, "home stays");
    }

    #[test]
    fn a_result_is_shown_for_its_time() {
        let mut r = Router::default();
        assert_eq!(r.show(Screen::Result), Some(RESULT_SHOWN));
    }
}
