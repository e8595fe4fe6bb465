//! Every centre's month side by side, ranked: by visits (popularity),
//! activities held, or residents' satisfaction (the share of ratings of 4
//! or 5 stars), the district's three measures of a centre. A centre with no
//! event in the month is listed with zeros, last. The CSV and the XLSX are
//! the table on the screen.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::html::{esc, table};
use keting_webkit::respond::{csv_download, html_page};
use keting_webkit::xlsx::{Cell, Sheet};

use super::frame::{self, Nav};
use super::{DistrictDashboard, failed, month_asked, percent, signed_in};
use crate::reports::{self, CentreFigures, Month};

/// What the ranking is by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankBy {
    /// Counted visits.
    Visits,
    /// Activities held.
    Activities,
    /// Share of ratings of 4 or 5 stars.
    Satisfaction,
}

impl RankBy {
    fn parse(s: Option<&str>) -> Self {
        match s {
            Some("activities") => Self::Activities,
            Some("satisfaction") => Self::Satisfaction,
            _ => Self::Visits,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Visits => "visits",
            Self::Activities => "activities",
            Self::Satisfaction => "satisfaction",
        }
    }
}

/// Ranks `rows` by `by`, best first; ties by name.
pub fn rank(rows: &mut [CentreFigures], by: RankBy) {
    rows.sort_by(|a, b| {
        let order = match by {
            RankBy::Visits => b.visits.cmp(&a.visits),
            RankBy::Activities => b.activities.cmp(&a.activities),
            RankBy::Satisfaction => b
                .satisfaction()
                .unwrap_or(-1.0)
                .total_cmp(&a.satisfaction().unwrap_or(-1.0))
                .then(b.ratings.cmp(&a.ratings)),
        };
        order.then_with(|| a.centre.cmp(&b.centre))
    });
}

/// The page's query.
#[derive(serde::Deserialize, Default)]
pub struct RankingQuery {
    month: Option<String>,
    by: Option<String>,
}

fn head(lang: Lang) -> Vec<String> {
    [
        ("名次", "Rank"),
        ("中心", "Centre"),
        ("到访人次", "Visits"),
        ("人·日", "Visitor-days"),
        ("活动场次", "Activities"),
        ("评价数", "Ratings"),
        ("满意度", "Satisfied"),
        ("平均星级", "Avg stars"),
        ("发放积分", "Points awarded"),
        ("兑换积分", "Points spent"),
        ("完成课时", "Sessions done"),
        ("夜间入馆", "Door entries"),
        ("报警", "Alarms"),
    ]
    .iter()
    .map(|(zh, en)| lang.t(zh, en).to_owned())
    .collect()
}

/// The ranking as a sheet: what the page, the CSV and the XLSX show.
pub fn sheet(lang: Lang, month: Month, rows: &[CentreFigures]) -> Sheet {
    Sheet {
        name: format!("{}{month}", lang.t("排名", "Ranking ")),
        head: head(lang),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, f)| {
                vec![
                    Cell::Number((i + 1) as f64),
                    Cell::Text(f.centre.clone()),
                    Cell::Number(f.visits as f64),
                    Cell::Number(f.visitor_days as f64),
                    Cell::Number(f.activities as f64),
                    Cell::Number(f.ratings as f64),
                    Cell::Text(percent(f.satisfaction())),
                    Cell::Text(f.average_stars().map_or("—".into(), |s| format!("{s:.2}"))),
                    Cell::Number(f.points_awarded as f64),
                    Cell::Number(f.points_spent as f64),
                    Cell::Number(f.bookings_done as f64),
                    Cell::Number(f.door_entries as f64),
                    Cell::Number(f.alarms_raised as f64),
                ]
            })
            .collect(),
    }
}

async fn ranked(
    d: &DistrictDashboard,
    month: Month,
    by: RankBy,
) -> Result<Vec<CentreFigures>, crate::database::DatabaseError> {
    let db = d.db.lock().await;
    let mut rows = reports::month_by_centre(&db, month).await?;
    rank(&mut rows, by);
    Ok(rows)
}

