//! What every request passes: who it is (the bound phone's cookie), the
//! limits per source and per member, this origin and the phone's CSRF
//! token on every form, and the security headers on every answer.
//!
//! The cookie is `HttpOnly` and `SameSite=Lax`, not `Strict`: the pages
//! open from a WeChat menu or a QR code, another site's link, and a
//! `Strict` cookie would not come with that first visit. Every form is
//! still guarded by the CSRF token and the `Origin` check. It is `Secure`
//! when the operator's proxy says the visit came over HTTPS
//! (`X-Forwarded-Proto: https`).
//!
//! The source of a request is its peer's address, or the address the
//! proxy forwarded (`X-Forwarded-For`'s last) when the peer is this
//! machine (the proxy beside the centre).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use keting_desk::phones::{PhoneError, ResidentPhone};
use keting_webkit::Lang;
use keting_webkit::respond::{origin_ok, see_other};
use keting_webkit::session::cookie_value;

use crate::Residents;
use crate::page;
use crate::rate::RateLimit;

/// The bound phone's cookie.
pub const COOKIE: &str = "kt_resident";

/// How long a bound phone's cookie lasts in the browser (a year; the
/// resident ends it on the phones page, a new card ends it at once).
pub const COOKIE_DAYS: u32 = 365;

/// The limits of the residents' site.
#[derive(Debug)]
pub struct Limits {
    /// Requests per source.
    pub per_source: RateLimit,
    /// Tries of a binding link or QR per source (a wrong or used one too).
    pub binds: RateLimit,
    /// Changes (book, cancel, sign up, end a phone) per member.
    pub writes: RateLimit,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_source: RateLimit::new(600, Duration::from_secs(60)),
            binds: RateLimit::new(20, Duration::from_secs(600)),
            writes: RateLimit::new(30, Duration::from_secs(60)),
        }
    }
}

/// A request as the residents' site sees it: its headers, its source, its
/// language.
#[derive(Clone, Debug)]
pub struct Visit {
    /// The headers.
    pub headers: HeaderMap,
    /// The source (see the module's doc).
    pub source: String,
    /// The page's language.
    pub lang: Lang,
    /// The path asked for (no query).
    pub path: String,
}

#[axum::async_trait]
impl<S: Send + Sync> FromRequestParts<S> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(Visit {
            source: source(&parts.headers, peer),
            lang: Lang::of_request(&parts.headers),
            path: parts.uri.path().to_owned(),
            headers: parts.headers.clone(),
        })
    }
}

/// The source of a request (see the module's doc).
pub fn source(headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let Some(peer) = peer else {
        return "unknown".to_owned();
    };
    if peer.ip().is_loopback()
        && let Some(forwarded) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return forwarded.to_owned();
    }
    peer.ip().to_string()
}

/// The attributes of the phone's cookie for this visit.
pub fn cookie_attributes(headers: &HeaderMap) -> String {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    format!(
        "Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        u64::from(COOKIE_DAYS) * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

/// The address this visit reached the site at, as the phone sees it
/// (through the operator's proxy: its `Host` and `X-Forwarded-Proto`).
pub fn public_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']))
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    format!("{}://{}", if https { "https" } else { "http" }, host)
}

/// A request over a limit: 429, nothing done.
pub fn too_many(lang: Lang) -> Response {
    page::message(
        StatusCode::TOO_MANY_REQUESTS,
        lang,
        lang.t("请稍候", "Please wait"),
        lang.t(
            "操作太频繁了，请一分钟后再试。",
            "Too many tries: please try again in a minute.",
        ),
    )
}

/// Counts the visit against its source's limit.
pub fn within_limit(r: &Residents, visit: &Visit) -> Result<(), Box<Response>> {
    if r.limits().per_source.allow(&visit.source, Instant::now()) {
        Ok(())
    } else {
        Err(Box::new(too_many(visit.lang)))
    }
}

/// The resident whose phone made this visit; else the welcome page (and
/// a cookie that signs nobody in is cleared).
pub async fn resident(r: &Residents, visit: &Visit) -> Result<ResidentPhone, Box<Response>> {
    within_limit(r, visit)?;
    let token = visit
        .headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| cookie_value(c, COOKIE))
        .map(str::to_owned);
    let Some(token) = token else {
        // Inside WeChat with the official account: WeChat may know them.
        if let Some(ask) = crate::wechat::first_ask(r, visit, &visit.path) {
            return Err(Box::new(ask));
        }
        return Err(Box::new(see_other("/welcome")));
    };
    let now = now();
    match r
        .with_store(move |s| keting_desk::phones::signed_in(s, &token, now))
        .await
    {
        Ok(phone) => Ok(phone),
        Err(PhoneError::SignedOut) => {
            let mut out = see_other("/welcome");
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
            )) {
                out.headers_mut().insert(header::SET_COOKIE, v);
            }
            Err(Box::new(out))
        }
        Err(e) => Err(Box::new(page::unavailable(visit.lang, &e))),
    }
}

/// The resident of a form's POST, once its origin and CSRF token are this
/// phone's and the member is within their limit of changes.
pub async fn form(
    r: &Residents,
    visit: &Visit,
    csrf: &str,
) -> Result<ResidentPhone, Box<Response>> {
    let phone = resident(r, visit).await?;
    if !origin_ok(&visit.headers) || !keting_webkit::session::same_token(&phone.csrf, csrf) {
        return Err(Box::new(page::message(
            StatusCode::FORBIDDEN,
            visit.lang,
            visit.lang.t("页面已过期", "The page expired"),
            visit
                .lang
                .t("请返回重新操作。", "Please go back and try again."),
        )));
    }
    if !r
        .limits()
        .writes
        .allow(&phone.member.to_string(), Instant::now())
    {
        return Err(Box::new(too_many(visit.lang)));
    }
    Ok(phone)
}

/// A form's fields that carry the phone's CSRF token.
pub trait Csrf {
    /// The token the form came with.
    fn csrf(&self) -> &str;
}

/// A form from a signed-in phone, checked as every form is: its fields
/// read (else "the form was incomplete", 400), then [`form`]'s checks (the
/// phone, this origin, its token, the member's limit of changes).
#[derive(Debug)]
pub struct Checked<T> {
    /// The resident.
    pub me: ResidentPhone,
    /// The visit.
    pub visit: Visit,
    /// The form's fields.
    pub form: T,
}

#[axum::async_trait]
impl<T> axum::extract::FromRequest<Residents> for Checked<T>
where
    T: serde::de::DeserializeOwned + Csrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, r: &Residents) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Ok(visit) = Visit::from_request_parts(&mut parts, r).await;
        let req = axum::extract::Request::from_parts(parts, body);
        let Ok(axum::extract::Form(fields)) = axum::extract::Form::<T>::from_request(req, r).await
        else {
            return Err(page::bad_form(visit.lang));
        };
        let me = form(r, &visit, fields.csrf()).await.map_err(|out| *out)?;
        Ok(Self {
            me,
            visit,
            form: fields,
        })
    }
}

/// The wall clock (the project's one reading of it).
pub fn now() -> keting_core::time::Timestamp {
    keting_link::clock::now()
}

/// The security headers every answer carries: a content security policy
/// with no inline script and no framing, no sniffing, no referrer to
/// another site (a binding link's path never leaves in one), never cached.
pub async fn headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Not `no-referrer`: a browser then sends `Origin: null` on our own
    // forms, and the Origin check would refuse them.
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    r
}
