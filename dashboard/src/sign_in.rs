//! Signing in with the staff card's number and PIN, and out. The PIN's
//! rules are the staff page's (`desk::staff`): six digits, 5 wrong tries
//! lock the card for 15 minutes, every try audited, the PIN never. An
//! observer signs in here too, to look. One address that keeps failing
//! (3 wrong tries in 15 minutes, fewer than lock a card) waits 15 minutes
//! before its next try is even read, so another computer on the network
//! cannot lock anyone's card; the kiosk's staff page counts apart.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use keting_core::ids::MemberId;

use super::html::{self, Lang, Nav, esc};
use super::session::COOKIE;
use super::{Dashboard, form_guard, html_page, lang, origin_ok, refused, see_other};
use keting_desk::staff::{self, SignInError};
use keting_link::clock;

fn form_page(lang: Lang, member: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>{title}</h1>{error}<div class=\"grid\"><section><h2>{by_card}</h2><form class=\"sign-in\" method=\"post\" action=\"/sign-in\">\
         <label for=\"member\">{card}</label>\
         <input id=\"member\" name=\"member\" inputmode=\"numeric\" maxlength=\"10\" autocomplete=\"username\" value=\"{member}\" required autofocus>\
         <label for=\"pin\">{pin}</label>\
         <input id=\"pin\" name=\"pin\" type=\"password\" inputmode=\"numeric\" maxlength=\"6\" autocomplete=\"current-password\" required>\
         <p><button>{go}</button></p></form></section>\
         <section><h2>{or}</h2><form class=\"sign-in\" method=\"post\" action=\"/sign-in\">\
         <label for=\"name\">{name}</label>\
         <input id=\"name\" name=\"name\" maxlength=\"40\" autocomplete=\"username\" required>\
         <label for=\"password\">{password}</label>\
         <input id=\"password\" name=\"password\" type=\"password\" maxlength=\"128\" autocomplete=\"current-password\" required>\
         <p><button>{go}</button></p></form></section></div>",
        by_card = lang.t("用工作证", "By staff card"),
        or = lang.t("或用姓名和密码", "Or by name and password"),
        name = lang.t("姓名", "Name"),
        password = lang.t("密码", "Password"),
        title = lang.t("工作人员登录", "Staff sign-in"),
        card = lang.t("工作证号（会员号）", "Staff card number (member number)"),
        pin = lang.t("六位密码（PIN）", "Six-digit PIN"),
        go = lang.t("登录", "Sign in"),
        member = esc(member),
    );
    html::page(lang, lang.t("登录", "Sign in"), None, Nav::None, &body)
}

/// `GET /sign-in`.
pub async fn form(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    if d.session(&headers).is_some() {
        return see_other("/");
    }
    html_page(StatusCode::OK, form_page(lang(&headers), "", None))
}

