//! One member's page (`/members/ID`): who they are, their points, their
//! gym month (one more month, paid up to a date, ended), and for a
//! manager their staff access: the role (observer, staff, technician,
//! manager, or none), a new PIN, a new dashboard password. Each change
//! goes through its desk (gym, staff), which checks the role again and
//! audits it with the person; a bad value (a date not YYYY-MM-DD, a PIN
//! that is not 6 digits, two entries that differ, a password too short)
//! is refused with the reason on the page, and nothing is written. A PIN
//! or a password is never shown back, logged or audited.

use std::fmt::Write;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::ids::MemberId;
use keting_core::staff::{StaffAction, StaffRole};

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::{Dashboard, bad_input, form_guard, html_page, lang, see_other};
use keting_desk::records::Member;
use keting_desk::records::StaffAccess;
use keting_desk::staff::StaffError;
use keting_desk::{self as desk, Actor};
use keting_link::clock;

/// What the page shows of a member.
struct Facts {
    member: Member,
    gym_until: Option<String>,
    balance: i64,
    access: Option<StaffAccess>,
}

async fn facts(d: &Dashboard, id: MemberId, lang: Lang) -> Result<Facts, String> {
    let cal = d.site().calendar;
    d.with_store(move |store| {
        let member = desk::members::get(store, id).map_err(|e| e.words(lang))?;
        let gym_until = desk::gym::paid_until(store, id).map_err(|e| e.words(lang))?;
        let (_, balance) =
            desk::points::balance(store, id, cal, clock::now()).map_err(|e| e.words(lang))?;
        let access = desk::staff::access(store, id).map_err(|e| staff_refusal(lang, &e))?;
        Ok(Facts {
            member,
            gym_until,
            balance,
            access,
        })
    })
    .await
}

fn hidden_csrf(who: &StaffSession) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&who.csrf)
    )
}

fn role_choice(lang: Lang, current: Option<StaffRole>) -> String {
    let mut h = String::from("<select name=\"role\">");
    let options = [
        (
            "none",
            lang.t("不是工作人员", "Not staff"),
            current.is_none(),
        ),
        (
            "observer",
            html::role_word(lang, StaffRole::Observer),
            current == Some(StaffRole::Observer),
        ),
        (
            "staff",
            html::role_word(lang, StaffRole::Staff),
            current == Some(StaffRole::Staff),
        ),
        (
            "technician",
            html::role_word(lang, StaffRole::Technician),
            current == Some(StaffRole::Technician),
        ),
        (
            "manager",
            html::role_word(lang, StaffRole::Manager),
            current == Some(StaffRole::Manager),
        ),
    ];
    for (value, words, selected) in options {
        let _ = write!(
            h,
            "<option value=\"{value}\"{}>{}</option>",
            if selected { " selected" } else { "" },
            words
        );
    }
    h.push_str("</select>");
    h
}

