//! Device health across the district: every alarm raised and not cleared,
//! every device offline (as its centre last said: unavailable, never its
//! last state), and each centre by when it was last heard from: a centre
//! silent for a day is cut off or down.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::html::{esc, table};
use keting_webkit::respond::html_page;

use super::frame::{self, Nav};
use super::{DistrictDashboard, failed, signed_in, when};
use crate::reports::Trouble;

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
    let read = {
        let db = d.db.lock().await;
        match crate::reports::troubles(&db, None).await {
            Ok(t) => crate::reports::last_heard(&db).await.map(|h| (t, h)),
            Err(e) => Err(e),
        }
    };
    let (troubles, heard) = match read {
        Ok(r) => r,
        Err(e) => return failed(lang, &e),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
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
        "<h1>{}</h1><p>{}: <strong>{}</strong></p>{}<h2>{}</h2>{}",
        lang.t("设备与报警", "Devices and alarms"),
        lang.t("未处理", "Open"),
        troubles.len(),
        troubles_html(lang, &troubles, d.offset_minutes),
        lang.t("超过一天没有消息的中心", "Centres not heard from for a day"),
        silent_html
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
