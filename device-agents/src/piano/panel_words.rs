//! What a piano's panel says: Chinese first (large), English below.

use keting_hardware::panel::status_layout::StatusView;

fn view(headline: &str, line: &str, small: String, attention: bool) -> StatusView {
    StatusView {
        headline: headline.into(),
        line: line.into(),
        small,
        attention,
    }
}

/// Nobody playing.
pub fn idle(piano: &str) -> StatusView {
    view("扫码弹琴", piano, "Scan at the kiosk to play".into(), false)
}

/// A session in progress: the player and the minutes left; inverted in the
/// last `warn` minutes.
pub fn playing(player: &str, minutes_left: u64, warn: u64) -> StatusView {
    if minutes_left <= warn {
        return view(
            &format!("还剩{minutes_left}分钟"),
            "即将结束 请准备",
            format!("Ending in {minutes_left} min"),
            true,
        );
    }
    view(
        player,
        &format!("还剩 {minutes_left} 分钟"),
        format!("{minutes_left} min left · button: end"),
        false,
    )
}

/// The relay board does not answer.
pub fn fault() -> StatusView {
    view(
        "钢琴故障",
        "请联系工作人员",
        "Power fault: call staff".into(),
        true,
    )
}
