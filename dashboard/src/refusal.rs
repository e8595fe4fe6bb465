//! What the desks refused, in the page's words: every typed refusal a
//! dashboard page can meet, worded here in Chinese and English. No page
//! shows an error's own text (English, naming command-line commands); a
//! failure of the database or the disk is logged and worded as one.

use keting_core::activity::ActivityRefusal;
use keting_core::activity::recurrence::RepeatError;
use keting_core::booking::BookingRefusal;
use keting_core::booking::{Resource, ResourceError};
use keting_core::ledger::rules::PointsRefusal;
use keting_core::staff::StaffAction;
use keting_desk::activities::ActivityError;
use keting_desk::bookings::BookingError;
use keting_desk::devices::DeviceError;
use keting_desk::doors::DoorError;
use keting_desk::gym::GymError;
use keting_desk::members::MemberError;
use keting_desk::points::PointsError;
use keting_desk::qr_image::QrImageError;
use keting_desk::records::{
    DrinkSlotRefusal, NewMemberError, PackageRefusal, RatingRefusal, StoreError,
};
use keting_desk::vending::VendingError;

use super::html::Lang;

/// A refusal a page can word.
pub trait Refusal {
    /// The words, in `lang`.
    fn words(&self, lang: Lang) -> String;
}

fn unavailable(lang: Lang, e: &dyn std::fmt::Display) -> String {
    tracing::error!("dashboard: {e}");
    lang.t(
        "数据库暂时无法读写，请稍后再试",
        "The database cannot be used just now: try again shortly",
    )
    .to_owned()
}

fn member_unknown(lang: Lang, id: u32) -> String {
    match lang {
        Lang::Zh => format!("没有 {id} 号会员"),
        Lang::En => format!("There is no member {id}"),
    }
}

impl Refusal for BookingRefusal {
    fn words(&self, lang: Lang) -> String {
        use BookingRefusal as R;
        let zh = lang == Lang::Zh;
        match self {
            R::SlotPast => lang
                .t(
                    "这一场已过，请选之后的",
                    "That slot is in the past: choose a later one",
                )
                .into(),
            R::Full => lang
                .t(
                    "这一场已满，请选别的或排队候补",
                    "That slot is full: choose another, or join the waiting list",
                )
                .into(),
            R::AlreadyBooked => lang
                .t("已预约了这一场", "Already booked in this slot")
                .into(),
            R::OverDailyLimit { limit } if zh => format!("超过每人每天 {limit} 次的上限"),
            R::OverDailyLimit { limit } => format!("Over the limit of {limit} a day"),
            R::OverWeeklyLimit { limit } if zh => format!("超过每人每周 {limit} 次的上限"),
            R::OverWeeklyLimit { limit } => format!("Over the limit of {limit} a week"),
            R::PackageExpired => lang.t("课程包已过期", "The course package expired").into(),
            R::PackageUsedUp => lang
                .t(
                    "课程包已用完",
                    "Every session of the course package is used",
                )
                .into(),
            R::TooLateToCancel { hours } if zh => format!("开始前 {hours} 小时内会员不能自己取消"),
            R::TooLateToCancel { hours } => {
                format!("Members cancel until {hours} h before the start")
            }
            R::NotBooked(_) => lang
                .t(
                    "这个预约已不能这样改",
                    "This booking cannot be changed so now",
                )
                .into(),
            R::NotStartedInTime => lang
                .t(
                    "未按时开始，名额已给候补的人",
                    "Not started in time: the place went to the next person",
                )
                .into(),
            R::TooEarly { minutes } if zh => format!("开始前 {minutes} 分钟起才能签到"),
            R::TooEarly { minutes } => format!("Check-in opens {minutes} minutes before the start"),
            R::ClosedNow { .. } => lang.t("现在不开放", "Closed now").into(),
            R::WalkUpNotFree => lang
                .t("随到随弹是免费的", "Walk-up sessions are free")
                .into(),
        }
    }
}

