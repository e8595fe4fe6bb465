//! My pass, live: a large black-on-white QR of a live pass (made now,
//! taken for 90 s by the kiosk and the doors), the page reloading itself
//! every 30 s with a new one and keeping the screen on where the browser
//! allows. A screenshot is worthless a minute later; the printed pass
//! still works.
//!
//! Under it, the six-character fallback code that changes with it, for a
//! phone whose screen a scanner cannot read: staff type it at the kiosk.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keting_core::pass::LIVE_PASS_EVERY;
use keting_webkit::html::esc;
use keting_webkit::respond::html_page;

use crate::Residents;
use crate::guard::{self, Visit};
use crate::page::{self, Extras};

/// `/`.
pub async fn page(State(r): State<Residents>, visit: Visit) -> Response {
    let me = match guard::resident(&r, &visit).await {
        Ok(me) => me,
        Err(out) => return *out,
    };
    let lang = visit.lang;
    let now = guard::now();
    let live = r.issuer().issue_live(me.member, me.epoch, now);
    let qr = match keting_desk::qr_image::svg(&live, lang.t("我的码", "My pass")) {
        Ok(svg) => svg,
        Err(e) => return page::unavailable(lang, &e),
    };
    let code = r.issuer().fallback_codes().code(me.member, me.epoch, now);
    let body = format!(
        "<p class=\"big\">{}</p>{qr}<p>{}</p><p>{}<br><span class=\"code\" id=\"fallback-code\">{}</span></p><p class=\"muted\">{}</p>",
        esc(&me.name),
        lang.t(
            "在自助机或门禁上扫这个码。码每30秒自动更新，截图无效。",
            "Show this code to the kiosk or the door's scanner. It changes every 30 seconds: a screenshot does not work.",
        ),
        lang.t("扫不出来？请工作人员在自助机上输入：", "Will it not scan? Staff can type this at the kiosk:"),
        code,
        match lang {
            keting_webkit::Lang::Zh => format!("更新于 {}。纸质卡照常可用。", page::hhmm(r.site().calendar, now)),
            keting_webkit::Lang::En => format!("Made at {}. Your printed pass still works.", page::hhmm(r.site().calendar, now)),
        },
    );
    let extras = Extras {
        refresh_seconds: Some(u32::try_from(LIVE_PASS_EVERY.as_secs()).unwrap_or(30)),
        wake: true,
        nav_below: true,
    };
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("我的码", "My pass"),
            Some("/"),
            &body,
            extras,
        ),
    )
}
