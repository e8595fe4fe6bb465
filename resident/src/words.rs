//! The desks' refusals in a resident's words, Chinese and English. A
//! resident never sees an error's own text; a failure of the database is
//! logged and said as "not available just now". An id that is not the
//! resident's answers as one that does not exist.

use keting_core::activity::ActivityRefusal;
use keting_core::booking::BookingRefusal;
use keting_desk::activities::ActivityError;
use keting_desk::bookings::BookingError;
use keting_desk::phones::PhoneError;
use keting_desk::records::StoreError;
use keting_webkit::Lang;

/// A refusal in the page's words; `None`: not a refusal but a failure
/// (logged), to be shown as the site being unavailable.
pub trait ResidentWords {
    /// The words, in `lang`.
    fn words(&self, lang: Lang) -> Option<String>;
}

fn say(lang: Lang, zh: &str, en: &str) -> Option<String> {
    Some(lang.t(zh, en).to_owned())
}

impl ResidentWords for BookingRefusal {
    fn words(&self, lang: Lang) -> Option<String> {
        use BookingRefusal as R;
        match self {
            R::SlotPast => say(
                lang,
                "这个时段已经过了，请选择之后的时段",
                "That time has passed: choose a later one",
            ),
            R::Full => say(
                lang,
                "这个时段已约满，可以排队等候",
                "That time is full: you can join the waiting list",
            ),
            R::AlreadyBooked => say(
                lang,
                "您已经预约了这个时段",
                "You have booked this time already",
            ),
            R::OverDailyLimit { limit } => Some(match lang {
                Lang::Zh => format!("这项服务每天最多预约{limit}次，请换一天"),
                Lang::En => {
                    format!("You can book this service {limit} times a day: choose another day")
                }
            }),
            R::OverWeeklyLimit { limit } => Some(match lang {
                Lang::Zh => format!("这项服务每周最多预约{limit}次，请换一周"),
                Lang::En => {
                    format!("You can book this service {limit} times a week: choose another week")
                }
            }),
            R::PackageExpired => say(
                lang,
                "您的课程套餐已过期，请到服务台续购",
                "Your course package has expired: buy a new one at the desk",
            ),
            R::PackageUsedUp => say(
                lang,
                "您的课程套餐已用完，请到服务台续购",
                "Your course package is used up: buy a new one at the desk",
            ),
            R::TooLateToCancel { hours } => Some(match lang {
                Lang::Zh => format!("开始前{hours}小时内不能自行取消，请联系工作人员"),
                Lang::En => format!(
                    "It can be cancelled until {hours} h before the start: please ask the staff"
                ),
            }),
            R::NotBooked(_) => say(
                lang,
                "这个预约已不能更改",
                "This booking can no longer be changed",
            ),
            R::NotStartedInTime => say(
                lang,
                "没有按时签到，名额已给下一位",
                "Not started in time: the place went to the next person",
            ),
            R::TooEarly { .. } | R::ClosedNow { .. } | R::WalkUpNotFree => {
                say(lang, "现在不能这样操作", "That cannot be done now")
            }
        }
    }
}

impl ResidentWords for ActivityRefusal {
    fn words(&self, lang: Lang) -> Option<String> {
        use ActivityRefusal as R;
        match self {
            R::NotOpenYet { opens_days } => Some(match lang {
                Lang::Zh => format!("活动开始前{opens_days}天开放报名"),
                Lang::En => format!("Sign-up opens {opens_days} days before the start"),
            }),
            R::Started => say(
                lang,
                "活动已经开始，报名已截止",
                "The activity has started: sign-up is closed",
            ),
            R::AlreadySignedUp => say(lang, "您已经报名了", "You have signed up already"),
            R::VolunteersOnly => say(
                lang,
                "这是志愿者活动，请先登记为志愿者",
                "This is for volunteers: register as one at the desk first",
            ),
            R::NotOpen { .. } => say(
                lang,
                "这个活动已取消或已结束",
                "This activity was cancelled or is over",
            ),
            R::NotSignedUp => say(
                lang,
                "您没有报名这个活动",
                "You are not signed up for this activity",
            ),
            R::TooLateToCancel => say(
                lang,
                "活动已经开始，不能取消",
                "The activity has started: it can no longer be cancelled",
            ),
            R::Full => say(lang, "名额已满", "Every place is taken"),
            _ => say(lang, "现在不能这样操作", "That cannot be done now"),
        }
    }
}

impl ResidentWords for StoreError {
    fn words(&self, lang: Lang) -> Option<String> {
        match self {
            StoreError::Booking(r) => r.words(lang),
            StoreError::Activity(r) => r.words(lang),
            StoreError::Points(_) => say(lang, "积分不够", "Not enough points"),
            StoreError::NotFound(_) | StoreError::Forbidden(_) => not_found(lang),
            _ => None,
        }
    }
}

impl ResidentWords for BookingError {
    fn words(&self, lang: Lang) -> Option<String> {
        match self {
            BookingError::Refused(r) => r.words(lang),
            BookingError::Points(_) => say(lang, "积分不够", "Not enough points"),
            BookingError::NoSuchSlot { .. } => say(
                lang,
                "这个时间没有可预约的时段，请重新选择",
                "Nothing can be booked at that time: choose again",
            ),
            BookingError::PianoNotBookable => say(
                lang,
                "钢琴不用预约，到钢琴房扫码就能弹",
                "Pianos are not booked: scan in the piano room to play",
            ),
            BookingError::NotFound(_)
            | BookingError::UnknownResource { .. }
            | BookingError::Forbidden(_) => not_found(lang),
            _ => None,
        }
    }
}

impl ResidentWords for ActivityError {
    fn words(&self, lang: Lang) -> Option<String> {
        match self {
            ActivityError::Refused(r) => r.words(lang),
            ActivityError::UnknownActivity(_)
            | ActivityError::Forbidden(_)
            | ActivityError::UnknownMember(_) => not_found(lang),
            ActivityError::CardReplaced => say(lang, "这张卡已挂失", "This card was replaced"),
            ActivityError::Store(e) => e.words(lang),
            _ => None,
        }
    }
}

impl ResidentWords for PhoneError {
    fn words(&self, lang: Lang) -> Option<String> {
        match self {
            PhoneError::InvitationUnusable => say(
                lang,
                "这个绑定码已失效（已用过或已过期）。请在自助机上刷卡重新获取，或请工作人员帮忙。",
                "This link no longer works (used or expired). Scan your pass at the kiosk for a new one, or ask the staff.",
            ),
            PhoneError::WrongNumber => say(
                lang,
                "数字不对，这个绑定码已作废。请在自助机上重新获取。",
                "That was not the number shown, so this link no longer works. Get a new one at the kiosk.",
            ),
            PhoneError::NoSuchPhone | PhoneError::UnknownMember(_) | PhoneError::Forbidden(_) => {
                not_found(lang)
            }
            PhoneError::SignedOut => say(lang, "这部手机还没有绑定", "This phone is not signed in"),
            PhoneError::NoRandomness | PhoneError::Store(_) => None,
        }
    }
}

fn not_found(lang: Lang) -> Option<String> {
    say(lang, "没有找到", "Not found")
}