impl Refusal for PointsRefusal {
    fn words(&self, lang: Lang) -> String {
        use PointsRefusal as R;
        let zh = lang == Lang::Zh;
        match self {
            R::NotPositive => lang
                .t("积分要是正数", "Points are a positive number")
                .into(),
            R::BadOccasionName => lang
                .t(
                    "活动名称 1 到 40 个字",
                    "An award's name has 1 to 40 characters",
                )
                .into(),
            R::OccasionWorth {
                name, day, worth, ..
            } if zh => format!("{day} 的“{name}”定为 {worth} 分，请填 {worth}"),
            R::OccasionWorth {
                name, day, worth, ..
            } => format!("{name} on {day} is worth {worth} points: give that number"),
            R::AwardTooLarge { max } if zh => format!("一次最多发 {max} 分"),
            R::AwardTooLarge { max } => format!("One award gives at most {max} points"),
            R::OverDailyEarnCap { left } if zh => {
                format!("超过今天的发放上限：今天还能发 {left} 分")
            }
            R::OverDailyEarnCap { left } => {
                format!("Over today's earning cap: {left} points left today")
            }
            R::AlreadyAwarded => lang
                .t("这次活动已经发过了", "Already awarded for this activity")
                .into(),
            R::NotEnoughPoints { balance, needed } if zh => {
                format!("积分不够：有 {balance} 分，要 {needed} 分")
            }
            R::NotEnoughPoints { balance, needed } => {
                format!("Not enough points: {balance} held, {needed} needed")
            }
            R::OverDailySpendCap { left } if zh => {
                format!("超过今天的使用上限：今天还能用 {left} 分")
            }
            R::OverDailySpendCap { left } => {
                format!("Over today's spending cap: {left} points left today")
            }
            R::NotReversible => lang
                .t("只有发放的积分能撤销", "Only an award can be reversed")
                .into(),
            R::AlreadyReversed => lang
                .t("这笔已经撤销过了", "This posting was reversed already")
                .into(),
            R::ReversalExceedsBalance { balance, needed } if zh => {
                format!("会员只有 {balance} 分，撤销要扣 {needed} 分")
            }
            R::ReversalExceedsBalance { balance, needed } => {
                format!("The member has {balance} points; the reversal takes {needed}")
            }
            R::NoReason => lang.t("撤销要写原因", "A reversal needs a reason").into(),
        }
    }
}

impl Refusal for StoreError {
    fn words(&self, lang: Lang) -> String {
        match self {
            StoreError::Booking(r) => r.words(lang),
            StoreError::Activity(r) => r.words(lang),
            StoreError::Points(r) => r.words(lang),
            StoreError::Resource(r) => r.words(lang),
            StoreError::NewMember(d) => d.words(lang),
            StoreError::Forbidden(_) => lang
                .t("您的角色不能做这件事", "Your role may not do this")
                .into(),
            StoreError::NotFound(_) => lang.t("没有找到", "Not found").into(),
            StoreError::Redemption(_) => lang
                .t("这次兑换不能开始", "This redemption cannot begin")
                .into(),
            StoreError::Package(r) => package_words(r, lang),
            StoreError::Rating(r) => rating_words(r, lang),
            StoreError::DrinkSlot(r) => drink_slot_words(r, lang),
            StoreError::Programme(_) => lang
                .t(
                    "开始时间写成 时:分，例如 09:30",
                    "Write the start as HH:MM, e.g. 09:30",
                )
                .into(),
            StoreError::PianoNotBookable => piano_not_bookable(lang),
            StoreError::NoSuchSlot { .. } => no_such_slot(lang),
            StoreError::UnknownResource { id, .. } => unknown_resource(lang, id),
            e @ (StoreError::Sqlite(_)
            | StoreError::NewerSchema { .. }
            | StoreError::Corrupt(_)
            | StoreError::NoRandomness(_)
            | StoreError::NoWal(_)
            | StoreError::Exhausted(_)
            | StoreError::Ledger(_)) => unavailable(lang, e),
        }
    }
}

