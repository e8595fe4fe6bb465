//! My points: the balance (points past their lifetime expire first, as
//! at the kiosk), what will expire when, and the ledger's history in a
//! resident's words: earned for which activity, spent on which drink,
//! given back, expired, corrected.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keting_core::ledger::PostingKind;
use keting_desk::points;
use keting_webkit::Lang;
use keting_webkit::html::esc;
use keting_webkit::respond::html_page;

use crate::Residents;
use crate::guard::{self, Visit};
use crate::page::{self, Extras, day_words};

/// How many postings the page shows.
pub const HISTORY_LINES: u32 = 100;

fn kind_words(lang: Lang, kind: PostingKind) -> &'static str {
    match kind {
        PostingKind::Earn => lang.t("志愿服务奖励", "Earned"),
        PostingKind::Reserve | PostingKind::Commit => lang.t("兑换饮品", "Drink"),
        PostingKind::Refund => lang.t("没出货，退回", "Given back: no drink"),
        PostingKind::Expire => lang.t("过期", "Expired"),
        PostingKind::Reverse => lang.t("更正", "Correction"),
    }
}

/// `/points`.
pub async fn page(State(r): State<Residents>, visit: Visit) -> Response {
    let me = match guard::resident(&r, &visit).await {
        Ok(me) => me,
        Err(out) => return *out,
    };
    let (lang, cal, now, m) = (visit.lang, r.site().calendar, guard::now(), me.member);
    let read = r
        .with_store(move |s| {
            let (_, balance) = points::balance(s, m, cal, now)?;
            Ok::<_, points::PointsError>((
                balance,
                points::expiry_schedule(s, m, now)?,
                points::history(s, m, HISTORY_LINES)?,
            ))
        })
        .await;
    let (balance, expiring, history) = match read {
        Ok(x) => x,
        Err(e) => return page::unavailable(lang, &e),
    };
    let mut body = format!(
        "<p>{}</p><p class=\"big\">{balance}</p>",
        lang.t("现有积分", "Points now")
    );
    for (at, n) in expiring.iter().take(3) {
        let date = cal.date_of(*at);
        body.push_str(&format!(
            "<p class=\"warn\">{}</p>",
            match lang {
                Lang::Zh => format!(
                    "{}年{}月{}日有{n}分到期",
                    date.year(),
                    u8::from(date.month()),
                    date.day()
                ),
                Lang::En => format!("{n} points expire on {date}"),
            }
        ));
    }
    body.push_str(&format!(
        "<p class=\"muted\">{}</p><h2>{}</h2>",
        lang.t(
            "积分可以在自助机上兑换饮品。",
            "Spend points on drinks at the kiosk."
        ),
        lang.t("积分记录", "History")
    ));
    if history.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            lang.t("还没有记录。", "Nothing yet.")
        ));
    }
    body.push_str("<ul>");
    for h in &history {
        let sign = if h.points > 0 { "+" } else { "" };
        body.push_str(&format!(
            "<li>{} {}{}{} <b>{sign}{}</b>{}</li>",
            day_words(lang, cal, h.at, now),
            kind_words(lang, h.kind),
            if h.what.is_empty() { "" } else { "：" },
            esc(&h.what),
            h.points,
            if h.reversed {
                lang.t("（已更正）", " (corrected)")
            } else {
                ""
            }
        ));
    }
    body.push_str("</ul>");
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("积分", "Points"),
            Some("/points"),
            &body,
            Extras::default(),
        ),
    )
}
