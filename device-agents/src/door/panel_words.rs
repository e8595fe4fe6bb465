//! What the door's panel says: Chinese first (large), English below.

use keting_core::door::access::DoorRefusal;
use keting_core::door::lock::LockState;
use keting_hardware::panel::status_layout::StatusView;

fn view(headline: &str, line: &str, small: &str, attention: bool) -> StatusView {
    StatusView {
        headline: headline.into(),
        line: line.into(),
        small: small.into(),
        attention,
    }
}

/// The panel at rest, for the lock's state (and a fault, if any).
pub fn for_state(state: LockState, fault: bool, locked_out: bool) -> StatusView {
    if fault {
        return view("门锁故障", "请联系工作人员", "Lock fault: call staff", true);
    }
    if locked_out {
        return view("暂停扫码", "请稍后再试", "Too many tries: wait", true);
    }
    match state {
        LockState::Unknown => view("状态未知", "正在读取门磁", "Door state unknown", false),
        LockState::Locked => view("请扫码", "24小时健身房", "Scan your pass", false),
        LockState::Unlocked => view("请进", "门已开", "Door open: come in", false),
        LockState::Open => view("门已开", "请随手关门", "Please close the door", false),
        LockState::HeldOpen => view("请关门", "门开太久了", "Door held open", true),
        LockState::Forced => view("警报", "门被强行打开", "Door forced", true),
        LockState::Released => view(
            "消防警报",
            "门已释放 请离开",
            "Fire alarm: door released",
            true,
        ),
    }
}

/// The panel right after a granted scan.
pub fn welcome() -> StatusView {
    view("请进", "欢迎光临", "Welcome", false)
}

/// The panel right after a refused scan.
pub fn refused(reason: DoorRefusal) -> StatusView {
    let (zh, en) = match reason {
        DoorRefusal::NotAPass => ("这不是本中心的码", "Not a Keting pass"),
        DoorRefusal::WrongSite => ("其他中心的码", "Pass of another centre"),
        DoorRefusal::BadSignature => ("码无效", "Invalid pass"),
        DoorRefusal::Expired => ("码已过期 请刷新手机", "Expired: refresh your phone"),
        DoorRefusal::Revoked => ("旧卡已挂失", "Old card: replaced"),
        DoorRefusal::NotOnRoster => ("未登记", "Not registered"),
        DoorRefusal::NightNotPaid => ("夜间仅限月付会员", "Night: paid members only"),
        DoorRefusal::Passback => ("刚刚已进入", "Already entered"),
        DoorRefusal::LockedOut => ("请稍后再试", "Too many tries: wait"),
        DoorRefusal::ClockWrong => ("时钟错误 请找工作人员", "Clock wrong: ask staff"),
    };
    view("未开门", zh, en, true)
}

/// The panel when a roster was not taken.
pub fn roster_rejected() -> StatusView {
    view("名单无效", "仍用旧名单", "Roster rejected", true)
}

/// Held while the self-test's pattern is on the panel (never drawn: the
/// pattern is), so the panel returns to the door's state afterwards.
pub fn self_test() -> StatusView {
    view("自检", "测试图案", "Self-test pattern", false)
}