fn package_words(r: &PackageRefusal, lang: Lang) -> String {
    match (r, lang) {
        (PackageRefusal::Sessions(n), Lang::Zh) => format!("套餐 1 到 100 次（填的是 {n}）"),
        (PackageRefusal::Sessions(n), Lang::En) => {
            format!("A package has 1 to 100 sessions (you gave {n})")
        }
        (PackageRefusal::ExpiryPast, _) => lang
            .t("截止日期已经过了", "The last day is in the past")
            .into(),
    }
}

fn rating_words(r: &RatingRefusal, lang: Lang) -> String {
    let t = |z: &str, e: &str| lang.t(z, e).to_owned();
    match r {
        RatingRefusal::Stars(_) => t("评分是 1 到 5 星", "A rating is 1 to 5 stars"),
        RatingRefusal::NotYours => t("这不是该会员的预约", "That booking is not this member's"),
        RatingRefusal::NotOver(_) => t("服务结束后才能评分", "A session is rated once it is over"),
        RatingRefusal::RatedAlready => t("已经评过分了", "Rated already"),
    }
}

fn drink_slot_words(r: &DrinkSlotRefusal, lang: Lang) -> String {
    let t = |z: &str, e: &str| lang.t(z, e).to_owned();
    match r {
        DrinkSlotRefusal::SlotNumber(_) => t("货道编号 1 到 99", "Slots are numbered 1 to 99"),
        DrinkSlotRefusal::Price(_) => t(
            "价格要是正的积分数",
            "The price is a positive number of points",
        ),
        DrinkSlotRefusal::Names => t(
            "饮料要有中文名（1 到 20 个字）和英文名（1 到 40 个字）",
            "A drink needs a Chinese name (1 to 20 characters) and an English one (1 to 40)",
        ),
    }
}

fn piano_not_bookable(lang: Lang) -> String {
    lang.t(
        "钢琴不用预约：会员到钢琴房扫码就能弹",
        "Pianos are not booked: residents scan in the piano room to play",
    )
    .into()
}

fn no_such_slot(lang: Lang) -> String {
    lang.t(
        "这个时间没有这项服务的时段，请按开放时间选",
        "No slot of this service starts then: choose one within its hours",
    )
    .into()
}

fn unknown_resource(lang: Lang, id: &str) -> String {
    match lang {
        Lang::Zh => format!("没有“{id}”这项服务"),
        Lang::En => format!("There is no service \"{id}\""),
    }
}

impl Refusal for BookingError {
    fn words(&self, lang: Lang) -> String {
        match self {
            BookingError::Refused(r) => r.words(lang),
            BookingError::Points(r) => r.words(lang),
            BookingError::Resource(r) => r.words(lang),
            BookingError::Package(r) => package_words(r, lang),
            BookingError::Rating(r) => rating_words(r, lang),
            BookingError::Forbidden(_) => lang
                .t("您的角色不能做这件事", "Your role may not do this")
                .into(),
            BookingError::CapacityBelowBooked {
                capacity, booked, ..
            } => match lang {
                Lang::Zh => {
                    format!("已有 {booked} 人预约，名额不能少于 {booked}（填的是 {capacity}）")
                }
                Lang::En => format!(
                    "{booked} places are booked: the capacity cannot go below {booked} (you gave {capacity})"
                ),
            },
            BookingError::PianoNeedsBank => lang
                .t(
                    "钢琴要填所属的钢琴柜和继电器通道",
                    "A piano needs its piano bank and relay channel",
                )
                .into(),
            BookingError::PianoNotBookable => piano_not_bookable(lang),
            BookingError::NoSuchSlot { .. } => no_such_slot(lang),
            BookingError::UnknownResource { id, .. } => unknown_resource(lang, id),
            BookingError::NoGrace => lang
                .t(
                    "预约保留时间至少 1 分钟",
                    "A place waits at least 1 minute for its member",
                )
                .into(),
            BookingError::NotFound(_) => lang.t("没有找到", "Not found").into(),
            BookingError::Store(e) => e.words(lang),
        }
    }
}

