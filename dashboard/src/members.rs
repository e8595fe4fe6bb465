//! Members: search by name or number, add a member, a lost card's new
//! pass (the old one refused from then on), each shown as a QR code to
//! print, and a member's personal data deleted on request. Adding and reissuing need a role that may change members
//! (`StaffAction::Members`); the desk checks it again and audits it with
//! the staff member's name. A bad value (an empty or 10 KB name, markup in
//! a name, a phone tail that is not 4 digits) is refused with the reason
//! in the form, and nothing is written.

use std::fmt::Write;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use keting_core::ids::MemberId;
use keting_core::staff::StaffAction;

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::{Dashboard, form_guard, html_page, lang, refused, see_other};
use keting_desk::records::{Member, NewMember, Role};
use keting_desk::{self as desk, Actor};
use keting_link::clock;

/// The search.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

fn matches(m: &Member, q: &str) -> bool {
    q.is_empty()
        || m.name.contains(q)
        || m.id.0.to_string() == q
        || m.phone_tail.as_deref() == Some(q)
}

/// A member's roles in words.
pub fn role_words(lang: Lang, roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| match (r, lang) {
            (Role::Resident, Lang::Zh) => "居民",
            (Role::Volunteer, Lang::Zh) => "志愿者",
            (Role::Gym, Lang::Zh) => "健身",
            (Role::Staff, Lang::Zh) => "工作人员",
            (Role::Resident, Lang::En) => "resident",
            (Role::Volunteer, Lang::En) => "volunteer",
            (Role::Gym, Lang::En) => "gym",
            (Role::Staff, Lang::En) => "staff",
        })
        .collect::<Vec<_>>()
        .join(lang.t("、", ", "))
}

fn add_form(who: &StaffSession, lang: Lang, name: &str, tail: &str, error: Option<&str>) -> String {
    let mut h = format!(
        "<section id=\"add\"><h2>{}</h2>",
        lang.t("登记新会员", "Add a member")
    );
    if let Some(e) = error {
        let _ = write!(h, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    let _ = write!(
        h,
        "<form method=\"post\" action=\"/members/add\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>{} <input name=\"name\" maxlength=\"40\" value=\"{}\" required></label> \
         <label>{} <input name=\"phone_tail\" maxlength=\"4\" size=\"5\" inputmode=\"numeric\" value=\"{}\"></label> \
         <label><input type=\"checkbox\" name=\"volunteer\" value=\"1\"> {}</label> \
         <button>{}</button></form></section>",
        esc(&who.csrf),
        lang.t("姓名", "Name"),
        esc(&name.chars().take(40).collect::<String>()),
        lang.t("手机尾号（可不填）", "Phone's last 4 digits (optional)"),
        esc(&tail.chars().take(4).collect::<String>()),
        lang.t("志愿者", "Volunteer"),
        lang.t("登记并出码", "Add and print the pass"),
    );
    h
}

async fn list_page(
    d: &Dashboard,
    who: &StaffSession,
    lang: Lang,
    q: &str,
    form: String,
    status: StatusCode,
) -> Response {
    let members = match d.with_store(|store| desk::members::list(store)).await {
        Ok(m) => m,
        Err(e) => return refused(lang, Some(who), &e.words(lang)),
    };
    let may_change = who.role.may(StaffAction::Members);
    let shown: Vec<&Member> = members.iter().filter(|m| matches(m, q)).take(200).collect();
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|m| {
            let mut r = vec![
                format!("<a href=\"/members/{0}\">{0}</a>", m.id.0),
                esc(&m.name),
                esc(m.phone_tail.as_deref().unwrap_or("")),
                role_words(lang, &m.roles),
            ];
            if may_change {
                r.push(format!(
                    "<form method=\"post\" action=\"/members/reissue\" class=\"inline\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"id\" value=\"{}\">\
                     <button class=\"reissue\" onclick=\"return confirm('{}')\">{}</button></form> \
                     <form method=\"post\" action=\"/members/erase\" class=\"inline\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"id\" value=\"{}\">\
                     <button class=\"erase\" onclick=\"return confirm('{}')\">{}</button></form>",
                    esc(&who.csrf),
                    m.id.0,
                    lang.t("旧卡将失效，确定补卡？", "The old card stops working. Reissue?"),
                    lang.t("挂失补卡", "Lost card: new pass"),
                    esc(&who.csrf),
                    m.id.0,
                    lang.t(
                        "将删除此人的姓名和手机尾号，卡也失效。到访和积分记录只保留会员号。确定？",
                        "This deletes the name and phone digits, and the card stops working; visits and points keep the number only. Delete?"
                    ),
                    lang.t("删除个人信息", "Delete personal data")
                ));
            }
            r
        })
        .collect();
    let mut head = vec![
        lang.t("会员号", "Number"),
        lang.t("姓名", "Name"),
        lang.t("手机尾号", "Phone tail"),
        lang.t("身份", "Roles"),
    ];
    if may_change {
        head.push(lang.t("操作", "Action"));
    }
    let body = format!(
        "<h1>{}</h1><form method=\"get\" action=\"/members\"><label>{} <input name=\"q\" maxlength=\"40\" value=\"{}\"></label> <button>{}</button></form>\
         <p>{}</p>{}{}",
        lang.t("会员", "Members"),
        lang.t("姓名、会员号或手机尾号", "Name, number or phone tail"),
        esc(q),
        lang.t("查找", "Search"),
        match lang {
            Lang::Zh => format!("共 {} 人，显示 {} 人", members.len(), shown.len()),
            Lang::En => format!("{} members, {} shown", members.len(), shown.len()),
        },
        html::table("members", &head, &rows),
        if may_change { form } else { String::new() },
    );
    html_page(
        status,
        html::page(
            lang,
            lang.t("会员", "Members"),
            Some(who),
            Nav::Members,
            &body,
        ),
    )
}

/// `GET /members`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let q: String = q.q.unwrap_or_default().trim().chars().take(40).collect();
    let form = add_form(&who, lang, "", "", None);
    list_page(&d, &who, lang, &q, form, StatusCode::OK).await
}

