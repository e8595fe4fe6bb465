//! My phones: every phone bound to me, when it was bound and last used,
//! and a button to end each (this one too: signing out for good). A lost
//! card's new pass ends them all at the desk.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use keting_desk::Actor;
use keting_desk::phones;
use keting_webkit::html::esc;
use keting_webkit::respond::{html_page, see_other};

use crate::Residents;
use crate::bookings::Done;
use crate::guard::{self, Checked, Csrf, Visit};
use crate::page::{self, Extras, day_words};

/// `/phones`.
pub async fn page(State(r): State<Residents>, visit: Visit, Query(done): Query<Done>) -> Response {
    let me = match guard::resident(&r, &visit).await {
        Ok(me) => me,
        Err(out) => return *out,
    };
    let (lang, cal, now, m) = (visit.lang, r.site().calendar, guard::now(), me.member);
    let list = match r
        .with_store(move |s| phones::list(s, Actor::Member(m), m))
        .await
    {
        Ok(l) => l,
        Err(e) => return page::unavailable(lang, &e),
    };
    let mut body = page::done_notice(lang, done.done.as_deref());
    body.push_str(&format!(
        "<p>{}</p>",
        lang.t(
            "这些手机可以打开您的页面。不认识的手机，请马上解除。",
            "These phones can open your pages. End any you do not know at once.",
        )
    ));
    for p in &list {
        let this = p.id == me.phone;
        body.push_str(&format!(
            "<div class=\"card\"><p><b>{}</b>{}<br><span class=\"muted\">{} {}</span></p>\
             <form method=\"post\" action=\"/phones/end\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"phone\" value=\"{}\"><button class=\"quiet\">{}</button></form></div>",
            esc(&p.label),
            if this { lang.t("（这部手机）", " (this phone)") } else { "" },
            lang.t("绑定于", "Bound"),
            day_words(lang, cal, p.bound, now),
            esc(&me.csrf),
            p.id,
            if this { lang.t("退出并解除这部手机", "Sign out and end this phone") } else { lang.t("解除", "End") }
        ));
    }
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("我的手机", "My phones"),
            Some("/phones"),
            &body,
            Extras::default(),
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

impl Csrf for EndForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /phones/end`: one of my phones ended (only mine).
pub async fn end(
    State(r): State<Residents>,
    Checked { me, visit, form: f }: Checked<EndForm>,
) -> Response {
    let (lang, now, m) = (visit.lang, guard::now(), me.member);
    let this = f.phone == me.phone;
    match r
        .with_store(move |s| phones::end(s, Actor::Member(m), m, f.phone, now))
        .await
    {
        Ok(()) if this => see_other("/welcome"),
        Ok(()) => see_other("/phones?done=ended"),
        Err(e) => page::refused(lang, "/phones", &e),
    }
}