impl Refusal for ActivityRefusal {
    fn words(&self, lang: Lang) -> String {
        use ActivityRefusal as R;
        let zh = lang == Lang::Zh;
        let t = |z: &str, e: &str| lang.t(z, e).to_owned();
        match self {
            R::BadTitle => t(
                "标题 1 到 40 个字，不能有 < >",
                "A title has 1 to 40 characters, with no < >",
            ),
            R::BadRoom => t(
                "地点 1 到 40 个字，不能有 < >",
                "A room has 1 to 40 characters, with no < >",
            ),
            R::BadOrganiser => t(
                "组织者名称最多 40 个字，不能有 < >",
                "An organiser's name has at most 40 characters, with no < >",
            ),
            R::EndsBeforeStart => t("结束时间要晚于开始时间", "The end must be after the start"),
            R::TooLong => t("一个活动最长 24 小时", "An activity lasts at most 24 hours"),
            R::BadCapacity => t("名额要在 1 到 500 之间", "The capacity is 1 to 500 places"),
            R::CapacityBelowTaken { taken } if zh => {
                format!("已有 {taken} 人报名，名额不能少于 {taken}")
            }
            R::CapacityBelowTaken { taken } => {
                format!("{taken} places are taken: the capacity cannot go below that")
            }
            R::PointsPerHour => t(
                "志愿服务每小时 1 到 100 积分",
                "A volunteer shift earns 1 to 100 points an hour",
            ),
            R::PointsForNonVolunteer => t(
                "只有志愿服务按小时计积分",
                "Only a volunteer shift earns points per hour",
            ),
            R::UnknownKind => t(
                "类型是课程、讲座、活动或志愿服务",
                "The kind is class, lecture, event or volunteer",
            ),
            R::UnknownAudience => t(
                "报名对象是所有人、会员或志愿者",
                "Who may sign up: everyone, members or volunteers",
            ),
            R::NotOpenYet { opens_days } if zh => format!("开始前 {opens_days} 天才开放报名"),
            R::NotOpenYet { opens_days } => {
                format!("Sign-up opens {opens_days} days before the start")
            }
            R::Started => t(
                "活动已开始，报名已截止",
                "The activity has started: sign-up is closed",
            ),
            R::AlreadySignedUp => t("已经报过名了", "Already signed up"),
            R::VolunteersOnly => t("这个活动只限志愿者报名", "This activity is for volunteers"),
            R::NotOpen { state: "cancelled" } => t("活动已取消", "The activity is cancelled"),
            R::NotOpen { .. } => t("活动已结束登记", "The activity is closed"),
            R::NotSignedUp => t("没有报名", "Not signed up"),
            R::TooLateToCancel => t(
                "活动已开始，不能再取消",
                "The activity has started: a place can no longer be cancelled",
            ),
            R::NotOnNow => t("这个房间现在没有活动", "Nothing is on in this room now"),
            R::Full => t("名额已满", "Every place is taken"),
            R::HoursOverShift { shift_minutes } if zh => {
                format!("服务时长不能超过本班次的 {shift_minutes} 分钟")
            }
            R::HoursOverShift { shift_minutes } => {
                format!("A volunteer's time is at most the shift's {shift_minutes} minutes")
            }
            R::HoursNotApplicable => t(
                "只能为到场的志愿者填写时长",
                "Time is set only for a volunteer who attended a shift",
            ),
            R::NotEnded => t("活动还没结束", "The activity has not ended yet"),
            R::ForgottenCheckOut { count } if zh => {
                format!("有 {count} 位志愿者没有签退，请先确认他们的时长")
            }
            R::ForgottenCheckOut { count } => {
                format!("{count} volunteers did not check out: confirm their time first")
            }
            R::NoReason => t("取消要写原因", "A cancellation needs a reason"),
            R::BadPolicy => t(
                "候补名额保留 5 到 2880 分钟；提前 1 到 90 天开放报名",
                "An offer is held 5 to 2880 minutes; sign-up opens 1 to 90 days before",
            ),
        }
    }
}