/// Either sign-in form: card number and PIN, or name and password.
#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    member: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// `POST /sign-in`.
pub async fn submit(
    State(d): State<Dashboard>,
    peer: Option<ConnectInfo<SocketAddr>>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let lang = lang(&headers);
    if !origin_ok(&headers) {
        return refused(
            lang,
            None,
            lang.t(
                "来源不符：请在本页面登录",
                "Wrong origin: sign in on this page",
            ),
        );
    }
    let shown = if f.member.chars().count() > 10 {
        ""
    } else {
        f.member.trim()
    };
    let again = |status, why: &str| html_page(status, form_page(lang, shown, Some(why)));
    let by_password = !f.name.trim().is_empty();
    if by_password && (f.name.chars().count() > 40 || f.password.chars().count() > 128) {
        return again(
            StatusCode::BAD_REQUEST,
            lang.t(
                "姓名最多 40 字，密码最多 128 字",
                "A name has at most 40 characters, a password 128",
            ),
        );
    }
    let parsed = f.member.trim().parse::<u32>();
    let Ok(member) = parsed.or(if by_password { Ok(0) } else { Err(()) }) else {
        return again(
            StatusCode::BAD_REQUEST,
            lang.t(
                "工作证号是数字，见工作证",
                "The card number is a number: see the card",
            ),
        );
    };
    if f.pin.len() > 6 {
        return again(
            StatusCode::BAD_REQUEST,
            lang.t("密码是六位数字", "The PIN is six digits"),
        );
    }
    // One address that keeps failing waits, before any card is locked.
    let source = peer.map(|p| p.0.ip());
    let now_ms = clock::now().as_unix_millis();
    if let Some(until_ms) = source.and_then(|ip| d.sources().closed(ip, now_ms)) {
        let t = d
            .site()
            .calendar
            .local(keting_core::time::Timestamp::from_unix_millis(until_ms));
        let why = match lang {
            Lang::Zh => format!(
                "这台电脑输错太多次，请 {:02}:{:02} 后再试（其他电脑不受影响）",
                t.hour(),
                t.minute()
            ),
            Lang::En => format!(
                "Too many wrong tries from this computer: try again after {:02}:{:02} (other computers are not affected)",
                t.hour(),
                t.minute()
            ),
        };
        return again(StatusCode::TOO_MANY_REQUESTS, &why);
    }
    let (pin, name, password) = (f.pin.clone(), f.name.clone(), f.password.clone());
    let result = d
        .with_store(move |store| {
            if by_password {
                staff::sign_in_with_password(store, &name, &password, clock::now())
            } else {
                staff::sign_in_to_dashboard(store, MemberId(member), &pin, clock::now())
            }
        })
        .await;
    match result {
        Ok(signed) => {
            if let Some(ip) = source {
                d.sources().ok(ip);
            }
            let Some(token) = d.sessions().begin(super::session::StaffUser {
                member: signed.member,
                name: signed.name,
                role: signed.role,
            }) else {
                return again(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
            };
            tracing::info!(
                member = signed.member.0,
                role = signed.role.as_str(),
                "dashboard sign-in"
            );
            let mut r = see_other("/");
            if let Ok(c) =
                HeaderValue::from_str(&format!("{COOKIE}={token}; {}", d.cookie_attributes()))
            {
                r.headers_mut().insert(header::SET_COOKIE, c);
            }
            r
        }
        Err(e) => {
            if let Some(ip) = source
                && !matches!(e, SignInError::Store(_))
            {
                d.sources().failed(ip, now_ms);
            }
            // Nobody with a secret here (no such name or card, no staff
            // role, none set): counted like wrong tries of a real one, so
            // that the fifth locks it as it would lock a real one.
            let e = match e {
                SignInError::NotOneByName
                | SignInError::NoPassword
                | SignInError::NotStaff
                | SignInError::NoPin => {
                    let key = if by_password {
                        format!("name:{}", f.name.trim())
                    } else {
                        format!("card:{member}")
                    };
                    d.nobody_tried(&key, clock::now().as_unix_millis())
                        .map_or(e, |until_ms| SignInError::Locked { until_ms })
                }
                e => e,
            };
            // Who exists, who has a password, who is staff: the same answer
            // for each, so the page names nobody (the desk makes the time
            // the same too).
            let nobody = lang.t(
                "姓名、工作证号或密码不对（连续错 5 次将锁定 15 分钟）",
                "The name, card number or password is not right (5 wrong in a row lock it for 15 minutes)",
            );
            let why = match &e {
                SignInError::NotOneByName
                | SignInError::NoPassword
                | SignInError::NotStaff
                | SignInError::NoPin
                | SignInError::Wrong { .. } => nobody.to_owned(),
                SignInError::PinFormat(_) => {
                    lang.t("密码是六位数字", "The PIN is six digits").to_owned()
                }
                SignInError::Locked { until_ms } => {
                    let t = d
                        .site()
                        .calendar
                        .local(keting_core::time::Timestamp::from_unix_millis(*until_ms));
                    match lang {
                        Lang::Zh => {
                            format!("错误次数过多，已锁定至 {:02}:{:02}", t.hour(), t.minute())
                        }
                        Lang::En => format!(
                            "Too many wrong PINs: locked until {:02}:{:02}",
                            t.hour(),
                            t.minute()
                        ),
                    }
                }
                SignInError::Store(e) => {
                    tracing::error!("dashboard sign-in: {e}");
                    lang.t("数据库出错，请稍后再试", "Database error: try again")
                        .to_owned()
                }
            };
            let status = match e {
                SignInError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
                SignInError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNAUTHORIZED,
            };
            again(status, &why)
        }
    }
}

/// The sign-out form.
#[derive(serde::Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

/// `POST /sign-out`.
pub async fn sign_out(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<SignOutForm>,
) -> Response {
    if let Err(r) = form_guard(&d, &headers, &f.csrf, None) {
        return *r;
    }
    if let Some(token) = headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| super::session::cookie_value(c, COOKIE))
    {
        d.sessions().end(token);
    }
    let mut r = see_other("/sign-in");
    if let Ok(c) =
        HeaderValue::from_str(&format!("{COOKIE}=; {}; Max-Age=0", d.cookie_attributes()))
    {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}
