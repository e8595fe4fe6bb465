//! The drinks machine: its catalogue with the stock the centre counts, and
//! the newest redemptions, any still in doubt marked (their points are held
//! until the machine's answer settles them; staff never settle one by hand).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::{Dashboard, html_page, lang, refused, see_other};
use keting_desk as desk;
use keting_desk::records::RedemptionState;

/// How many redemptions the page lists.
const SHOWN: u32 = 100;

fn state_word(lang: Lang, s: RedemptionState) -> String {
    let (zh, en, alarm) = match s {
        RedemptionState::Reserved => ("已预留积分", "points held", false),
        RedemptionState::Sent => ("出货中", "vending", false),
        RedemptionState::Unknown => ("待确认", "in doubt", true),
        RedemptionState::Committed => ("已出货", "dispensed", false),
        RedemptionState::Refunded => ("未出货，已退积分", "not dispensed, refunded", false),
    };
    let w = esc(lang.t(zh, en));
    if alarm {
        format!("<span class=\"alarm\">{w}</span>")
    } else {
        w
    }
}

/// `GET /vending`.
pub async fn page(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let figures = d
        .with_store(|store| {
            Ok::<_, desk::vending::VendingError>((
                desk::vending::catalogue(store)?,
                desk::vending::redemptions(store, SHOWN)?,
            ))
        })
        .await;
    let (slots, redemptions) = match figures {
        Ok(f) => f,
        Err(e) => return refused(lang, Some(&who), &e.words(lang)),
    };
    let cal = d.site().calendar;
    let slot_rows: Vec<Vec<String>> = slots
        .iter()
        .map(|s| {
            vec![
                esc(s.device.as_str()),
                format!("{}", s.slot),
                esc(lang.t(&s.name_zh, &s.name_en)),
                format!("{}", s.price),
                if s.stock == 0 {
                    format!(
                        "<span class=\"alarm\">{}</span>",
                        lang.t("售罄", "sold out")
                    )
                } else {
                    format!("{}", s.stock)
                },
            ]
        })
        .collect();
    let in_doubt = redemptions
        .iter()
        .filter(|r| r.state == RedemptionState::Unknown)
        .count();
    let red_rows: Vec<Vec<String>> = redemptions
        .iter()
        .map(|r| {
            let t = cal.local(r.created);
            vec![
                format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()),
                format!("{}", r.member.0),
                esc(r.device.as_str()),
                format!("{}", r.slot),
                format!("{}", r.points),
                state_word(lang, r.state),
            ]
        })
        .collect();
    let body = format!(
        "<h1>{}</h1><h2>{}</h2>{}<h2>{}</h2><p class=\"{}\" id=\"in-doubt\">{}</p>{}",
        lang.t("饮料机", "Drinks machine"),
        lang.t("饮料与库存", "Drinks and stock"),
        if slot_rows.is_empty() {
            format!("<p>{}</p>", lang.t("尚未设置饮料", "No drinks set up yet"))
        } else {
            html::table(
                "slots",
                &[
                    lang.t("机器", "Machine"),
                    lang.t("货道", "Slot"),
                    lang.t("饮料", "Drink"),
                    lang.t("积分", "Points"),
                    lang.t("库存", "Stock"),
                ],
                &slot_rows,
            )
        },
        lang.t("最近兑换", "Recent redemptions"),
        if in_doubt == 0 { "ok" } else { "alarm" },
        match (in_doubt, lang) {
            (0, Lang::Zh) => "没有待确认的出货".to_owned(),
            (0, Lang::En) => "No drink in doubt".to_owned(),
            (n, Lang::Zh) => format!("{n} 杯待确认：积分暂扣，机器回应后自动结算"),
            (n, Lang::En) =>
                format!("{n} in doubt: points held until the machine's answer settles them"),
        },
        html::table(
            "redemptions",
            &[
                lang.t("时间", "When"),
                lang.t("会员号", "Member"),
                lang.t("机器", "Machine"),
                lang.t("货道", "Slot"),
                lang.t("积分", "Points"),
                lang.t("状态", "State"),
            ],
            &red_rows,
        ),
    );
    html_page(
        StatusCode::OK,
        html::page(
            lang,
            lang.t("饮料机", "Drinks machine"),
            Some(&who),
            Nav::Vending,
            &body,
        ),
    )
}