impl Refusal for RepeatError {
    fn words(&self, lang: Lang) -> String {
        match self {
            RepeatError::TooMany => lang
                .t(
                    "重复最多生成 366 次",
                    "A repeat makes at most 366 activities",
                )
                .into(),
            RepeatError::EndsBeforeFirst => lang
                .t(
                    "重复的截止日期早于第一次",
                    "The repeat ends before the first date",
                )
                .into(),
            _ => lang
                .t(
                    "重复规则写法：daily until 2026-12-31，或 weekly mon,wed,fri until 2026-12-31",
                    "A repeat is: daily until 2026-12-31, or weekly mon,wed,fri until 2026-12-31",
                )
                .into(),
        }
    }
}

impl Refusal for ActivityError {
    fn words(&self, lang: Lang) -> String {
        match self {
            ActivityError::Refused(r) => r.words(lang),
            ActivityError::Repeat(r) => r.words(lang),
            ActivityError::Forbidden(_) => lang
                .t("您的角色不能管理活动", "Your role may not run activities")
                .into(),
            ActivityError::UnknownActivity(id) => match lang {
                Lang::Zh => format!("没有 {id} 号活动"),
                Lang::En => format!("There is no activity {id}"),
            },
            ActivityError::UnknownMember(id) => member_unknown(lang, id.0),
            ActivityError::NotAReader(_) => lang
                .t(
                    "这台设备不是活动室读卡器",
                    "This device is not a room reader",
                )
                .into(),
            ActivityError::CardReplaced => lang
                .t(
                    "这张卡已补办，请用新卡",
                    "This card was replaced: use the new one",
                )
                .into(),
            ActivityError::UnknownNotice(_) => lang
                .t(
                    "没有这个待采用的区级活动（已采用或已过期）",
                    "No such district activity to adopt (adopted already, or past)",
                )
                .into(),
            ActivityError::Points { member, refusal } => match lang {
                Lang::Zh => format!("{member} 号会员：{}；没有发放任何积分", refusal.words(lang)),
                Lang::En => format!(
                    "Member {member}: {}; nothing was awarded",
                    refusal.words(lang)
                ),
            },
            ActivityError::Store(e) => e.words(lang),
        }
    }
}

impl Refusal for GymError {
    fn words(&self, lang: Lang) -> String {
        match self {
            GymError::UnknownMember(id) => member_unknown(lang, id.0),
            GymError::Store(e) => e.words(lang),
        }
    }
}

impl Refusal for PointsError {
    fn words(&self, lang: Lang) -> String {
        match self {
            PointsError::Refused(r) => r.words(lang),
            PointsError::UnknownMember(id) => member_unknown(lang, id.0),
            PointsError::CapNotPositive(_) => lang
                .t("上限要是正数", "Caps are positive numbers of points")
                .into(),
            PointsError::Store(e) => e.words(lang),
        }
    }
}

impl Refusal for VendingError {
    fn words(&self, lang: Lang) -> String {
        match self {
            VendingError::Refused(_) => lang
                .t("这次兑换不能开始", "This redemption cannot begin")
                .into(),
            VendingError::Points(r) => r.words(lang),
            VendingError::UnknownMember(id) => member_unknown(lang, id.0),
            VendingError::UnknownSlot(..) => lang.t("没有这个货道", "No such slot").into(),
            VendingError::Store(e) => e.words(lang),
        }
    }
}

impl Refusal for DoorError {
    fn words(&self, lang: Lang) -> String {
        match self {
            DoorError::BadId(..) => lang
                .t(
                    "门的编号只能用小写字母、数字和 -",
                    "A door id is lowercase letters, digits and -",
                )
                .into(),
            DoorError::BadName(_) => lang
                .t(
                    "门的名字 1 到 40 个字",
                    "A door's name has 1 to 40 characters",
                )
                .into(),
            DoorError::UnknownDoor(_) => lang.t("没有这扇门", "No such door").into(),
            DoorError::Store(e) => e.words(lang),
        }
    }
}

