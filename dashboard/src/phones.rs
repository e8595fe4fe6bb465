//! A member's own phones on their member page: the phones bound to them
//! (each ended here), and a one-time sign-in link for a resident with no
//! kiosk nearby: the link as a QR to scan with their phone and as text,
//! and the number they must tap on it. The link is made by the phones
//! desk (valid 10 minutes, used once), shown once, never logged.

use std::fmt::Write;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::ids::MemberId;
use keting_core::staff::StaffAction;
use keting_desk::phones::PhoneError;
use keting_desk::records::InvitationKind;
use keting_desk::{self as desk, Actor};
use keting_link::clock;

use super::html::{self, Lang, Nav, esc};
use super::session::StaffSession;
use super::{Dashboard, bad_input, form_guard, html_page, see_other};

/// What the phones desk refused, in the page's words.
pub fn words(lang: Lang, e: &PhoneError) -> String {
    match e {
        PhoneError::UnknownMember(id) => match lang {
            Lang::Zh => format!("没有 {} 号会员", id.0),
            Lang::En => format!("There is no member {}", id.0),
        },
        PhoneError::Forbidden(f) if f.action == StaffAction::ManageStaff => lang
            .t(
                "工作人员的手机只能由主任绑定或解除",
                "Only a manager may bind or end a staff member's phone",
            )
            .into(),
        PhoneError::Forbidden(_) => lang
            .t("您的角色不能改会员信息", "Your role may not change members")
            .into(),
        PhoneError::NoSuchPhone => lang
            .t(
                "没有这部手机（可能已解除）",
                "No such phone (ended already?)",
            )
            .into(),
        other => {
            tracing::error!("phones desk: {other}");
            lang.t(
                "数据库暂时无法读写，请稍后再试",
                "The database cannot be used just now: try again shortly",
            )
            .into()
        }
    }
}

/// The member page's phones section, for a role that may change members.
pub async fn section(d: &Dashboard, who: &StaffSession, lang: Lang, id: MemberId) -> String {
    if !who.role.may(StaffAction::Members) {
        return String::new();
    }
    let actor = Actor::Staff(who.member);
    let cal = d.site().calendar;
    let listed = d
        .with_store(move |s| desk::phones::list(s, actor, id))
        .await;
    let path = format!("/members/{}", id.0);
    let csrf = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&who.csrf)
    );
    let mut h = format!(
        "<section id=\"phones\"><h2>{}</h2>",
        lang.t("居民自己的手机", "The resident's own phones")
    );
    match listed {
        Err(e) => h.push_str(&html::notice(false, &words(lang, &e))),
        Ok(phones) if phones.is_empty() => {
            let _ = write!(
                h,
                "<p>{}</p>",
                lang.t("还没有绑定手机。", "No phone bound yet.")
            );
        }
        Ok(phones) => {
            h.push_str("<ul>");
            for p in phones {
                let l = cal.local(p.bound);
                let _ = write!(
                    h,
                    "<li>{} · {} {:04}-{:02}-{:02} <form method=\"post\" action=\"{path}/phone-end\" class=\"inline\">{csrf}\
                     <input type=\"hidden\" name=\"phone\" value=\"{}\"><button>{}</button></form></li>",
                    esc(&p.label),
                    lang.t("绑定于", "bound"),
                    l.year(),
                    u8::from(l.month()),
                    l.day(),
                    p.id,
                    lang.t("解除", "End")
                );
            }
            h.push_str("</ul>");
        }
    }
    if d.resident_url().is_some() {
        let _ = write!(
            h,
            "<form method=\"post\" action=\"{path}/phone-link\">{csrf}<button>{}</button></form>",
            lang.t("生成一次性绑定链接", "Make a one-time sign-in link")
        );
    } else {
        let _ = write!(
            h,
            "<p>{}</p>",
            lang.t(
                "居民页面未开启（keting-centre --resident-http）。",
                "The residents' pages are not served (keting-centre --resident-http)."
            )
        );
    }
    h.push_str("</section>");
    h
}

/// A form naming only its token.
#[derive(serde::Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    csrf: String,
}

fn guard(
    d: &Dashboard,
    headers: &HeaderMap,
    csrf: &str,
    id: &str,
) -> Result<(StaffSession, Lang, MemberId), Box<Response>> {
    let may = (
        StaffAction::Members,
        ("您的角色不能改会员信息", "Your role may not change members"),
    );
    let (who, lang) = form_guard(d, headers, csrf, Some(may))?;
    match id.trim().parse::<u32>() {
        Ok(n) => Ok((who, lang, MemberId(n))),
        Err(_) => Err(Box::new(bad_input(
            lang,
            Some(&who),
            lang.t("会员号不对", "Not a member number"),
        ))),
    }
}

/// `POST /members/ID/phone-link`: the link, its QR and the number, once.
pub async fn link(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> Response {
    let (who, lang, id) = match guard(&d, &headers, &f.csrf, &id) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let Some(base) = d.resident_url() else {
        return bad_input(
            lang,
            Some(&who),
            lang.t("居民页面未开启", "The residents' pages are not served"),
        );
    };
    let actor = Actor::Staff(who.member);
    let made = d
        .with_store(move |s| desk::phones::invite(s, actor, id, InvitationKind::Link, clock::now()))
        .await;
    let invited = match made {
        Ok(i) => i,
        Err(e) => return bad_input(lang, Some(&who), &words(lang, &e)),
    };
    let link = format!("{base}{}", invited.path);
    let qr = desk::qr_image::svg(&link, lang.t("绑定链接", "Sign-in link")).unwrap_or_default();
    let minutes = desk::phones::LINK_VALID.as_secs() / 60;
    let body = format!(
        "<h1>{}</h1><div class=\"grid\"><div style=\"width:18em\">{qr}</div><div>\
         <p>{}</p><p class=\"big\" id=\"phone-number\">{}</p><p>{}</p><p><code id=\"phone-link\">{}</code></p>\
         <p><a href=\"/members/{}\">{}</a></p></div></div>",
        lang.t("绑定居民的手机", "Bind the resident's phone"),
        lang.t("请居民用手机扫这个码（或打开下面的链接），然后在手机上点这个数字：", "The resident scans this code with their phone (or opens the link below), then taps this number on it:"),
        invited.confirm,
        match lang {
            Lang::Zh => format!("链接{minutes}分钟内有效，只能用一次。请不要发给别人。"),
            Lang::En => format!("The link works once, within {minutes} minutes. Give it to no one else."),
        },
        esc(&link),
        id.0,
        lang.t("返回会员", "Back to the member"),
    );
    html_page(
        StatusCode::OK,
        html::page(
            lang,
            lang.t("绑定手机", "Bind a phone"),
            Some(&who),
            Nav::Members,
            &body,
        ),
    )
}

/// An end form.
#[derive(serde::Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    phone: i64,
}

/// `POST /members/ID/phone-end`: one of the member's phones ended.
pub async fn end(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<EndForm>,
) -> Response {
    let (who, lang, id) = match guard(&d, &headers, &f.csrf, &id) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let actor = Actor::Staff(who.member);
    let phone = f.phone;
    match d
        .with_store(move |s| desk::phones::end(s, actor, id, phone, clock::now()))
        .await
    {
        Ok(()) => see_other(&format!("/members/{}#phones", id.0)),
        Err(e) => bad_input(lang, Some(&who), &words(lang, &e)),
    }
}