async fn show(
    d: &Dashboard,
    who: &StaffSession,
    lang: Lang,
    id: MemberId,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let f = match facts(d, id, lang).await {
        Ok(f) => f,
        Err(e) => return bad_input(lang, Some(who), &e),
    };
    let m = &f.member;
    let path = format!("/members/{}", m.id.0);
    let mut body = format!("<h1>{} · {}</h1>", m.id.0, esc(&m.name));
    if let Some((ok, text)) = notice {
        body.push_str(&html::notice(ok, &text));
    }
    let _ = write!(
        body,
        "<table class=\"facts\"><tbody><tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td id=\"balance\">{}</td></tr><tr><th>{}</th><td id=\"gym-until\">{}</td></tr></tbody></table>",
        lang.t("手机尾号", "Phone tail"),
        esc(m.phone_tail.as_deref().unwrap_or("")),
        lang.t("身份", "Roles"),
        super::members::role_words(lang, &m.roles),
        lang.t("积分余额", "Points"),
        f.balance,
        lang.t("健身房缴费至", "Gym paid until"),
        esc(f
            .gym_until
            .as_deref()
            .unwrap_or(lang.t("未缴费", "not paid"))),
    );
    if who.role.may(StaffAction::GymMonths) {
        let _ = write!(
            body,
            "<section id=\"gym\"><h2>{}</h2>\
             <form method=\"post\" action=\"{path}/gym\" class=\"inline\">{csrf}<input type=\"hidden\" name=\"what\" value=\"extend\"><button class=\"extend\">{}</button></form> \
             <form method=\"post\" action=\"{path}/gym\" class=\"inline\">{csrf}<input type=\"hidden\" name=\"what\" value=\"until\">\
             <label>{} <input name=\"until\" type=\"date\" placeholder=\"2026-12-31\" maxlength=\"10\" required></label> <button>{}</button></form> \
             <form method=\"post\" action=\"{path}/gym\" class=\"inline\">{csrf}<input type=\"hidden\" name=\"what\" value=\"end\"><button class=\"end\" onclick=\"return confirm('{}')\">{}</button></form></section>",
            lang.t("健身房月卡", "Gym month"),
            lang.t("续一个月", "One more month"),
            lang.t("缴费至", "Paid until"),
            lang.t("保存", "Save"),
            lang.t(
                "结束后夜间不能进入健身房。确定？",
                "They can no longer enter at night. End it?"
            ),
            lang.t("结束月卡", "End the membership"),
            csrf = hidden_csrf(who),
        );
    }
    if who.role.may(StaffAction::ManageStaff) {
        let current = f.access.as_ref().map(|a| a.role);
        let _ = write!(
            body,
            "<section id=\"staff\"><h2>{}</h2>\
             <form method=\"post\" action=\"{path}/role\">{csrf}<label>{} {}</label> <button>{}</button></form>",
            lang.t("工作人员权限", "Staff access"),
            lang.t("角色", "Role"),
            role_choice(lang, current),
            lang.t("保存角色", "Save the role"),
            csrf = hidden_csrf(who),
        );
        if current.is_some() {
            let _ = write!(
                body,
                "<form method=\"post\" action=\"{path}/pin\">{csrf}\
                 <label>{} <input name=\"secret\" type=\"password\" inputmode=\"numeric\" maxlength=\"6\" size=\"7\" autocomplete=\"new-password\" required></label> \
                 <label>{} <input name=\"again\" type=\"password\" inputmode=\"numeric\" maxlength=\"6\" size=\"7\" autocomplete=\"new-password\" required></label> \
                 <button>{}</button></form>\
                 <form method=\"post\" action=\"{path}/password\">{csrf}\
                 <label>{} <input name=\"secret\" type=\"password\" maxlength=\"128\" autocomplete=\"new-password\" required></label> \
                 <label>{} <input name=\"again\" type=\"password\" maxlength=\"128\" autocomplete=\"new-password\" required></label> \
                 <button>{}</button></form>",
                lang.t("新 PIN（6 位数字）", "New PIN (6 digits)"),
                lang.t("再输一次", "Again"),
                lang.t("设置 PIN", "Set the PIN"),
                lang.t(
                    "新登录密码（10 到 128 个字符）",
                    "New dashboard password (10 to 128 characters)"
                ),
                lang.t("再输一次", "Again"),
                lang.t("设置密码", "Set the password"),
                csrf = hidden_csrf(who),
            );
        }
        body.push_str("</section>");
    }
    body.push_str(&super::phones::section(d, who, lang, m.id).await);
    let _ = write!(
        body,
        "<p><a href=\"/points?member={}\">{}</a> · <a href=\"/members\">{}</a></p>",
        m.id.0,
        lang.t("积分记录", "Points history"),
        lang.t("返回会员", "Back to members")
    );
    html_page(
        status,
        html::page(lang, &m.name, Some(who), Nav::Members, &body),
    )
}

fn member_id(s: &str) -> Option<MemberId> {
    s.trim().parse::<u32>().ok().map(MemberId)
}

