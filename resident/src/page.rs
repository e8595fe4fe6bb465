//! The residents' page frame in elder mode, the default and only mode
//! (the MIIT 适老化 rules): body text 20 CSS px at the phone's default text
//! size and growing with it, targets at least 60 px, line height 1.5,
//! contrast above 7:1, one column that reflows at 200 % zoom, no pop-ups.
//! Chinese first, English one tap away. The style sheet and the one
//! optional script (keeping the screen awake while the pass is shown) are
//! in the binary; nothing is loaded from elsewhere.

use std::fmt::Write;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::html::esc;
use keting_webkit::respond::{asset, html_page};

use crate::guard::Visit;

/// `/r.css`.
pub const CSS: &str = r#"html{font-size:125%}
body{margin:0;font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;line-height:1.5;color:#111;background:#fff;-webkit-text-size-adjust:100%;text-size-adjust:100%}
header{display:flex;justify-content:space-between;align-items:center;gap:.5rem;background:#0b4f2e;color:#fff;padding:.25rem 1rem}
header a{color:#fff;min-height:60px;display:inline-flex;align-items:center}
.brand{font-weight:bold}
nav{display:flex;flex-wrap:wrap;gap:.4rem;padding:.5rem 1rem}
nav a,button{display:inline-flex;align-items:center;justify-content:center;min-height:60px;min-width:60px;padding:.25rem 1rem;font-size:1rem;line-height:1.3;border-radius:.4rem;box-sizing:border-box;font-family:inherit}
nav a{flex:1 1 auto;background:#e6efe9;color:#0b4f2e;text-decoration:none;font-weight:bold}
nav a.here{background:#0b4f2e;color:#fff}
main{padding:0 1rem 2rem;max-width:40rem;overflow-wrap:anywhere}
h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.25rem;margin:1.25rem 0 .25rem}
p{margin:.5rem 0}
a{color:#0b4f2e}
button{background:#0b4f2e;color:#fff;border:0;font-weight:bold;width:100%;margin:.25rem 0;cursor:pointer}
button.quiet{background:#fff;color:#0b4f2e;border:2px solid #0b4f2e}
textarea{width:100%;box-sizing:border-box;font-size:1rem;font-family:inherit;line-height:1.5;border:2px solid #555;border-radius:.4rem;padding:.5rem}
.row form{flex:1 1 auto}
.card{border:2px solid #b9c4bd;border-radius:.5rem;padding:.5rem .75rem;margin:.75rem 0}
.qr{display:block;width:100%;max-width:22rem;margin:.5rem auto}
.big{font-size:2rem;font-weight:bold;letter-spacing:.1em}
.code{font-size:1.5rem;font-weight:bold;letter-spacing:.05em;white-space:nowrap;overflow-wrap:normal;font-family:monospace}
.ok{color:#0b4f2e;font-weight:bold}
.warn{color:#a4000f;font-weight:bold}
.muted{color:#3d3d3d}
form{margin:0}
ul{padding-left:1.2rem}
.choices{display:flex;gap:.5rem}
.choices button{font-size:2rem}
.row{display:flex;justify-content:space-between;gap:.5rem;flex-wrap:wrap}
.row a{display:inline-flex;align-items:center;min-height:60px;padding:0 .5rem}
"#;

/// `/wake.js`: keeps the screen on while the pass is shown, where the
/// browser allows it. The page works the same without it.
pub const WAKE_JS: &str = "(function(){if(!('wakeLock' in navigator))return;function k(){navigator.wakeLock.request('screen').catch(function(){})}k();document.addEventListener('visibilitychange',function(){if(document.visibilityState==='visible')k()})})();\n";

/// A page with a place waited for reloads itself this often.
pub const WAITING_REFRESH_SECONDS: u32 = 60;

/// The navigation's pages: (path, Chinese, English).
pub const NAV: [(&str, &str, &str); 6] = [
    ("/", "我的码", "My pass"),
    ("/bookings", "预约", "Bookings"),
    ("/activities", "活动", "Activities"),
    ("/points", "积分", "Points"),
    ("/feedback", "评价建议", "Rate, suggest"),
    ("/phones", "我的手机", "My phones"),
];

/// What a page adds to the frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extras {
    /// Reload the page after this many seconds (the live pass).
    pub refresh_seconds: Option<u32>,
    /// Load the screen-awake script.
    pub wake: bool,
    /// The navigation below the page, not above it (the pass: its QR must
    /// be on the first screen, in large text too).
    pub nav_below: bool,
}

/// A whole page: the centre's name, the navigation (with `here` marked)
/// for a signed-in phone, `title` and `body`.
pub fn frame(
    lang: Lang,
    centre: &str,
    title: &str,
    here: Option<&str>,
    body: &str,
    extras: Extras,
) -> String {
    let centre = if centre.is_empty() {
        lang.t("社区服务中心", "Community centre")
    } else {
        centre
    };
    let mut h = String::with_capacity(body.len() + 1500);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        lang.code()
    );
    if let Some(s) = extras.refresh_seconds {
        let _ = write!(h, "<meta http-equiv=\"refresh\" content=\"{s}\">");
    }
    let other = match lang {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh", "中文"),
    };
    let _ = write!(
        h,
        "<title>{} · {}</title><link rel=\"stylesheet\" href=\"/r.css\"></head><body>\
         <header><span class=\"brand\">{}</span><a href=\"/lang?to={}&amp;back={}\">{}</a></header>",
        esc(title),
        esc(centre),
        esc(centre),
        other.0,
        here.unwrap_or("/welcome"),
        other.1
    );
    let nav = here.map(|here| {
        let mut n = String::from("<nav>");
        for (href, zh, en) in NAV {
            let _ = write!(
                n,
                "<a href=\"{href}\"{}>{}</a>",
                if href == here { " class=\"here\"" } else { "" },
                lang.t(zh, en)
            );
        }
        n.push_str("</nav>");
        n
    });
    if !extras.nav_below {
        h.push_str(nav.as_deref().unwrap_or(""));
    }
    let _ = write!(h, "<main><h1>{}</h1>{body}</main>", esc(title));
    if extras.nav_below {
        h.push_str(nav.as_deref().unwrap_or(""));
    }
    if extras.wake {
        h.push_str("<script src=\"/wake.js\"></script>");
    }
    h.push_str("</body></html>");
    h
}

/// A short page saying one thing, with the way back to the pass.
pub fn message(status: StatusCode, lang: Lang, title: &str, text: &str) -> Response {
    let body = format!(
        "<p>{}</p><p><a href=\"/\">{}</a></p>",
        esc(text),
        lang.t("返回首页", "Back to the start")
    );
    html_page(
        status,
        frame(lang, "", title, None, &body, Extras::default()),
    )
}

/// The database failed: logged, and said in the resident's words.
pub fn unavailable(lang: Lang, e: &dyn std::fmt::Display) -> Response {
    tracing::error!("residents' pages: {e}");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        lang,
        lang.t("暂时无法使用", "Not available just now"),
        lang.t(
            "请稍后再试，或到服务台咨询。",
            "Please try again later, or ask at the front desk.",
        ),
    )
}

/// Any other path.
pub async fn not_found(visit: Visit) -> Response {
    no_such_page(visit.lang)
}

/// "No such page" (404): an address that is not one, or no longer is,
/// answered alike.
pub fn no_such_page(lang: Lang) -> Response {
    message(
        StatusCode::NOT_FOUND,
        lang,
        lang.t("没有这个页面", "No such page"),
        lang.t("这个地址没有内容。", "There is nothing at this address."),
    )
}

/// `/lang?to=…&back=…`'s query.
#[derive(serde::Deserialize)]
pub struct LangTo {
    to: String,
    back: Option<String>,
}

/// `/lang`: the language cookie, then back to a page of this site.
pub async fn set_lang(Query(q): Query<LangTo>) -> Response {
    let back = q
        .back
        .filter(|b| NAV.iter().any(|(p, _, _)| p == b) || b == "/welcome")
        .unwrap_or_else(|| "/".to_owned());
    keting_webkit::respond::set_lang(&q.to, &back)
}

/// `/r.css`.
pub async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

/// `/wake.js`.
pub async fn wake_js() -> Response {
    asset("text/javascript; charset=utf-8", WAKE_JS)
}

/// A form that is not one of ours (a field missing or not a number): 400.
pub fn bad_form(lang: Lang) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        lang,
        lang.t("没有办成", "Not done"),
        lang.t(
            "表单不完整，请返回重新操作。",
            "The form was incomplete: please go back and try again.",
        ),
    )
}

/// A refusal: the reason in the resident's words (409) with the way back
/// to `back`, or, for a failure, the site unavailable.
pub fn refused(
    lang: Lang,
    back: &str,
    e: &(impl crate::words::ResidentWords + std::fmt::Display),
) -> Response {
    let Some(words) = e.words(lang) else {
        return unavailable(lang, e);
    };
    let body = format!(
        "<p class=\"warn\">{}</p><p><a href=\"{}\">{}</a></p>",
        esc(&words),
        esc(back),
        lang.t("返回", "Back")
    );
    html_page(
        StatusCode::CONFLICT,
        frame(
            lang,
            "",
            lang.t("没有办成", "Not done"),
            None,
            &body,
            Extras::default(),
        ),
    )
}

/// `t` as the site's local `HH:MM`.
pub fn hhmm(cal: keting_core::calendar::SiteCalendar, t: keting_core::time::Timestamp) -> String {
    let l = cal.local(t);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

/// `t`'s day as a resident says it: today, tomorrow, or the date and weekday.
pub fn day_words(
    lang: Lang,
    cal: keting_core::calendar::SiteCalendar,
    t: keting_core::time::Timestamp,
    now: keting_core::time::Timestamp,
) -> String {
    let (day, today) = (cal.date_of(t), cal.date_of(now));
    if day == today {
        return lang.t("今天", "Today").to_owned();
    }
    if day == today + time::Duration::days(1) {
        return lang.t("明天", "Tomorrow").to_owned();
    }
    let wd = day.weekday().number_days_from_monday() as usize;
    match lang {
        Lang::Zh => {
            const ZH: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
            format!("{}月{}日 星期{}", u8::from(day.month()), day.day(), ZH[wd])
        }
        Lang::En => {
            const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            format!("{} {} {}", EN[wd], day.day(), day.month())
        }
    }
}

/// A notice named in the query after a change (`?done=…`), fixed words only.
pub fn done_notice(lang: Lang, done: Option<&str>) -> String {
    let words = match done {
        Some("booked") => lang.t("预约成功", "Booked"),
        Some("waiting") => lang.t(
            "已排队等候，有空位时会显示在这里",
            "On the waiting list: a freed place shows here",
        ),
        Some("cancelled") => lang.t("已取消", "Cancelled"),
        Some("signed") => lang.t("报名成功", "Signed up"),
        Some("off") => lang.t("已取消报名", "Your place is cancelled"),
        Some("ended") => lang.t("已解除绑定", "That phone is signed out"),
        _ => return String::new(),
    };
    format!("<p class=\"ok card\">{words}</p>")
}
