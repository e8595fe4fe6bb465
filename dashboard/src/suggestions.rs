//! The suggestion box (意见箱): residents' suggestions from their phones,
//! unanswered first, each answered here by a role that may change members;
//! the resident sees the answer on their phone. The answer is audited with
//! the staff member's name.

use std::fmt::Write;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::staff::StaffAction;
use keting_desk::feedback::{FeedbackError, TEXT_MAX};
use keting_desk::{self as desk, Actor};
use keting_link::clock;

use super::html::{self, Lang, Nav, esc};
use super::{Dashboard, bad_input, form_guard, html_page, lang, see_other};

fn words(lang: Lang, e: &FeedbackError) -> String {
    match e {
        FeedbackError::BadText => lang
            .t(
                "回复是 1 到 500 个字，不能有 < 或 >",
                "An answer is 1 to 500 characters, with no < or >",
            )
            .into(),
        FeedbackError::UnknownSuggestion(_) => lang.t("没有这条建议", "No such suggestion").into(),
        FeedbackError::Forbidden(_) => lang
            .t(
                "您的角色不能回复意见",
                "Your role may not answer suggestions",
            )
            .into(),
        other => {
            tracing::error!("suggestions: {other}");
            lang.t(
                "数据库暂时无法读写，请稍后再试",
                "The database cannot be used just now: try again shortly",
            )
            .into()
        }
    }
}

/// `GET /suggestions`.
pub async fn page(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let actor = Actor::Staff(who.member);
    let all = match d.with_store(move |s| desk::feedback::all(s, actor)).await {
        Ok(all) => all,
        Err(e) => return bad_input(lang, Some(&who), &words(lang, &e)),
    };
    let cal = d.site().calendar;
    let may = who.role.may(StaffAction::Members);
    let open = all.iter().filter(|s| s.answer.is_none()).count();
    let mut body = format!(
        "<h1>{}</h1><p id=\"open-suggestions\">{}</p>",
        lang.t("意见箱", "Suggestion box"),
        match lang {
            Lang::Zh => format!("{open} 条待回复"),
            Lang::En => format!("{open} waiting for an answer"),
        }
    );
    for s in &all {
        let at = cal.local(s.at);
        let _ = write!(
            body,
            "<section class=\"suggestion\"><p><b>{}</b> · {} {:04}-{:02}-{:02} {:02}:{:02}</p><p>{}</p>",
            esc(&s.name),
            lang.t("会员", "member"),
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            esc(&s.text)
        );
        if let Some((answer, _, _)) = &s.answer {
            let _ = write!(
                body,
                "<p class=\"ok\">{}{}</p>",
                lang.t("已回复：", "Answered: "),
                esc(answer)
            );
        }
        if may {
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/suggestions/{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <textarea name=\"answer\" rows=\"2\" cols=\"60\" maxlength=\"{TEXT_MAX}\" required></textarea> <button>{}</button></form>",
                s.id,
                esc(&who.csrf),
                if s.answer.is_some() {
                    lang.t("改回复", "Change the answer")
                } else {
                    lang.t("回复", "Answer")
                }
            );
        }
        body.push_str("</section>");
    }
    if all.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.t("还没有建议。", "No suggestions yet.")
        );
    }
    html_page(
        StatusCode::OK,
        html::page(
            lang,
            lang.t("意见箱", "Suggestions"),
            Some(&who),
            Nav::Suggestions,
            &body,
        ),
    )
}

/// An answer.
#[derive(serde::Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    answer: String,
}

/// `POST /suggestions/ID`.
pub async fn answer(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let may = (
        StaffAction::Members,
        (
            "您的角色不能回复意见",
            "Your role may not answer suggestions",
        ),
    );
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, Some(may)) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let actor = Actor::Staff(who.member);
    match d
        .with_store(move |s| desk::feedback::answer(s, actor, id, &f.answer, clock::now()))
        .await
    {
        Ok(()) => see_other("/suggestions"),
        Err(e) => bad_input(lang, Some(&who), &words(lang, &e)),
    }
}