/// The new member form.
#[derive(serde::Deserialize)]
pub struct AddForm {
    csrf: String,
    name: String,
    #[serde(default)]
    phone_tail: String,
    #[serde(default)]
    volunteer: Option<String>,
}

fn pass_page(
    d: &Dashboard,
    who: &StaffSession,
    lang: Lang,
    title: &str,
    m: &Member,
    pass: &str,
) -> Response {
    let qr = match keting_desk::qr_image::png_bytes(pass) {
        Ok(png) => format!(
            "<img class=\"qr\" alt=\"QR\" width=\"300\" height=\"300\" src=\"data:image/png;base64,{}\">",
            base64::engine::general_purpose::STANDARD.encode(png)
        ),
        Err(e) => format!("<p class=\"error\">{}</p>", esc(&e.words(lang))),
    };
    let _ = d;
    let body = format!(
        "<h1>{}</h1><p class=\"big\">{} · {}</p>{qr}<p>{}</p><p><a href=\"/members\">{}</a></p>",
        esc(title),
        m.id.0,
        esc(&m.name),
        lang.t("请打印此码交给会员（浏览器菜单：打印）；旧卡从现在起无效。", "Print this code for the member (the browser's Print); any older card is refused from now on."),
        lang.t("返回会员", "Back to members"),
    );
    html_page(
        StatusCode::OK,
        html::page(lang, title, Some(who), Nav::Members, &body),
    )
}

/// `POST /members/add`.
pub async fn add(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<AddForm>,
) -> Response {
    let may = Some((
        StaffAction::Members,
        ("您的角色不能登记会员", "Your role may not add members"),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let tail = f.phone_tail.trim();
    let mut roles = vec![Role::Resident];
    if f.volunteer.is_some() {
        roles.push(Role::Volunteer);
    }
    let new = match NewMember::new(&f.name, (!tail.is_empty()).then_some(tail), &roles) {
        Ok(n) => n,
        Err(e) => {
            let form = add_form(&who, lang, &f.name, tail, Some(&e.words(lang)));
            return list_page(&d, &who, lang, "", form, StatusCode::BAD_REQUEST).await;
        }
    };
    let issuer = d.issuer();
    let actor = Actor::Staff(who.member);
    match d
        .with_store(move |store| desk::members::add(store, actor, &new, &issuer, clock::now()))
        .await
    {
        Ok(mp) => pass_page(
            &d,
            &who,
            lang,
            lang.t("新会员的卡", "The new member's pass"),
            &mp.member,
            &mp.pass,
        ),
        Err(e) => refused(lang, Some(&who), &e.words(lang)),
    }
}

/// `POST /members/erase`: a member's personal data deleted on request.
pub async fn erase(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<ReissueForm>,
) -> Response {
    let may = Some((
        StaffAction::Members,
        (
            "您的角色不能删除会员信息",
            "Your role may not delete members' data",
        ),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let Ok(id) = f.id.trim().parse::<u32>() else {
        return refused(
            lang,
            Some(&who),
            lang.t("会员号不对", "Not a member number"),
        );
    };
    let actor = Actor::Staff(who.member);
    match d
        .with_store(move |store| desk::members::erase(store, actor, MemberId(id), clock::now()))
        .await
    {
        Ok(m) => {
            let done = match lang {
                Lang::Zh => format!(
                    "会员 {} 的个人信息已删除；到访和积分记录只保留会员号。",
                    m.id.0
                ),
                Lang::En => format!(
                    "Member {}'s personal data is deleted; visits and points keep the number only.",
                    m.id.0
                ),
            };
            let form = format!(
                "<p class=\"ok\" role=\"status\">{}</p>{}",
                esc(&done),
                add_form(&who, lang, "", "", None)
            );
            list_page(&d, &who, lang, "", form, StatusCode::OK).await
        }
        Err(e) => refused(lang, Some(&who), &e.words(lang)),
    }
}

/// The reissue form (and the erase form: the same fields).
#[derive(serde::Deserialize)]
pub struct ReissueForm {
    csrf: String,
    id: String,
}

/// `POST /members/reissue`: a lost card's new pass.
pub async fn reissue(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<ReissueForm>,
) -> Response {
    let may = Some((
        StaffAction::Members,
        ("您的角色不能补卡", "Your role may not reissue passes"),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let Ok(id) = f.id.trim().parse::<u32>() else {
        return refused(
            lang,
            Some(&who),
            lang.t("会员号不对", "Not a member number"),
        );
    };
    let issuer = d.issuer();
    let actor = Actor::Staff(who.member);
    match d
        .with_store(move |store| {
            desk::members::revoke(store, actor, MemberId(id), &issuer, clock::now())
        })
        .await
    {
        Ok(mp) => pass_page(
            &d,
            &who,
            lang,
            lang.t("补办的新卡", "The new pass"),
            &mp.member,
            &mp.pass,
        ),
        Err(e) => refused(lang, Some(&who), &e.words(lang)),
    }
}
