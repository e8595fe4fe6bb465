//! The district's monthly report, printable on A4: the district's totals
//! against the month before, and the ten best centres by visits, by
//! activities and by satisfaction.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::html::{esc, table};
use keting_webkit::respond::html_page;

use super::frame::{self, Nav};
use super::ranking::{RankBy, rank};
use super::{DistrictDashboard, failed, month_asked, percent, signed_in};
use crate::reports::{self, CentreFigures};

/// The page's query.
#[derive(serde::Deserialize, Default)]
pub struct ReportQuery {
    month: Option<String>,
}

fn total(rows: &[CentreFigures]) -> CentreFigures {
    let mut t = CentreFigures::default();
    for f in rows {
        t += f;
    }
    t
}

fn change(now: i64, before: i64) -> String {
    if before == 0 {
        return "—".into();
    }
    let pct = (now - before) as f64 * 100.0 / before as f64;
    format!("{pct:+.1}%")
}

fn top(lang: Lang, rows: &[CentreFigures], by: RankBy) -> String {
    let mut ranked = rows.to_vec();
    rank(&mut ranked, by);
    let cells: Vec<Vec<String>> = ranked
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, f)| {
            vec![
                (i + 1).to_string(),
                esc(&f.centre),
                match by {
                    RankBy::Visits => f.visits.to_string(),
                    RankBy::Activities => f.activities.to_string(),
                    RankBy::Satisfaction => {
                        format!("{} ({})", percent(f.satisfaction()), f.ratings)
                    }
                },
            ]
        })
        .collect();
    table(
        "top",
        &[
            lang.t("名次", "Rank"),
            lang.t("中心", "Centre"),
            lang.t("数值", "Figure"),
        ],
        &cells,
    )
}

/// `GET /report?month=YYYY-MM`.
pub async fn page(
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Response {
    let (who, lang) = match signed_in(&d, &headers).await {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let month = match month_asked(&d, lang, q.month.as_deref()) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let read = async {
        let db = d.db.lock().await;
        let now = reports::month_by_centre(&db, month).await?;
        let before = reports::month_by_centre(&db, month.previous()).await?;
        let open = reports::troubles(&db, None).await?.len();
        Ok::<_, crate::database::DatabaseError>((now, before, open))
    };
    let (now, before, open) = match read.await {
        Ok(r) => r,
        Err(e) => return failed(lang, &e),
    };
    let (t, p) = (total(&now), total(&before));
    let line = |zh: &str, en: &str, a: i64, b: i64| {
        vec![
            lang.t(zh, en).to_owned(),
            a.to_string(),
            b.to_string(),
            change(a, b),
        ]
    };
    let totals = table(
        "totals",
        &[
            "",
            &month.to_string(),
            &month.previous().to_string(),
            lang.t("变化", "Change"),
        ],
        &[
            line("到访人次", "Visits", t.visits, p.visits),
            line("活动场次", "Activities", t.activities, p.activities),
            line(
                "活动参与人次",
                "Participants",
                t.participants,
                p.participants,
            ),
            line(
                "志愿服务时长（分钟）",
                "Volunteer minutes",
                t.volunteer_minutes,
                p.volunteer_minutes,
            ),
            line("评价数", "Ratings", t.ratings, p.ratings),
            vec![
                lang.t("满意度", "Satisfied").to_owned(),
                percent(t.satisfaction()),
                percent(p.satisfaction()),
                String::new(),
            ],
            line(
                "发放积分",
                "Points awarded",
                t.points_awarded,
                p.points_awarded,
            ),
            line("兑换积分", "Points spent", t.points_spent, p.points_spent),
            line(
                "完成课时",
                "Sessions done",
                t.bookings_done,
                p.bookings_done,
            ),
            line("报警", "Alarms", t.alarms_raised, p.alarms_raised),
        ],
    );
    let body = format!(
        "<article class=\"report\"><h1>{title} {month}</h1>\
         <p>{district} {name} · {centres} {n} · {open_word} {open}</p>\
         <p><a href=\"/report?month={prev}\">← {prev}</a> · <a href=\"/report?month={next}\">{next} →</a></p>\
         <h2>{totals_word}</h2>{totals}\
         <div class=\"grid\"><section><h2>{by_visits}</h2>{v}</section>\
         <section><h2>{by_acts}</h2>{a}</section><section><h2>{by_sat}</h2>{s}</section></div></article>",
        title = lang.t("区级月报", "District monthly report"),
        district = lang.t("辖区", "District"),
        name = esc(&d.district),
        centres = lang.t("中心数", "Centres"),
        n = now.len(),
        open_word = lang.t("未处理报警", "Open alarms"),
        prev = month.previous(),
        next = month.next(),
        totals_word = lang.t("全区合计", "District totals"),
        by_visits = lang.t("到访人次前十", "Top ten by visits"),
        by_acts = lang.t("活动场次前十", "Top ten by activities"),
        by_sat = lang.t("满意度前十", "Top ten by satisfaction"),
        v = top(lang, &now, RankBy::Visits),
        a = top(lang, &now, RankBy::Activities),
        s = top(lang, &now, RankBy::Satisfaction),
    );
    html_page(
        StatusCode::OK,
        frame::page(
            lang,
            lang.t("月报", "Report"),
            Some(&who),
            Nav::Report,
            &body,
        ),
    )
}
