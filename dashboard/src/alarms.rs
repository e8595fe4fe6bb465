//! The alarm history: every alarm of the last ones kept, when it was
//! raised, who acknowledged it and when, when its cause went away.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::time::Timestamp;

use super::html::{self, Nav, esc};
use super::refusal::Refusal;
use super::{Dashboard, html_page, lang, refused, see_other};
use keting_desk as desk;

/// How many alarms the page lists.
const SHOWN: i64 = 500;

/// `GET /alarms`.
pub async fn page(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let history = match d
        .with_store(|store| desk::alarms::history(store, SHOWN))
        .await
    {
        Ok(h) => h,
        Err(e) => return refused(lang, Some(&who), &e.words(lang)),
    };
    let cal = d.site().calendar;
    let at = |t: Timestamp| {
        let l = cal.local(t);
        format!("{} {:02}:{:02}", l.date(), l.hour(), l.minute())
    };
    let rows: Vec<Vec<String>> = history
        .iter()
        .map(|a| {
            vec![
                format!("{}", a.id),
                at(a.raised),
                esc(a.device.as_str()),
                format!(
                    "<span class=\"alarm\">{}</span>",
                    esc(&super::today::alarm_words(lang, a))
                ),
                a.acked
                    .as_ref()
                    .map(|(by, t)| format!("{} {}", esc(by), at(*t)))
                    .unwrap_or_default(),
                a.cleared
                    .map(at)
                    .unwrap_or_else(|| lang.t("未解除", "open").to_owned()),
            ]
        })
        .collect();
    let alerts = super::alerts::section(&d, &who, lang).await;
    let body = format!(
        "<h1>{}</h1>{}{alerts}",
        lang.t("报警记录", "Alarm history"),
        if rows.is_empty() {
            format!("<p>{}</p>", lang.t("没有报警记录", "No alarms yet"))
        } else {
            html::table(
                "alarm-history",
                &[
                    "#",
                    lang.t("发生", "Raised"),
                    lang.t("设备", "Device"),
                    lang.t("报警", "Alarm"),
                    lang.t("谁确认", "Acknowledged by"),
                    lang.t("解除", "Cleared"),
                ],
                &rows,
            )
        }
    );
    html_page(
        StatusCode::OK,
        html::page(
            lang,
            lang.t("报警记录", "Alarm history"),
            Some(&who),
            Nav::Alarms,
            &body,
        ),
    )
}
