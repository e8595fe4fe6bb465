//! The district dashboard's page frame: its name, its navigation, the
//! signed-in user with sign-out, the other language; and the pages that
//! say why something was not done.

use std::fmt::Write;

use crate::web::DistrictSession;
use axum::http::StatusCode;
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::html::esc;

/// Which page is shown (its link is marked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    /// The ranking.
    Ranking,
    /// The trend.
    Trend,
    /// Device health and alarms.
    Health,
    /// The monthly report.
    Report,
    /// The users.
    Users,
    /// No navigation (sign-in, errors).
    None,
}

/// A role for people.
pub fn role_word(lang: Lang, who: &DistrictSession) -> &'static str {
    match who.role {
        crate::users::DistrictRole::Manager => lang.t("区级主管", "district manager"),
        crate::users::DistrictRole::Observer => lang.t("观察员", "observer"),
    }
}

/// A whole page.
pub fn page(
    lang: Lang,
    title: &str,
    who: Option<&DistrictSession>,
    nav: Nav,
    body: &str,
) -> String {
    let code = match lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    };
    let mut h = format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · {}</title><link rel=\"stylesheet\" href=\"/assets/dashboard.css\"></head><body>\
         <header><span class=\"brand\">{}</span>",
        esc(title),
        lang.t("客厅区级看板", "Keting district"),
        lang.t("客厅 · 区级看板", "Keting · District"),
    );
    if let Some(who) = who {
        h.push_str("<nav>");
        for (n, href, zh, en) in [
            (Nav::Ranking, "/", "各中心排名", "Ranking"),
            (Nav::Trend, "/trend", "月度趋势", "Trend"),
            (Nav::Health, "/health", "设备与报警", "Devices & alarms"),
            (Nav::Report, "/report", "月报", "Report"),
            (Nav::Users, "/users", "用户", "Users"),
        ] {
            let _ = write!(
                h,
                "<a href=\"{href}\"{}>{}</a>",
                if n == nav { " class=\"here\"" } else { "" },
                lang.t(zh, en)
            );
        }
        let (open, close) = match lang {
            Lang::Zh => ("（", "）"),
            Lang::En => (" (", ")"),
        };
        let _ = write!(
            h,
            "</nav><span class=\"who\">{}{open}{}{close}</span>\
             <form method=\"post\" action=\"/sign-out\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>{}</button></form>",
            esc(&who.name),
            role_word(lang, who),
            esc(&who.csrf),
            lang.t("退出", "Sign out")
        );
    }
    let other = match lang {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh", "中文"),
    };
    let _ = write!(
        h,
        "<a class=\"lang\" href=\"/lang?to={}\">{}</a></header><main>{body}</main></body></html>",
        other.0, other.1
    );
    h
}

/// Not done: `status` with the reason, nothing written.
pub fn not_done(
    status: StatusCode,
    lang: Lang,
    who: Option<&DistrictSession>,
    why: &str,
) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/\">{}</a></p>",
        lang.t("未执行", "Not done"),
        esc(why),
        lang.t("返回", "Back")
    );
    keting_webkit::respond::html_page(
        status,
        page(lang, lang.t("未执行", "Not done"), who, Nav::None, &body),
    )
}
