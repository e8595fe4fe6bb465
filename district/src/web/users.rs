//! The district dashboard's users, for district managers only: the list,
//! a new user (a password typed twice, never shown back), a user removed
//! (never the last manager). Each change is audited with the manager's
//! name.

use crate::web::DistrictSession;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::html::{esc, notice, table};
use keting_webkit::respond::{html_page, origin_ok};

use super::frame::{self, Nav};
use super::{DistrictDashboard, failed, signed_in};
use crate::users::{self, DistrictRole};

fn managers_only(lang: Lang, who: &DistrictSession) -> Option<Response> {
    (who.role != DistrictRole::Manager).then(|| {
        frame::not_done(
            StatusCode::FORBIDDEN,
            lang,
            Some(who),
            lang.t(
                "只有区级主管可以管理用户",
                "Only a district manager manages the users",
            ),
        )
    })
}

async fn render(d: &DistrictDashboard, who: &DistrictSession, lang: Lang, note: &str) -> Response {
    let list = {
        let db = d.db.lock().await;
        users::list(&db).await
    };
    let list = match list {
        Ok(l) => l,
        Err(e) => return failed(lang, &e),
    };
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|u| {
            vec![
                esc(&u.name),
                match u.role {
                    DistrictRole::Manager => lang.t("区级主管", "district manager"),
                    DistrictRole::Observer => lang.t("观察员", "observer"),
                }
                .to_owned(),
                format!(
                    "<form method=\"post\" action=\"/users/remove\" class=\"inline\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"name\" value=\"{}\">\
                     <button>{}</button></form>",
                    esc(&who.csrf),
                    esc(&u.name),
                    lang.t("删除", "Remove")
                ),
            ]
        })
        .collect();
    let body = format!(
        "<h1>{title}</h1>{note}{table}<h2>{add}</h2>\
         <form class=\"sign-in\" method=\"post\" action=\"/users/add\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"name\">{name}</label><input id=\"name\" name=\"name\" maxlength=\"64\" required>\
         <label for=\"role\">{role}</label><select id=\"role\" name=\"role\">\
         <option value=\"observer\">{observer}</option><option value=\"manager\">{manager}</option></select>\
         <label for=\"password\">{password}</label><input id=\"password\" name=\"password\" type=\"password\" maxlength=\"128\" autocomplete=\"new-password\" required>\
         <label for=\"again\">{again}</label><input id=\"again\" name=\"again\" type=\"password\" maxlength=\"128\" autocomplete=\"new-password\" required>\
         <p><button>{go}</button></p></form>",
        title = lang.t("用户", "Users"),
        table = table(
            "users",
            &[lang.t("用户名", "Name"), lang.t("角色", "Role"), ""],
            &rows
        ),
        add = lang.t("添加用户", "Add a user"),
        csrf = esc(&who.csrf),
        name = lang.t("用户名", "Name"),
        role = lang.t("角色", "Role"),
        observer = lang.t("观察员（只看）", "observer (looks only)"),
        manager = lang.t("区级主管", "district manager"),
        password = lang.t("密码（至少 10 个字符）", "Password (10 characters or more)"),
        again = lang.t("再输一次", "Again"),
        go = lang.t("添加", "Add"),
    );
    html_page(
        StatusCode::OK,
        frame::page(lang, lang.t("用户", "Users"), Some(who), Nav::Users, &body),
    )
}

/// `GET /users`.
pub async fn page(State(d): State<DistrictDashboard>, headers: HeaderMap) -> Response {
    let (who, lang) = match signed_in(&d, &headers).await {
        Ok(w) => w,
        Err(r) => return *r,
    };
    if let Some(r) = managers_only(lang, &who) {
        return r;
    }
    render(&d, &who, lang, "").await
}

/// The add form.
#[derive(serde::Deserialize)]
pub struct AddForm {
    csrf: String,
    name: String,
    role: String,
    password: String,
    again: String,
}

async fn guard(
    d: &DistrictDashboard,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(DistrictSession, Lang), Box<Response>> {
    let (who, lang) = signed_in(d, headers).await?;
    if !origin_ok(headers) || !who.csrf_ok(csrf) {
        return Err(Box::new(frame::not_done(
            StatusCode::FORBIDDEN,
            lang,
            Some(&who),
            lang.t("表单已过期，请重试", "The form expired: try again"),
        )));
    }
    if let Some(r) = managers_only(lang, &who) {
        return Err(Box::new(r));
    }
    Ok((who, lang))
}

/// `POST /users/add`.
pub async fn add(
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Form(f): Form<AddForm>,
) -> Response {
    let (who, lang) = match guard(&d, &headers, &f.csrf).await {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let Some(role) = DistrictRole::parse(&f.role) else {
        return render(
            &d,
            &who,
            lang,
            &notice(false, lang.t("没有这个角色", "No such role")),
        )
        .await;
    };
    if f.password != f.again {
        return render(
            &d,
            &who,
            lang,
            &notice(
                false,
                lang.t("两次输入的密码不同", "The two passwords differ"),
            ),
        )
        .await;
    }
    let added = {
        let mut db = d.db.lock().await;
        users::add(
            &mut db,
            &who.name,
            f.name.trim(),
            role,
            &f.password,
            keting_link::clock::now().as_unix_millis(),
        )
        .await
    };
    let note = match added {
        Ok(u) => {
            tracing::info!(
                by = who.name,
                user = u.name,
                role = role.as_str(),
                "district user added"
            );
            notice(true, &format!("{} {}", lang.t("已添加", "Added"), u.name))
        }
        Err(e) => notice(false, &e.to_string()),
    };
    render(&d, &who, lang, &note).await
}

/// The remove form.
#[derive(serde::Deserialize)]
pub struct RemoveForm {
    csrf: String,
    name: String,
}

/// `POST /users/remove`.
pub async fn remove(
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Form(f): Form<RemoveForm>,
) -> Response {
    let (who, lang) = match guard(&d, &headers, &f.csrf).await {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let removed = {
        let mut db = d.db.lock().await;
        users::remove(
            &mut db,
            &who.name,
            &f.name,
            keting_link::clock::now().as_unix_millis(),
        )
        .await
    };
    let note = match removed {
        Ok(true) => {
            tracing::info!(by = who.name, user = f.name, "district user removed");
            notice(true, &format!("{} {}", lang.t("已删除", "Removed"), f.name))
        }
        Ok(false) => notice(false, lang.t("没有这个用户", "No such user")),
        Err(e) => notice(false, &e.to_string()),
    };
    render(&d, &who, lang, &note).await
}
