//! Rate and suggest (评单 and 意见箱): a resident rates the sessions and
//! activities they had in the last week, in words rather than stars, drops
//! a suggestion in the box, and reads staff's answers to theirs.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use keting_desk::Actor;
use keting_desk::feedback::{self, FeedbackError, TEXT_MAX};
use keting_desk::records::Booking;
use keting_webkit::Lang;
use keting_webkit::html::esc;
use keting_webkit::respond::{html_page, see_other};

use crate::Residents;
use crate::bookings::Done;
use crate::guard::{self, Checked, Csrf, Visit};
use crate::page::{self, Extras, day_words};
use crate::words::ResidentWords;

/// The five answers, best first (residents read from the left).
const STARS: [(u8, &str, &str); 5] = [
    (5, "很好", "Very good"),
    (4, "好", "Good"),
    (3, "一般", "All right"),
    (2, "差", "Poor"),
    (1, "很差", "Very poor"),
];

impl ResidentWords for FeedbackError {
    fn words(&self, lang: Lang) -> Option<String> {
        let (zh, en) = match self {
            FeedbackError::BadStars
            | FeedbackError::NotYours
            | FeedbackError::UnknownSuggestion(_)
            | FeedbackError::Forbidden(_) => ("没有找到", "Not found"),
            FeedbackError::RatedAlready => ("您已经评价过了", "You rated it already"),
            FeedbackError::BadText => (
                "请写1到500个字，不要用 < 和 >",
                "Write 1 to 500 characters, with no < or >",
            ),
            FeedbackError::TooMany => (
                "今天的建议已经够多了，请明天再写",
                "That is enough suggestions for today: please write again tomorrow",
            ),
            FeedbackError::Store(_) => return None,
        };
        Some(lang.t(zh, en).to_owned())
    }
}

fn rate_form(csrf: &str, kind: &str, id: i64, lang: Lang) -> String {
    let mut h = String::from("<div class=\"row\">");
    for (stars, zh, en) in STARS {
        h.push_str(&format!(
            "<form method=\"post\" action=\"/feedback/rate\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"kind\" value=\"{kind}\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
             <input type=\"hidden\" name=\"stars\" value=\"{stars}\"><button class=\"quiet\">{}</button></form>",
            esc(csrf),
            lang.t(zh, en)
        ));
    }
    h.push_str("</div>");
    h
}

