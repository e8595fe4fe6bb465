//! Device health across the district: every alarm raised and not cleared,
//! every device offline (as its centre last said: unavailable, never its
//! last state), each centre by when it was last heard from (a centre
//! silent for a day is cut off or down), and the events a centre sent in
//! the last week that the database does not hold (`crate::tallies`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::html::{esc, table};
use keting_webkit::respond::html_page;

use super::frame::{self, Nav};
use super::{DistrictDashboard, failed, signed_in, when};
use crate::reports::Trouble;
use crate::tallies::Missing;

/// How far back the page looks for missing events (`keting-district check`
/// looks at all).
const MISSING_WITHIN_MS: i64 = 7 * 24 * 3600 * 1000;

/// The ranges of events missing, as a table, or a line saying none is.
pub fn missing_html(lang: Lang, missing: &[Missing], offset_minutes: i32) -> String {
    if missing.is_empty() {
        return format!(
            "<p class=\"ok\">{}</p>",
            lang.t(
                "一周内各中心发出的事件都已收到",
                "Every event the centres sent this week is held"
            )
        );
    }
    let rows: Vec<Vec<String>> = missing
        .iter()
        .map(|m| {
            vec![
                format!("<a href=\"/centre/{0}\">{0}</a>", esc(&m.centre)),
                format!("{}–{}", m.from_id, m.through_id),
                format!(
                    "<span class=\"alarm\">{}</span>",
                    m.count.map_or_else(
                        || lang
                            .t(
                                "未知（连同中心的计数一起缺失）",
                                "unknown (the centre's count is missing too)"
                            )
                            .to_owned(),
                        |n| n.to_string()
                    )
                ),
                when(m.noticed_ms, offset_minutes),
            ]
        })
        .collect();
    format!(
        "{}<p>{}</p>",
        table(
            "missing",
            &[
                lang.t("中心", "Centre"),
                lang.t("事件编号", "Event numbers"),
                lang.t("缺失", "Missing"),
                lang.t("发现于", "Noticed"),
            ],
            &rows,
        ),
        lang.t(
            "补回：keting-district repair --centre 中心名（从消息流重新读取）",
            "To bring them back: keting-district repair --centre NAME (reads the stream again)"
        )
    )
}

/// An alarm's or a state's kind, in words.
pub fn trouble_word(lang: Lang, what: &str) -> String {
    let (zh, en) = match what {
        "offline" => ("离线", "offline"),
        "forced" => ("门被强行打开", "door forced"),
        "held_open" => ("门未关", "door held open"),
        "fault" => ("故障", "fault"),
        "clock_wrong" => ("时钟错误", "clock wrong"),
        "vend_in_doubt" => ("出货存疑", "drink in doubt"),
        other => (other, other),
    };
    lang.t(zh, en).to_owned()
}

/// The troubles as a table.
pub fn troubles_html(lang: Lang, troubles: &[Trouble], offset_minutes: i32) -> String {
    if troubles.is_empty() {
        return format!(
            "<p class=\"ok\">{}</p>",
            lang.t(
                "没有未处理的报警，设备都在线",
                "No open alarm; every device online"
            )
        );
    }
    let rows: Vec<Vec<String>> = troubles
        .iter()
        .map(|t| {
            vec![
                format!("<a href=\"/centre/{0}\">{0}</a>", esc(&t.centre)),
                esc(&t.device),
                format!(
                    "<span class=\"alarm\">{}</span>",
                    esc(&trouble_word(lang, &t.what))
                ),
                when(t.since_ms, offset_minutes),
            ]
        })
        .collect();
    table(
        "troubles",
        &[
            lang.t("中心", "Centre"),
            lang.t("设备", "Device"),
            lang.t("情况", "What"),
            lang.t("自", "Since"),
        ],
        &rows,
    )
}

/// `GET /health`.
pub async fn page(State(d): State<DistrictDashboard>, headers: HeaderMap) -> Response {
    let (who, lang) = match signed_in(&d, &headers).await {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let read = {
        let db = d.db.lock().await;
        match crate::reports::troubles(&db, None).await {
            Ok(t) => match crate::reports::last_heard(&db).await {
                Ok(h) => crate::tallies::missing(&db, Some(now - MISSING_WITHIN_MS))
                    .await
                    .map(|m| (t, h, m)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    };
    let (troubles, heard, missing) = match read {
        Ok(r) => r,
        Err(e) => return failed(lang, &e),
    };
    let silent: Vec<Vec<String>> = heard
        .iter()
        .filter(|(_, at)| now - at > 24 * 3600 * 1000)
        .map(|(c, at)| {
            vec![
                format!("<a href=\"/centre/{0}\">{0}</a>", esc(c)),
                when(*at, d.offset_minutes),
            ]
        })
        .collect();
    let silent_html = if silent.is_empty() {
        format!(
            "<p class=\"ok\">{}</p>",
            lang.t(
                "各中心一天内都有消息",
                "Every centre was heard from within a day"
            )
        )
    } else {
        table(
            "silent",
            &[lang.t("中心", "Centre"), lang.t("最后消息", "Last heard")],
            &silent,
        )
    };
    let body = format!(
        "<h1>{}</h1><p>{}: <strong>{}</strong></p>{}<h2>{}</h2>{}<h2>{}</h2>{}",
        lang.t("设备与报警", "Devices and alarms"),
        lang.t("未处理", "Open"),
        troubles.len(),
        troubles_html(lang, &troubles, d.offset_minutes),
        lang.t("超过一天没有消息的中心", "Centres not heard from for a day"),
        silent_html,
        lang.t("缺失的事件", "Events missing"),
        missing_html(lang, &missing, d.offset_minutes)
    );
    html_page(
        StatusCode::OK,
        frame::page(
            lang,
            lang.t("设备与报警", "Devices & alarms"),
            Some(&who),
            Nav::Health,
            &body,
        ),
    )
}
