//! The district's last twelve months: visits as a bar chart, and every
//! measure month by month in a table beside it.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_webkit::Lang;
use keting_webkit::chart::bars;
use keting_webkit::html::table;
use keting_webkit::respond::html_page;

use super::frame::{self, Nav};
use super::{DistrictDashboard, failed, month_asked, percent, signed_in};
use crate::reports::{CentreFigures, Month};

/// The page's query.
#[derive(serde::Deserialize, Default)]
pub struct TrendQuery {
    month: Option<String>,
}

/// The months as a chart and a table.
pub fn months_html(lang: Lang, months: &[(Month, CentreFigures)]) -> String {
    let labels: Vec<String> = months
        .iter()
        .map(|(m, _)| format!("{:02}", m.month))
        .collect();
    let values: Vec<u64> = months
        .iter()
        .map(|(_, f)| u64::try_from(f.visits).unwrap_or(0))
        .collect();
    let rows: Vec<Vec<String>> = months
        .iter()
        .map(|(m, f)| {
            vec![
                m.to_string(),
                f.visits.to_string(),
                f.activities.to_string(),
                f.ratings.to_string(),
                percent(f.satisfaction()),
                f.points_awarded.to_string(),
                f.bookings_done.to_string(),
                f.alarms_raised.to_string(),
            ]
        })
        .collect();
    format!(
        "<div class=\"grid\"><section>{}</section><section>{}</section></div>",
        bars(&labels, &values, 560, 240),
        table(
            "trend",
            &[
                lang.t("月份", "Month"),
                lang.t("到访人次", "Visits"),
                lang.t("活动场次", "Activities"),
                lang.t("评价数", "Ratings"),
                lang.t("满意度", "Satisfied"),
                lang.t("发放积分", "Points awarded"),
                lang.t("完成课时", "Sessions done"),
                lang.t("报警", "Alarms"),
            ],
            &rows,
        )
    )
}

/// `GET /trend?month=YYYY-MM` (the last month shown).
pub async fn page(
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Query(q): Query<TrendQuery>,
) -> Response {
    let (who, lang) = match signed_in(&d, &headers).await {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let last = match month_asked(&d, lang, q.month.as_deref()) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let months = {
        let db = d.db.lock().await;
        crate::reports::trend(&db, None, last, 12).await
    };
    let months = match months {
        Ok(m) => m,
        Err(e) => return failed(lang, &e),
    };
    let body = format!(
        "<h1>{}</h1><p>{}</p>{}",
        lang.t("全区月度趋势", "The district by month"),
        lang.t("到访人次，近十二个月", "Visits, the last twelve months"),
        months_html(lang, &months)
    );
    html_page(
        StatusCode::OK,
        frame::page(
            lang,
            lang.t("月度趋势", "Trend"),
            Some(&who),
            Nav::Trend,
            &body,
        ),
    )
}