/// `GET /?month=YYYY-MM&by=visits|activities|satisfaction`.
pub async fn page(
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Query(q): Query<RankingQuery>,
) -> Response {
    let (who, lang) = match signed_in(&d, &headers).await {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let month = match month_asked(&d, lang, q.month.as_deref()) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let by = RankBy::parse(q.by.as_deref());
    let rows = match ranked(&d, month, by).await {
        Ok(r) => r,
        Err(e) => return failed(lang, &e),
    };
    let s = sheet(lang, month, &rows);
    let cells: Vec<Vec<String>> = s
        .rows
        .iter()
        .zip(&rows)
        .map(|(r, f)| {
            r.iter()
                .enumerate()
                .map(|(i, c)| match (i, c) {
                    (1, _) => format!(
                        "<a href=\"/centre/{0}?month={month}\">{0}</a>",
                        esc(&f.centre)
                    ),
                    (_, Cell::Text(t)) => esc(t),
                    (_, Cell::Number(n)) => format!("{n}"),
                })
                .collect()
        })
        .collect();
    let head: Vec<&str> = s.head.iter().map(String::as_str).collect();
    let total_visits: i64 = rows.iter().map(|r| r.visits).sum();
    let total_activities: i64 = rows.iter().map(|r| r.activities).sum();
    let by_links: String = [
        (RankBy::Visits, "按到访", "By visits"),
        (RankBy::Activities, "按活动", "By activities"),
        (RankBy::Satisfaction, "按满意度", "By satisfaction"),
    ]
    .iter()
    .map(|(b, zh, en)| {
        if *b == by {
            format!("<strong>{}</strong>", lang.t(zh, en))
        } else {
            format!(
                "<a href=\"/?month={month}&by={}\">{}</a>",
                b.key(),
                lang.t(zh, en)
            )
        }
    })
    .collect::<Vec<_>>()
    .join(" · ");
    let body = format!(
        "<h1>{title} {month}</h1>\
         <p><a href=\"/?month={prev}&by={key}\">← {prev}</a> · <a href=\"/?month={next}&by={key}\">{next} →</a></p>\
         <p>{centres}: {n} · {visits}: <strong>{total_visits}</strong> · {acts}: <strong>{total_activities}</strong></p>\
         <p>{by_links}</p>\
         <p><a href=\"/ranking.csv?month={month}&by={key}\">CSV</a> · <a href=\"/ranking.xlsx?month={month}&by={key}\">Excel</a></p>{table}",
        title = lang.t("各中心排名", "Centres ranked"),
        prev = month.previous(),
        next = month.next(),
        key = by.key(),
        centres = lang.t("中心", "Centres"),
        n = rows.len(),
        visits = lang.t("到访人次", "Visits"),
        acts = lang.t("活动场次", "Activities"),
        table = table("ranking", &head, &cells),
    );
    html_page(
        StatusCode::OK,
        frame::page(
            lang,
            lang.t("各中心排名", "Ranking"),
            Some(&who),
            Nav::Ranking,
            &body,
        ),
    )
}

async fn export(d: DistrictDashboard, headers: HeaderMap, q: RankingQuery, xlsx: bool) -> Response {
    let lang = match signed_in(&d, &headers).await {
        Ok((_, lang)) => lang,
        Err(r) => return *r,
    };
    let month = match month_asked(&d, lang, q.month.as_deref()) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let rows = match ranked(&d, month, RankBy::parse(q.by.as_deref())).await {
        Ok(r) => r,
        Err(e) => return failed(lang, &e),
    };
    let s = sheet(lang, month, &rows);
    if xlsx {
        keting_webkit::respond::xlsx_download(&format!("district-ranking-{month}.xlsx"), &[s])
            .unwrap_or_else(|e| failed(lang, &e))
    } else {
        csv_download(&format!("district-ranking-{month}.csv"), &s)
    }
}

/// `GET /ranking.csv`: the table, as CSV.
pub async fn csv(
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Query(q): Query<RankingQuery>,
) -> Response {
    export(d, headers, q, false).await
}

/// `GET /ranking.xlsx`: the table, as an Excel workbook.
pub async fn xlsx(
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Query(q): Query<RankingQuery>,
) -> Response {
    export(d, headers, q, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre(
        name: &str,
        visits: i64,
        activities: i64,
        ratings: i64,
        satisfied: i64,
    ) -> CentreFigures {
        CentreFigures {
            centre: name.into(),
            visits,
            activities,
            ratings,
            satisfied,
            ..CentreFigures::default()
        }
    }

    #[test]
    fn centres_rank_best_first_and_a_centre_with_no_ratings_last_by_satisfaction() {
        let mut rows = vec![
            centre("a", 10, 5, 0, 0),
            centre("b", 30, 1, 10, 9),
            centre("c", 20, 9, 4, 4),
        ];
        rank(&mut rows, RankBy::Visits);
        assert_eq!(
            rows.iter().map(|r| r.centre.as_str()).collect::<Vec<_>>(),
            ["b", "c", "a"]
        );
        rank(&mut rows, RankBy::Activities);
        assert_eq!(rows[0].centre, "c");
        rank(&mut rows, RankBy::Satisfaction);
        assert_eq!(
            rows.iter().map(|r| r.centre.as_str()).collect::<Vec<_>>(),
            ["c", "b", "a"]
        );
    }
}