/// The checks every member form passes (`form_guard` with `may`), and the
/// member its path names.
fn guard(
    d: &Dashboard,
    headers: &HeaderMap,
    csrf: &str,
    may: (StaffAction, super::RoleWords),
    id: &str,
) -> Result<(StaffSession, Lang, MemberId), Box<Response>> {
    let (who, lang) = form_guard(d, headers, csrf, Some(may))?;
    match member_id(id) {
        Some(id) => Ok((who, lang, id)),
        None => Err(Box::new(bad_input(
            lang,
            Some(&who),
            lang.t("会员号不对", "Not a member number"),
        ))),
    }
}

/// `GET /members/ID`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let Some(id) = member_id(&id) else {
        return bad_input(
            lang,
            Some(&who),
            lang.t("会员号不对", "Not a member number"),
        );
    };
    show(&d, &who, lang, id, None, StatusCode::OK).await
}

/// The gym form: `what` is `extend`, `until` (with `until`) or `end`.
#[derive(serde::Deserialize)]
pub struct GymForm {
    csrf: String,
    what: String,
    #[serde(default)]
    until: String,
}

/// `POST /members/ID/gym`.
pub async fn gym(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<GymForm>,
) -> Response {
    let may = (
        StaffAction::GymMonths,
        (
            "您的角色不能改健身房月卡",
            "Your role may not change gym months",
        ),
    );
    let (who, lang, id) = match guard(&d, &headers, &f.csrf, may, &id) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let actor = Actor::Staff(who.member);
    let cal = d.site().calendar;
    let outcome = match f.what.as_str() {
        "extend" => d
            .with_store(move |s| desk::gym::extend_month(s, actor, id, cal, clock::now()))
            .await
            .map(|paid| paid.until.to_string()),
        "until" => {
            let Ok(until) = keting_core::calendar::parse_date(&f.until) else {
                let why = lang
                    .t("日期格式应为 2026-12-31", "A date is written 2026-12-31")
                    .to_owned();
                return show(
                    &d,
                    &who,
                    lang,
                    id,
                    Some((false, why)),
                    StatusCode::BAD_REQUEST,
                )
                .await;
            };
            d.with_store(move |s| desk::gym::grant(s, actor, id, until, clock::now()))
                .await
                .map(|paid| paid.until.to_string())
        }
        "end" => d
            .with_store(move |s| desk::gym::revoke(s, actor, id, clock::now()))
            .await
            .map(|_| String::new()),
        _ => return bad_input(lang, Some(&who), lang.t("未知的操作", "Unknown action")),
    };
    match outcome {
        Ok(until) if until.is_empty() => {
            let done = lang
                .t("月卡已结束", "The gym membership is ended")
                .to_owned();
            show(&d, &who, lang, id, Some((true, done)), StatusCode::OK).await
        }
        Ok(until) => {
            let done = match lang {
                Lang::Zh => format!("健身房缴费至 {until}"),
                Lang::En => format!("Gym paid until {until}"),
            };
            show(&d, &who, lang, id, Some((true, done)), StatusCode::OK).await
        }
        Err(e) => {
            show(
                &d,
                &who,
                lang,
                id,
                Some((false, e.words(lang))),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

/// The role form.
#[derive(serde::Deserialize)]
pub struct RoleForm {
    csrf: String,
    role: String,
}

/// A staff-desk refusal in the page's words; a database failure is logged,
/// never shown.
fn staff_refusal(lang: Lang, e: &StaffError) -> String {
    match e {
        StaffError::UnknownMember(id) => match lang {
            Lang::Zh => format!("没有 {} 号会员", id.0),
            Lang::En => format!("There is no member {}", id.0),
        },
        StaffError::NotStaff(_) => lang
            .t(
                "此人不是工作人员：先给一个角色",
                "Not staff: give them a role first",
            )
            .into(),
        StaffError::PinFormat(_) => lang.t("PIN 是 6 位数字", "A PIN is 6 digits").into(),
        StaffError::PasswordShape => lang
            .t(
                "密码要 10 到 128 个字符",
                "A password has 10 to 128 characters",
            )
            .into(),
        StaffError::OwnManagerRole => lang
            .t(
                "不能取消自己的主任角色：请另一位主任来改",
                "You may not take your own manager role away: another manager can",
            )
            .into(),
        StaffError::Forbidden(_) => lang.t(MAY_STAFF.0, MAY_STAFF.1).into(),
        StaffError::Hash(e) => {
            tracing::error!("staff desk: {e}");
            lang.t("没能保存，请重试", "It could not be saved: try again")
                .into()
        }
        StaffError::Store(e) => {
            tracing::error!("staff desk: {e}");
            lang.t(
                "数据库暂时无法读写，请稍后再试",
                "The database cannot be used just now: try again shortly",
            )
            .into()
        }
    }
}

const MAY_STAFF: (&str, &str) = (
    "只有主任能改工作人员的角色和密码",
    "Only a manager may change staff roles, PINs and passwords",
);

/// `POST /members/ID/role`: a staff role, or none.
pub async fn role(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Response {
    let may = (StaffAction::ManageStaff, MAY_STAFF);
    let (who, lang, id) = match guard(&d, &headers, &f.csrf, may, &id) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let role = match f.role.as_str() {
        "none" => None,
        other => match StaffRole::parse(other) {
            Some(r) => Some(r),
            None => return bad_input(lang, Some(&who), lang.t("没有这个角色", "No such role")),
        },
    };
    let actor = Actor::Staff(who.member);
    match d
        .with_store(move |s| desk::staff::set_role(s, actor, id, role, clock::now()))
        .await
    {
        Ok(_) => {
            let done = match role {
                Some(r) => match lang {
                    Lang::Zh => format!("角色已改为{}", html::role_word(lang, r)),
                    Lang::En => format!("The role is now {}", html::role_word(lang, r)),
                },
                None => lang.t("已不是工作人员", "No longer staff").to_owned(),
            };
            show(&d, &who, lang, id, Some((true, done)), StatusCode::OK).await
        }
        Err(e) => {
            show(
                &d,
                &who,
                lang,
                id,
                Some((false, staff_refusal(lang, &e))),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

/// A new PIN or password, typed twice.
#[derive(serde::Deserialize)]
pub struct SecretForm {
    csrf: String,
    secret: String,
    again: String,
}

/// `POST /members/ID/pin`.
pub async fn pin(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<SecretForm>,
) -> Response {
    secret(d, headers, id, f, Secret::Pin).await
}

/// `POST /members/ID/password`.
pub async fn password(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<SecretForm>,
) -> Response {
    secret(d, headers, id, f, Secret::Password).await
}

#[derive(Clone, Copy)]
enum Secret {
    Pin,
    Password,
}

async fn secret(
    d: Dashboard,
    headers: HeaderMap,
    id: String,
    f: SecretForm,
    kind: Secret,
) -> Response {
    let may = (StaffAction::ManageStaff, MAY_STAFF);
    let (who, lang, id) = match guard(&d, &headers, &f.csrf, may, &id) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    if f.secret != f.again {
        let why = lang
            .t(
                "两次输入不一致，未保存",
                "The two entries differ: nothing saved",
            )
            .to_owned();
        return show(
            &d,
            &who,
            lang,
            id,
            Some((false, why)),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let actor = Actor::Staff(who.member);
    let secret = f.secret;
    let done = d
        .with_store(move |s| match kind {
            Secret::Pin => desk::staff::set_pin(s, actor, id, &secret, clock::now()),
            Secret::Password => desk::staff::set_password(s, actor, id, &secret, clock::now()),
        })
        .await;
    match done {
        Ok(()) => {
            let text = match kind {
                Secret::Pin => lang.t(
                    "新 PIN 已设置，卡的锁定已解除",
                    "The new PIN is set; the card is unlocked",
                ),
                Secret::Password => lang.t(
                    "新密码已设置，卡的锁定已解除",
                    "The new password is set; the card is unlocked",
                ),
            };
            show(
                &d,
                &who,
                lang,
                id,
                Some((true, text.to_owned())),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let why = staff_refusal(lang, &e);
            show(
                &d,
                &who,
                lang,
                id,
                Some((false, why)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}