/// `/feedback`.
pub async fn page(State(r): State<Residents>, visit: Visit, Query(done): Query<Done>) -> Response {
    let me = match guard::resident(&r, &visit).await {
        Ok(me) => me,
        Err(out) => return *out,
    };
    let (lang, cal, now, m) = (visit.lang, r.site().calendar, guard::now(), me.member);
    let read = r
        .with_store(move |s| {
            // Any failure here is the database's: logged, shown as unavailable.
            let failed = |e: &dyn std::fmt::Display| e.to_string();
            let to_rate = feedback::to_rate(s, m, now).map_err(|e| failed(&e))?;
            let mine = feedback::mine(s, m).map_err(|e| failed(&e))?;
            let resources = keting_desk::bookings::resources(s, None).map_err(|e| failed(&e))?;
            Ok::<_, String>((to_rate, mine, resources))
        })
        .await;
    let (to_rate, mine, resources) = match read {
        Ok(x) => x,
        Err(e) => return page::unavailable(lang, &e),
    };
    let zh = lang == Lang::Zh;
    let name_of = |b: &Booking| {
        resources
            .iter()
            .find(|x| x.resource.id.as_str() == b.resource)
            .map(|x| x.resource.name(zh).to_owned())
            .unwrap_or_else(|| b.resource.clone())
    };
    let mut body = match done.done.as_deref() {
        Some("rated") => format!(
            "<p class=\"ok card\">{}</p>",
            lang.t("谢谢您的评价", "Thank you for your rating")
        ),
        Some("suggested") => format!(
            "<p class=\"ok card\">{}</p>",
            lang.t(
                "谢谢！工作人员回复后会显示在这里",
                "Thank you! The staff's answer will show here"
            )
        ),
        _ => String::new(),
    };
    if !to_rate.sessions.is_empty() || !to_rate.activities.is_empty() {
        body.push_str(&format!("<h2>{}</h2>", lang.t("请评价", "How was it?")));
        for b in &to_rate.sessions {
            body.push_str(&format!(
                "<div class=\"card\"><p><b>{}</b> {}</p>{}</div>",
                esc(&name_of(b)),
                day_words(lang, cal, b.slot.start, now),
                rate_form(&me.csrf, "session", b.id, lang)
            ));
        }
        for a in &to_rate.activities {
            body.push_str(&format!(
                "<div class=\"card\"><p><b>{}</b> {}</p>{}</div>",
                esc(if zh { &a.title.0 } else { &a.title.1 }),
                day_words(lang, cal, a.ended, now),
                rate_form(&me.csrf, "activity", a.id, lang)
            ));
        }
    }
    body.push_str(&format!(
        "<h2>{}</h2><form method=\"post\" action=\"/feedback/suggest\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"text\">{}</label><textarea id=\"text\" name=\"text\" rows=\"4\" maxlength=\"{TEXT_MAX}\" required></textarea>\
         <button>{}</button></form>",
        lang.t("意见箱", "Suggestion box"),
        esc(&me.csrf),
        lang.t("您的意见或建议（工作人员会回复）：", "Your suggestion (the staff will answer):"),
        lang.t("提交", "Send"),
    ));
    if !mine.is_empty() {
        body.push_str(&format!(
            "<h2>{}</h2>",
            lang.t("我的建议", "My suggestions")
        ));
        for s in &mine {
            let answer = match &s.answer {
                Some((text, _, at)) => format!(
                    "<p class=\"ok\">{}{}</p>",
                    match lang {
                        Lang::Zh => format!("工作人员回复（{}）：", day_words(lang, cal, *at, now)),
                        Lang::En =>
                            format!("The staff's answer ({}): ", day_words(lang, cal, *at, now)),
                    },
                    esc(text)
                ),
                None => format!(
                    "<p class=\"muted\">{}</p>",
                    lang.t("等待回复", "Waiting for an answer")
                ),
            };
            body.push_str(&format!(
                "<div class=\"card\"><p class=\"muted\">{}</p><p>{}</p>{answer}</div>",
                day_words(lang, cal, s.at, now),
                esc(&s.text)
            ));
        }
    }
    html_page(
        StatusCode::OK,
        page::frame(
            lang,
            &r.site().name,
            lang.t("评价与建议", "Rate and suggest"),
            Some("/feedback"),
            &body,
            Extras::default(),
        ),
    )
}

/// A rating form.
#[derive(serde::Deserialize)]
pub struct RateForm {
    #[serde(default)]
    csrf: String,
    kind: String,
    id: i64,
    stars: u8,
}

impl Csrf for RateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /feedback/rate`.
pub async fn rate(
    State(r): State<Residents>,
    Checked { me, visit, form: f }: Checked<RateForm>,
) -> Response {
    let (lang, now, actor) = (visit.lang, guard::now(), Actor::Member(me.member));
    let session = match f.kind.as_str() {
        "session" => true,
        "activity" => false,
        _ => return page::bad_form(lang),
    };
    let done = r
        .with_store(move |s| {
            if session {
                feedback::rate_session(s, actor, f.id, f.stars, now)
            } else {
                feedback::rate_activity(s, actor, f.id, f.stars, now)
            }
        })
        .await;
    match done {
        Ok(()) => see_other("/feedback?done=rated"),
        Err(e) => page::refused(lang, "/feedback", &e),
    }
}

/// A suggestion form.
#[derive(serde::Deserialize)]
pub struct SuggestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

impl Csrf for SuggestForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /feedback/suggest`.
pub async fn suggest(
    State(r): State<Residents>,
    Checked { me, visit, form: f }: Checked<SuggestForm>,
) -> Response {
    let (lang, now, actor) = (visit.lang, guard::now(), Actor::Member(me.member));
    match r
        .with_store(move |s| feedback::suggest(s, actor, &f.text, now))
        .await
    {
        Ok(_) => see_other("/feedback?done=suggested"),
        Err(e) => page::refused(lang, "/feedback", &e),
    }
}
