//! Volunteer points: award an activity's points to a list of volunteers,
//! reverse an award with a reason, a member's history, every balance and
//! the ledger's zero-sum check. Awarding and reversing need a role that
//! may (`StaffAction::Points`): an observer sees no form, and a request
//! from one is refused with nothing written. Each award goes through the
//! points desk (its caps, once per activity, audited by name).

use std::fmt::Write;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::ids::MemberId;
use keting_core::staff::StaffAction;

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::{Dashboard, form_guard, html_page, lang, refused, see_other};
use keting_desk::{self as desk, Actor};
use keting_link::clock;

/// The longest list of volunteers one form awards.
const MAX_LIST: usize = 200;

/// `?member=N`: whose history to show.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PointsQuery {
    member: Option<String>,
}

fn forms(who: &StaffSession, lang: Lang, error: Option<&str>, done: Option<&str>) -> String {
    if !who.role.may(StaffAction::Points) {
        return String::new();
    }
    let mut h = String::new();
    if let Some(e) = error {
        let _ = write!(h, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    if let Some(d) = done {
        let _ = write!(h, "<p class=\"ok\" role=\"status\">{}</p>", esc(d));
    }
    let _ = write!(
        h,
        "<section id=\"award\"><h2>{}</h2><form method=\"post\" action=\"/points/award\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{} <input name=\"activity\" maxlength=\"40\" required></label> \
         <label>{} <input name=\"worth\" size=\"5\" inputmode=\"numeric\" required></label> \
         <label>{} <input name=\"members\" size=\"40\" placeholder=\"12 15 31\" required></label> \
         <button class=\"award\">{}</button></form></section>\
         <section id=\"reverse\"><h2>{}</h2><form method=\"post\" action=\"/points/reverse\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{} <input name=\"posting\" size=\"7\" inputmode=\"numeric\" required></label> \
         <label>{} <input name=\"reason\" maxlength=\"80\" required></label> \
         <button>{}</button></form></section>",
        lang.t("发放积分", "Award points"),
        lang.t("活动", "Activity"),
        lang.t("每人积分", "Points each"),
        lang.t(
            "志愿者会员号（空格或逗号分隔）",
            "Volunteers' numbers (spaces or commas)"
        ),
        lang.t("发放", "Award"),
        lang.t("撤销一笔发放", "Reverse an award"),
        lang.t("记账号", "Posting"),
        lang.t("原因", "Reason"),
        lang.t("撤销", "Reverse"),
        csrf = esc(&who.csrf),
    );
    h
}

async fn render(
    d: &Dashboard,
    who: &StaffSession,
    lang: Lang,
    member: Option<u32>,
    status: StatusCode,
    error: Option<&str>,
    done: Option<&str>,
) -> Response {
    let figures = d
        .with_store(move |store| {
            let ledger = desk::points::ledger(store)?;
            let history = match member {
                Some(m) => Some(desk::points::history(store, MemberId(m), 100)?),
                None => None,
            };
            Ok::<_, desk::points::PointsError>((ledger, history))
        })
        .await;
    let ((balances, sum), history) = match figures {
        Ok(f) => f,
        Err(e) => return refused(lang, Some(who), &e.words(lang)),
    };
    let cal = d.site().calendar;
    let mut body = format!(
        "<h1>{}</h1>{}",
        lang.t("志愿积分", "Volunteer points"),
        forms(who, lang, error, done)
    );
    let _ = write!(
        body,
        "<section><h2>{}</h2><form method=\"get\" action=\"/points\"><label>{} <input name=\"member\" size=\"7\" value=\"{}\"></label> <button>{}</button></form>",
        lang.t("会员积分明细", "A member's postings"),
        lang.t("会员号", "Member number"),
        member.map(|m| m.to_string()).unwrap_or_default(),
        lang.t("查看", "Show"),
    );
    if let Some(lines) = history {
        let rows: Vec<Vec<String>> = lines
            .iter()
            .map(|l| {
                let t = cal.local(l.at);
                vec![
                    format!("{}", l.posting),
                    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()),
                    format!("{:+}", l.points),
                    esc(&l.what),
                    esc(&l.actor),
                    if l.reversed {
                        lang.t("已撤销", "reversed").to_owned()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        body.push_str(&html::table(
            "history",
            &[
                lang.t("记账号", "Posting"),
                lang.t("时间", "When"),
                lang.t("积分", "Points"),
                lang.t("内容", "What"),
                lang.t("经办", "By"),
                "",
            ],
            &rows,
        ));
    }
    body.push_str("</section>");
    let rows: Vec<Vec<String>> = balances
        .iter()
        .filter(|(_, b)| *b != 0)
        .map(|(account, b)| vec![esc(account), format!("{b}")])
        .collect();
    let _ = write!(
        body,
        "<section><h2>{}</h2><p class=\"{}\" id=\"ledger-sum\">{}</p>{}</section>",
        lang.t("账户余额", "Balances"),
        if sum == 0 { "ok" } else { "error" },
        match (sum, lang) {
            (0, Lang::Zh) => "所有账户合计为 0：账目平衡".to_owned(),
            (0, Lang::En) => "Every account sums to 0: the ledger balances".to_owned(),
            (s, Lang::Zh) => format!("账户合计为 {s}，不为 0：请联系技术员"),
            (s, Lang::En) => format!("The accounts sum to {s}, not 0: call a technician"),
        },
        html::table(
            "balances",
            &[lang.t("账户", "Account"), lang.t("积分", "Points")],
            &rows
        ),
    );
    html_page(
        status,
        html::page(
            lang,
            lang.t("志愿积分", "Volunteer points"),
            Some(who),
            Nav::Points,
            &body,
        ),
    )
}

/// `GET /points`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<PointsQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let member = q
        .member
        .as_deref()
        .and_then(|m| m.trim().parse::<u32>().ok());
    if q.member.as_deref().is_some_and(|m| !m.trim().is_empty()) && member.is_none() {
        let why = lang.t("会员号是数字", "A member number is a number");
        return render(
            &d,
            &who,
            lang,
            None,
            StatusCode::BAD_REQUEST,
            Some(why),
            None,
        )
        .await;
    }
    render(&d, &who, lang, member, StatusCode::OK, None, None).await
}

/// The award form.
#[derive(serde::Deserialize)]
pub struct AwardForm {
    csrf: String,
    activity: String,
    worth: String,
    members: String,
}

/// `POST /points/award`: the same activity's points to each listed volunteer.
pub async fn award(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<AwardForm>,
) -> Response {
    let may = Some((
        StaffAction::Points,
        ("您的角色不能发放积分", "Your role may not award points"),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let bad = |why: &str| (StatusCode::BAD_REQUEST, why.to_owned());
    let checked = (|| {
        let activity = f.activity.trim().to_owned();
        if activity.is_empty() || activity.chars().count() > 40 || activity.contains(['<', '>']) {
            return Err(bad(lang.t(
                "活动名称：1 到 40 个字，不能有 < 或 >",
                "Activity: 1 to 40 characters, no < or >",
            )));
        }
        let worth: i64 = f
            .worth
            .trim()
            .parse()
            .ok()
            .filter(|w| *w > 0 && *w <= 10_000)
            .ok_or_else(|| {
                bad(lang.t(
                    "每人积分是 1 到 10000 的整数",
                    "Points each: a whole number from 1 to 10000",
                ))
            })?;
        let members: Vec<u32> = f
            .members
            .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                bad(lang.t(
                    "会员号是数字，用空格或逗号分隔",
                    "Member numbers are numbers, separated by spaces or commas",
                ))
            })?;
        if members.is_empty() || members.len() > MAX_LIST {
            return Err(bad(
                lang.t("请填 1 到 200 个会员号", "Give 1 to 200 member numbers")
            ));
        }
        Ok((activity, worth, members))
    })();
    let (activity, worth, members) = match checked {
        Ok(c) => c,
        Err((status, why)) => return render(&d, &who, lang, None, status, Some(&why), None).await,
    };
    let actor = Actor::Staff(who.member);
    let cal = d.site().calendar;
    let results = d
        .with_store(move |store| {
            members
                .iter()
                .map(|m| {
                    (
                        *m,
                        desk::points::award(
                            store,
                            actor,
                            MemberId(*m),
                            &activity,
                            worth,
                            cal,
                            clock::now(),
                        ),
                    )
                })
                .collect::<Vec<_>>()
        })
        .await;
    let given = results.iter().filter(|(_, r)| r.is_ok()).count();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(m, r)| r.as_ref().err().map(|e| format!("{m}: {e}")))
        .collect();
    let done = match lang {
        Lang::Zh => format!("已发放给 {given} 人"),
        Lang::En => format!("Awarded to {given}"),
    };
    let error = (!failed.is_empty()).then(|| {
        format!(
            "{}{}",
            lang.t("未发放：", "Not awarded: "),
            failed.join("; ")
        )
    });
    let status = if given == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        &d,
        &who,
        lang,
        None,
        status,
        error.as_deref(),
        (given > 0).then_some(done.as_str()),
    )
    .await
}

/// The reversal form.
#[derive(serde::Deserialize)]
pub struct ReverseForm {
    csrf: String,
    posting: String,
    reason: String,
}

/// `POST /points/reverse`.
pub async fn reverse(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<ReverseForm>,
) -> Response {
    let may = Some((
        StaffAction::Points,
        ("您的角色不能撤销积分", "Your role may not reverse points"),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let reason = f.reason.trim().to_owned();
    let Ok(posting) = f.posting.trim().parse::<i64>() else {
        let why = lang.t("记账号是数字", "A posting number is a number");
        return render(
            &d,
            &who,
            lang,
            None,
            StatusCode::BAD_REQUEST,
            Some(why),
            None,
        )
        .await;
    };
    if reason.is_empty() || reason.chars().count() > 80 {
        let why = lang.t(
            "请写明原因（最多 80 字）",
            "Give the reason (at most 80 characters)",
        );
        return render(
            &d,
            &who,
            lang,
            None,
            StatusCode::BAD_REQUEST,
            Some(why),
            None,
        )
        .await;
    }
    let actor = Actor::Staff(who.member);
    let cal = d.site().calendar;
    match d
        .with_store(move |store| {
            desk::points::reverse(store, actor, posting, &reason, cal, clock::now())
        })
        .await
    {
        Ok(r) => {
            let done = match lang {
                Lang::Zh => format!("已撤销，冲正记账号 {r}"),
                Lang::En => format!("Reversed by posting {r}"),
            };
            render(&d, &who, lang, None, StatusCode::OK, None, Some(&done)).await
        }
        Err(e) => {
            render(
                &d,
                &who,
                lang,
                None,
                StatusCode::BAD_REQUEST,
                Some(&e.words(lang)),
                None,
            )
            .await
        }
    }
}