impl Refusal for DeviceError {
    fn words(&self, lang: Lang) -> String {
        match self {
            DeviceError::NoSite => lang
                .t(
                    "本中心还没有导入站点目录：请技术员导入",
                    "This centre has no site directory yet: a technician imports one",
                )
                .into(),
            DeviceError::Site(e) => unavailable(lang, e),
            DeviceError::BadKey(_) => lang
                .t(
                    "这不是设备的公钥：请填设备上 device-agent --public-key 显示的内容",
                    "That is not a device key: give what device-agent --public-key shows on the device",
                )
                .into(),
            DeviceError::LabelFont(_) => unavailable(lang, self),
            DeviceError::Store(e) => e.words(lang),
        }
    }
}

impl Refusal for QrImageError {
    fn words(&self, lang: Lang) -> String {
        unavailable(lang, self)
    }
}

impl Refusal for keting_desk::claims::ConfirmError {
    fn words(&self, lang: Lang) -> String {
        use keting_desk::claims::ConfirmError as E;
        match self {
            E::NoClaim(_) => lang
                .t(
                    "这台设备没有在等确认的登记：请在设备上重新开始",
                    "This device has no enrolment waiting: start it again on the device",
                )
                .into(),
            E::WrongPin { .. } => lang
                .t(
                    "PIN 与设备的不一致，未确认",
                    "The PIN is not the device's: nothing confirmed",
                )
                .into(),
            E::Store(e) => e.words(lang),
        }
    }
}

impl Refusal for NewMemberError {
    fn words(&self, lang: Lang) -> String {
        let e = self;

        match (e, lang) {
            (NewMemberError::EmptyName, Lang::Zh) => "请填写姓名".into(),
            (NewMemberError::NameTooLong, Lang::Zh) => "姓名最多 40 个字".into(),
            (NewMemberError::ControlCharacters, Lang::Zh) => "姓名里有看不见的控制字符".into(),
            (NewMemberError::Markup, Lang::Zh) => "姓名里不能有 < 或 >".into(),
            (NewMemberError::PhoneTail(_), Lang::Zh) => "手机尾号是 4 位数字".into(),
            (NewMemberError::EmptyName, Lang::En) => "Enter a name".into(),
            (NewMemberError::NameTooLong, Lang::En) => "A name has at most 40 characters".into(),
            (NewMemberError::ControlCharacters, Lang::En) => {
                "The name holds invisible control characters".into()
            }
            (NewMemberError::Markup, Lang::En) => "A name cannot contain < or >".into(),
            (NewMemberError::PhoneTail(_), Lang::En) => {
                "The phone tail is the last 4 digits of a phone number".into()
            }
        }
    }
}

impl Refusal for MemberError {
    fn words(&self, lang: Lang) -> String {
        let e = self;

        match e {
            MemberError::Details(d) => d.words(lang),
            MemberError::UnknownMember(id) => match lang {
                Lang::Zh => format!("没有 {} 号会员", id.0),
                Lang::En => format!("There is no member {}", id.0),
            },
            MemberError::EpochsExhausted(_) => lang
                .t(
                    "这位会员的卡不能再补办了：请联系技术员",
                    "This member's pass cannot be replaced again: ask a technician",
                )
                .into(),
            MemberError::Forbidden(f) if f.action == StaffAction::ManageStaff => lang
                .t(
                    "工作人员的卡和个人信息只能由主任补办或删除",
                    "Only a manager may replace a staff member's pass or delete their data",
                )
                .into(),
            MemberError::Forbidden(_) => lang
                .t("您的角色不能改会员信息", "Your role may not change members")
                .into(),
            MemberError::Store(e) => {
                tracing::error!("members desk: {e}");
                lang.t(
                    "数据库暂时无法读写，请稍后再试",
                    "The database cannot be used just now: try again shortly",
                )
                .into()
            }
        }
    }
}

