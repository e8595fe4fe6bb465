//! One centre: its month day by day, its last twelve months, and what is
//! wrong there now.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_webkit::html::{esc, table};
use keting_webkit::respond::html_page;

use super::frame::{self, Nav};
use super::{DistrictDashboard, failed, month_asked, percent, signed_in};

/// The page's query.
#[derive(serde::Deserialize, Default)]
pub struct CentreQuery {
    month: Option<String>,
}

/// `GET /centre/NAME?month=YYYY-MM`.
pub async fn page(
    State(d): State<DistrictDashboard>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<CentreQuery>,
) -> Response {
    let (who, lang) = match signed_in(&d, &headers).await {
        Ok(w) => w,
        Err(r) => return *r,
    };
    if !keting_core::district::valid_name(&name) {
        return frame::not_done(
            StatusCode::NOT_FOUND,
            lang,
            Some(&who),
            lang.t("没有这个中心", "No such centre"),
        );
    }
    let month = match month_asked(&d, lang, q.month.as_deref()) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let read = async {
        let db = d.db.lock().await;
        let known = crate::reports::last_heard(&db)
            .await?
            .iter()
            .any(|(c, _)| *c == name);
        let days = crate::reports::centre_days(&db, &name, month).await?;
        let trend = crate::reports::trend(&db, Some(&name), month, 12).await?;
        let troubles = crate::reports::troubles(&db, Some(&name)).await?;
        Ok::<_, crate::database::DatabaseError>((known, days, trend, troubles))
    };
    let (known, days, trend, troubles) = match read.await {
        Ok(r) => r,
        Err(e) => return failed(lang, &e),
    };
    if !known {
        return frame::not_done(
            StatusCode::NOT_FOUND,
            lang,
            Some(&who),
            lang.t(
                "这个中心还没有发来任何消息",
                "This centre has sent nothing yet",
            ),
        );
    }
    let rows: Vec<Vec<String>> = days
        .iter()
        .map(|day| {
            let f = &day.figures;
            vec![
                day.day.clone(),
                f.visits.to_string(),
                f.visitor_days.to_string(),
                f.activities.to_string(),
                f.ratings.to_string(),
                percent(f.satisfaction()),
                f.points_awarded.to_string(),
                f.bookings_done.to_string(),
                f.door_entries.to_string(),
                f.alarms_raised.to_string(),
            ]
        })
        .collect();
    let days_html = if rows.is_empty() {
        format!("<p>{}</p>", lang.t("本月没有记录", "Nothing this month"))
    } else {
        table(
            "days",
            &[
                lang.t("日期", "Day"),
                lang.t("到访人次", "Visits"),
                lang.t("人数", "Visitors"),
                lang.t("活动场次", "Activities"),
                lang.t("评价数", "Ratings"),
                lang.t("满意度", "Satisfied"),
                lang.t("发放积分", "Points awarded"),
                lang.t("完成课时", "Sessions done"),
                lang.t("夜间入馆", "Door entries"),
                lang.t("报警", "Alarms"),
            ],
            &rows,
        )
    };
    let body = format!(
        "<h1>{name} · {month}</h1>\
         <p><a href=\"/centre/{name}?month={prev}\">← {prev}</a> · <a href=\"/centre/{name}?month={next}\">{next} →</a> · <a href=\"/?month={month}\">{back}</a></p>\
         <h2>{now}</h2>{troubles}<h2>{by_day}</h2>{days_html}<h2>{months}</h2>{trend}",
        name = esc(&name),
        prev = month.previous(),
        next = month.next(),
        back = lang.t("返回排名", "Back to the ranking"),
        now = lang.t("现在的情况", "Now"),
        troubles = super::health::troubles_html(lang, &troubles, d.offset_minutes),
        by_day = lang.t("逐日", "Day by day"),
        months = lang.t("近十二个月", "The last twelve months"),
        trend = super::trend::months_html(lang, &trend),
    );
    html_page(
        StatusCode::OK,
        frame::page(lang, &name, Some(&who), Nav::Ranking, &body),
    )
}
