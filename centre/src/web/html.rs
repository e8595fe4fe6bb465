//! The dashboard's HTML: escaping (every value from the database goes
//! through [`esc`]), the page frame (header, navigation, the language
//! switch, sign-out), and words in Chinese first or English ([`Lang`]).
//! Pages work with no JavaScript; the one script only refreshes the live
//! parts when the server says something changed.

use std::fmt::Write;

use super::session::StaffSession;

/// The page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// 中文 (the default).
    Zh,
    /// English.
    En,
}

impl Lang {
    /// From the `lang` cookie's value.
    pub fn from_cookie(v: Option<&str>) -> Self {
        match v {
            Some("en") => Self::En,
            _ => Self::Zh,
        }
    }

    /// The word in this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Zh => zh,
            Self::En => en,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }
}

/// `s` safe inside HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Which page is shown (for the navigation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    /// Today.
    Today,
    /// Foot traffic.
    Traffic,
    /// Members.
    Members,
    /// Volunteer points.
    Points,
    /// The monthly report.
    Report,
    /// The drinks machine.
    Vending,
    /// Bookings and utilisation.
    Bookings,
    /// The alarm history.
    Alarms,
    /// The devices.
    Devices,
    /// The sign-in page (no navigation).
    None,
}

/// A whole page: `title`, the signed-in staff member (if any), `body`.
pub fn page(lang: Lang, title: &str, who: Option<&StaffSession>, nav: Nav, body: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · {}</title><link rel=\"stylesheet\" href=\"/assets/dashboard.css\"></head><body>",
        lang.code(),
        esc(title),
        lang.t("客厅工作台", "Keting dashboard"),
    );
    h.push_str("<header><span class=\"brand\">");
    h.push_str(lang.t("客厅 · 工作台", "Keting · Dashboard"));
    h.push_str("</span>");
    if let Some(who) = who {
        h.push_str("<nav>");
        for (n, href, zh, en) in [
            (Nav::Today, "/", "今日", "Today"),
            (Nav::Traffic, "/traffic", "客流", "Foot traffic"),
            (Nav::Members, "/members", "会员", "Members"),
            (Nav::Points, "/points", "积分", "Points"),
            (Nav::Vending, "/vending", "饮料机", "Drinks"),
            (Nav::Bookings, "/bookings", "预约", "Bookings"),
            (Nav::Report, "/report", "月报", "Report"),
            (Nav::Devices, "/devices", "设备", "Devices"),
            (Nav::Alarms, "/alarms", "报警记录", "Alarms"),
        ] {
            let _ = write!(
                h,
                "<a href=\"{href}\"{}>{}</a>",
                if n == nav { " class=\"here\"" } else { "" },
                lang.t(zh, en)
            );
        }
        h.push_str("</nav>");
        let (open, close) = match lang {
            Lang::Zh => ("（", "）"),
            Lang::En => (" (", ")"),
        };
        let _ = write!(
            h,
            "<span class=\"who\">{}{open}{}{close}</span>\
             <form method=\"post\" action=\"/sign-out\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button>{}</button></form>",
            esc(&who.name),
            role_word(lang, who.role),
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
        "<a class=\"lang\" href=\"/lang?to={}\">{}</a></header><main>{body}</main>\
         <script src=\"/assets/live.js\" defer></script></body></html>",
        other.0, other.1
    );
    h
}

/// What a form did, above it: done (`ok`, announced politely) or refused
/// (announced at once), in words.
pub fn notice(ok: bool, text: &str) -> String {
    if ok {
        format!("<p class=\"ok\" role=\"status\">{}</p>", esc(text))
    } else {
        format!("<p class=\"error\" role=\"alert\">{}</p>", esc(text))
    }
}

/// A role for people.
pub fn role_word(lang: Lang, role: keting_core::staff::StaffRole) -> &'static str {
    use keting_core::staff::StaffRole::*;
    match (role, lang) {
        (Observer, Lang::Zh) => "观察员",
        (Staff, Lang::Zh) => "工作人员",
        (Technician, Lang::Zh) => "技术员",
        (Manager, Lang::Zh) => "主管",
        (Observer, Lang::En) => "observer",
        (Staff, Lang::En) => "staff",
        (Technician, Lang::En) => "technician",
        (Manager, Lang::En) => "manager",
    }
}

/// A table: `head` cells and rows of cells (already escaped).
pub fn table(class: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let mut h = format!("<table class=\"{class}\"><thead><tr>");
    for c in head {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    h.push_str("</tr></thead><tbody>");
    for r in rows {
        h.push_str("<tr>");
        for c in r {
            let _ = write!(h, "<td>{c}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_in_a_name_is_text() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
