//! Binding a phone: the one-time link or kiosk QR opens `/bind/SECRET`,
//! which shows whose it is (the name masked) and three numbers; the
//! resident taps the one the kiosk (or the staff member) shows, and the
//! phone is bound: its cookie is set and the pass page opens. Tries are
//! limited per source; any unusable link gets the same answer. The secret
//! is in the path only once and no other site is sent a referrer.
//!
//! `/welcome` is the page for a phone not signed in: how to bind one,
//! nothing about who exists.

use std::time::Instant;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use keting_webkit::html::esc;
use keting_webkit::respond::{html_page, origin_ok, see_other};

use crate::Residents;
use crate::guard::{self, COOKIE, Visit};
use crate::page::{self, Extras};
use crate::words::ResidentWords;

/// `/welcome`.
pub async fn welcome(State(r): State<Residents>, visit: Visit) -> Response {
    if let Err(out) = guard::within_limit(&r, &visit) {
        return *out;
    }
    let lang = visit.lang;
    let body = format!(
        "<p>{}</p><ol><li>{}</li><li>{}</li><li>{}</li></ol><p class=\"muted\">{}</p>",
        lang.t(
            "这是您自己的服务页面：我的码、预约、活动和积分。第一次使用，请先绑定手机：",
            "Your own pages: your pass, bookings, activities and points. To begin, bind this phone:"
        ),
        lang.t(
            "在自助机上刷您的卡，点“绑定手机”。",
            "Scan your pass at the kiosk and tap “Bind my phone”."
        ),
        lang.t(
            "用这部手机扫自助机屏幕上的二维码。",
            "Scan the QR code on the kiosk's screen with this phone."
        ),
        lang.t(
            "在手机上点和自助机上一样的数字。",
            "Tap the number on your phone that the kiosk shows."
        ),
        lang.t(
            "没有自助机？请服务台工作人员帮您绑定。",
            "No kiosk nearby? The front desk can help you bind it."
        ),
    );
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("欢迎", "Welcome"),
            None,
            &body,
            Extras::default(),
        ),
    )
}

fn bind_tried(r: &Residents, visit: &Visit) -> Result<(), Box<Response>> {
    guard::within_limit(r, visit)?;
    if r.limits().binds.allow(&visit.source, Instant::now()) {
        Ok(())
    } else {
        Err(Box::new(guard::too_many(visit.lang)))
    }
}

/// `GET /bind/SECRET`: whose, and the numbers to pick from.
pub async fn offer(
    State(r): State<Residents>,
    visit: Visit,
    Path(secret): Path<String>,
) -> Response {
    if let Err(out) = bind_tried(&r, &visit) {
        return *out;
    }
    let lang = visit.lang;
    // Inside WeChat, ask WeChat who this is first, so the binding binds
    // the account too (the secret stays on this server meanwhile).
    if let Some(ask) = crate::wechat::first_ask(&r, &visit, &visit.path) {
        return ask;
    }
    let now = guard::now();
    let s = secret.clone();
    let opened = r
        .with_store(move |store| keting_desk::phones::open(store, &s, now))
        .await;
    let opened = match opened {
        Ok(o) => o,
        Err(e) => return page::refused(lang, "/welcome", &e),
    };
    let mut buttons = String::new();
    for n in opened.choices {
        buttons.push_str(&format!(
            "<button name=\"picked\" value=\"{n}\">{n}</button>"
        ));
    }
    let body = format!(
        "<p>{}</p><p class=\"big\">{}</p><p>{}</p>\
         <form method=\"post\" action=\"/bind/{}\" class=\"choices\">{buttons}</form>\
         <p class=\"muted\">{}</p>",
        lang.t("把这部手机绑定到：", "Bind this phone to:"),
        esc(&opened.masked_name),
        lang.t(
            "请点和自助机屏幕（或工作人员告诉您的）一样的数字：",
            "Tap the number the kiosk's screen shows (or the staff member tells you):"
        ),
        esc(&secret),
        lang.t(
            "不是您本人？请不要点，关掉这个页面。",
            "Not you? Do not tap: close this page."
        ),
    );
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("绑定手机", "Bind this phone"),
            None,
            &body,
            Extras::default(),
        ),
    )
}

/// The number tapped.
#[derive(serde::Deserialize)]
pub struct Picked {
    picked: u8,
}

/// A short name for the phone from its browser, for the resident's list.
fn label(visit: &Visit) -> String {
    let ua = visit
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let device = if ua.contains("iPhone") {
        "iPhone"
    } else if ua.contains("iPad") {
        "iPad"
    } else if ua.contains("Android") {
        "Android"
    } else {
        "phone"
    };
    if ua.contains("MicroMessenger") {
        format!("{device} · WeChat")
    } else {
        device.to_owned()
    }
}

/// `POST /bind/SECRET`: binds the phone if the number is right.
pub async fn confirm(
    State(r): State<Residents>,
    visit: Visit,
    Path(secret): Path<String>,
    form: Option<Form<Picked>>,
) -> Response {
    if let Err(out) = bind_tried(&r, &visit) {
        return *out;
    }
    let lang = visit.lang;
    if !origin_ok(&visit.headers) {
        return page::message(
            StatusCode::FORBIDDEN,
            lang,
            lang.t("页面已过期", "The page expired"),
            lang.t("请重新扫码。", "Please scan the code again."),
        );
    }
    let Some(Form(picked)) = form else {
        return see_other(&format!("/bind/{secret}"));
    };
    let label = label(&visit);
    let now = guard::now();
    let openid = r.wechat().and_then(|wx| wx.unbound_openid(&visit.headers));
    let bound = r
        .with_store(move |s| {
            keting_desk::phones::bind_with_openid(
                s,
                &secret,
                picked.picked,
                &label,
                openid.as_deref(),
                now,
            )
        })
        .await;
    match bound {
        Ok(b) => {
            let mut out = see_other("/");
            let cookie = format!(
                "{COOKIE}={}; {}",
                b.token,
                guard::cookie_attributes(&visit.headers)
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                out.headers_mut().insert(header::SET_COOKIE, v);
            }
            out
        }
        Err(e) => {
            if e.words(lang).is_some() {
                tracing::info!("a phone binding refused: {e}");
            }
            page::refused(lang, "/welcome", &e)
        }
    }
}