impl Refusal for ResourceError {
    fn words(&self, lang: Lang) -> String {
        let e = self;

        let n = Resource::NAME_MAX_CHARS;
        match (e, lang) {
            (ResourceError::BadName { chinese }, Lang::Zh) => format!(
                "{}要 1 到 {n} 个字，不能有 < > 或控制字符",
                if *chinese { "中文名" } else { "英文名" }
            ),
            (ResourceError::BadName { chinese }, Lang::En) => format!(
                "{}: 1 to {n} characters, no < > or control characters",
                if *chinese {
                    "The Chinese name"
                } else {
                    "The English name"
                }
            ),
            (ResourceError::BadHours, Lang::Zh) => {
                "开放时间写作 08:30-12:00,14:00-17:00，按先后顺序".into()
            }
            (ResourceError::BadHours, Lang::En) => {
                "Hours are written 08:30-12:00,14:00-17:00, in order".into()
            }
            (ResourceError::BadSlot, Lang::Zh) => {
                "每场分钟数是 5 到 720，且不长于每段开放时间".into()
            }
            (ResourceError::BadSlot, Lang::En) => {
                "The slot length: 5 to 720 minutes, within each opening window".into()
            }
            (ResourceError::BadCapacity, Lang::Zh) => {
                format!("每场名额是 1 到 {} 的整数", Resource::CAPACITY_MAX)
            }
            (ResourceError::BadCapacity, Lang::En) => format!(
                "Places per slot: a whole number from 1 to {}",
                Resource::CAPACITY_MAX
            ),
            (ResourceError::BadLimits, Lang::Zh) => format!(
                "每人每天 1 到 {} 次、每周 1 到 {} 次",
                Resource::PER_DAY_MAX,
                Resource::PER_WEEK_MAX
            ),
            (ResourceError::BadLimits, Lang::En) => format!(
                "Per member: 1 to {} a day and 1 to {} a week",
                Resource::PER_DAY_MAX,
                Resource::PER_WEEK_MAX
            ),
            (ResourceError::BadId(_), Lang::Zh) => "资源编号只能用小写字母、数字和 -".into(),
            (ResourceError::BadId(_), Lang::En) => {
                "A resource id is lowercase letters, digits and -".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::booking::BookingState;
    use keting_core::time::Timestamp;

    /// Every refusal of the bookings desk a page can meet: worded in
    /// Chinese and English, never the error's own (English, command-line)
    /// text.
    #[test]
    fn a_bookings_refusal_is_worded_not_shown() {
        let refusals = [
            BookingError::Refused(BookingRefusal::Full),
            BookingError::Points(PointsRefusal::NotPositive),
            BookingError::Resource(ResourceError::BadCapacity),
            BookingError::Package(PackageRefusal::Sessions(0)),
            BookingError::Rating(RatingRefusal::NotOver(BookingState::Booked)),
            BookingError::CapacityBelowBooked {
                capacity: 1,
                booked: 3,
                slot: Timestamp::from_unix_millis(0),
            },
            BookingError::PianoNeedsBank,
            BookingError::PianoNotBookable,
            BookingError::NoSuchSlot {
                resource: "room-1".into(),
                hours: "09:00-17:00".into(),
                slots: "slots of 60 minutes".into(),
            },
            BookingError::UnknownResource {
                id: "room-9".into(),
                known: "room-1".into(),
            },
            BookingError::NoGrace,
            BookingError::NotFound("booking 7".into()),
        ];
        for r in &refusals {
            let zh = r.words(Lang::Zh);
            let en = r.words(Lang::En);
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{r:?}: {zh}"
            );
            assert!(
                !zh.contains(&r.to_string()) && !en.contains(&r.to_string()),
                "{r:?}"
            );
            assert!(!zh.contains("--") && !en.contains("--"), "{r:?}: {en}");
            assert_ne!(
                en,
                unavailable(Lang::En, &""),
                "{r:?} is a refusal, not a failure"
            );
        }
    }
}
