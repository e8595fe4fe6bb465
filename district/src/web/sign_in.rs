//! Signing in to the district dashboard with a name and password (five
//! wrong ones lock the name for 15 minutes; the password is never logged;
//! an address with 3 wrong tries in 15 minutes waits before its next is
//! read, so another computer cannot lock a name: `keting_webkit::throttle`),
//! signing out, and the language cookie.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::html::esc;
use keting_webkit::respond::{html_page, origin_ok, see_other};
use keting_webkit::session::cookie_value;

use super::frame::{self, Nav};
use super::{DistrictDashboard, SESSION_COOKIE, lang};
use crate::users::{self, SignIn};

fn form_page(lang: Lang, name: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>{title}</h1>{error}<form class=\"sign-in\" method=\"post\" action=\"/sign-in\">\
         <label for=\"name\">{name_label}</label>\
         <input id=\"name\" name=\"name\" maxlength=\"64\" autocomplete=\"username\" value=\"{name}\" required autofocus>\
         <label for=\"password\">{password}</label>\
         <input id=\"password\" name=\"password\" type=\"password\" maxlength=\"128\" autocomplete=\"current-password\" required>\
         <p><button>{go}</button></p></form>",
        title = lang.t("区级看板登录", "District sign-in"),
        name_label = lang.t("用户名", "Name"),
        password = lang.t("密码", "Password"),
        go = lang.t("登录", "Sign in"),
        name = esc(name),
    );
    frame::page(lang, lang.t("登录", "Sign in"), None, Nav::None, &body)
}

/// `GET /sign-in`.
pub async fn form(State(d): State<DistrictDashboard>, headers: HeaderMap) -> Response {
    if d.session(&headers).is_some() {
        return see_other("/");
    }
    html_page(StatusCode::OK, form_page(lang(&headers), "", None))
}

/// The sign-in form.
#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// `POST /sign-in`.
pub async fn submit(
    State(d): State<DistrictDashboard>,
    peer: Option<ConnectInfo<SocketAddr>>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let lang = lang(&headers);
    if !origin_ok(&headers) {
        return frame::not_done(
            StatusCode::FORBIDDEN,
            lang,
            None,
            lang.t(
                "来源不符：请在本页面登录",
                "Wrong origin: sign in on this page",
            ),
        );
    }
    let name = f.name.trim();
    let shown = if name.chars().count() > 64 { "" } else { name };
    let again = |status, why: &str| html_page(status, form_page(lang, shown, Some(why)));
    if name.chars().count() > 64 || f.password.chars().count() > 128 {
        return again(
            StatusCode::BAD_REQUEST,
            lang.t(
                "用户名最多 64 字，密码最多 128 字",
                "A name has at most 64 characters, a password 128",
            ),
        );
    }
    let source = peer.map(|p| p.0.ip());
    let now_ms = keting_link::clock::now().as_unix_millis();
    if let Some(until) = source.and_then(|ip| d.sources.closed(ip, now_ms)) {
        let t = super::when(until, d.offset_minutes);
        let why = match lang {
            Lang::Zh => format!("这台电脑输错太多次，请 {t} 后再试（其他电脑不受影响）"),
            Lang::En => format!(
                "Too many wrong tries from this computer: try again after {t} (other computers are not affected)"
            ),
        };
        return again(StatusCode::TOO_MANY_REQUESTS, &why);
    }
    let result = {
        let db = d.db.lock().await;
        users::sign_in(
            &db,
            name,
            &f.password,
            keting_link::clock::now().as_unix_millis(),
        )
        .await
    };
    if let (Some(ip), Ok(SignIn::Wrong | SignIn::Locked(_))) = (source, &result) {
        d.sources.failed(ip, now_ms);
    }
    match result {
        Ok(SignIn::Welcome(user)) => {
            if let Some(ip) = source {
                d.sources.ok(ip);
            }
            let token = d
                .sessions
                .lock()
                .ok()
                .and_then(|mut s| s.begin(user.clone()));
            let Some(token) = token else {
                return again(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
            };
            tracing::info!(
                user = user.name,
                role = user.role.as_str(),
                "district dashboard sign-in"
            );
            let mut r = see_other("/");
            if let Ok(c) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={token}; {}",
                d.cookie_attributes()
            )) {
                r.headers_mut().insert(header::SET_COOKIE, c);
            }
            r
        }
        Ok(SignIn::Wrong) => {
            tracing::warn!(user = name, "district dashboard: a wrong name or password");
            again(
                StatusCode::UNAUTHORIZED,
                lang.t("用户名或密码错误", "Wrong name or password"),
            )
        }
        Ok(SignIn::Locked(until)) => {
            let t = super::when(until, d.offset_minutes);
            let why = match lang {
                Lang::Zh => format!("错误次数过多，已锁定至 {t}"),
                Lang::En => format!("Too many wrong passwords: locked until {t}"),
            };
            again(StatusCode::TOO_MANY_REQUESTS, &why)
        }
        Err(e) => {
            tracing::error!("district sign-in: {e}");
            again(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.t("数据库出错，请稍后再试", "Database error: try again"),
            )
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
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Form(f): Form<SignOutForm>,
) -> Response {
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    if !origin_ok(&headers) || !who.csrf_ok(&f.csrf) {
        return frame::not_done(StatusCode::FORBIDDEN, lang(&headers), Some(&who), "CSRF");
    }
    if let Some(token) = headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| cookie_value(c, SESSION_COOKIE))
        && let Ok(mut s) = d.sessions.lock()
    {
        s.end(token);
    }
    let mut r = see_other("/sign-in");
    if let Ok(c) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; {}; Max-Age=0",
        d.cookie_attributes()
    )) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

/// `?to=zh|en`.
#[derive(serde::Deserialize)]
pub struct LangQuery {
    to: String,
}

/// `GET /lang?to=en`: the language cookie, back to the start page.
pub async fn language(Query(q): Query<LangQuery>) -> Response {
    let to = if q.to == "en" { "en" } else { "zh" };
    let mut r = see_other("/");
    if let Ok(c) = HeaderValue::from_str(&format!(
        "lang={to}; Path=/; SameSite=Strict; Max-Age=31536000"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}
