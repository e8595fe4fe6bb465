//! The monthly report: one page per month, printable on A4 from the
//! browser, with the three figures the district judges a centre by:
//! visits, activities and volunteering, and satisfaction per service; each
//! against the month before, and the trend over six months. In Chinese
//! first (the district's language), English on request.

use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::booking::resource::ResourceKind;
use keting_core::calendar::YearMonth;

use super::chart;
use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::{Dashboard, bad_input, html_page, lang, refused, see_other};
use keting_desk::reports::{MonthFigures, month_figures};
use keting_link::clock;

/// How many months the trend shows.
const TREND_MONTHS: usize = 6;

/// `?month=YYYY-MM`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ReportQuery {
    month: Option<String>,
}

fn service_word(lang: Lang, k: ResourceKind) -> &'static str {
    match (k, lang) {
        (ResourceKind::Piano, Lang::Zh) => "钢琴",
        (ResourceKind::Robot, Lang::Zh) => "艾灸机器人",
        (ResourceKind::Childcare, Lang::Zh) => "托育",
        (ResourceKind::Room, Lang::Zh) => "活动室",
        (ResourceKind::Piano, Lang::En) => "pianos",
        (ResourceKind::Robot, Lang::En) => "moxibustion robot",
        (ResourceKind::Childcare, Lang::En) => "childcare",
        (ResourceKind::Room, Lang::En) => "rooms",
    }
}

fn change(lang: Lang, now: i64, before: i64) -> String {
    if before == 0 {
        return lang.t("上月为 0", "none the month before").to_owned();
    }
    format!("{:+.1}%", (now - before) as f64 * 100.0 / before as f64)
}

fn satisfied_pct(f: &MonthFigures) -> Option<f64> {
    let (n, s) = f
        .ratings
        .iter()
        .fold((0u32, 0u32), |(n, s), r| (n + r.count, s + r.satisfied));
    (n > 0).then(|| f64::from(s) * 100.0 / f64::from(n))
}

/// `GET /report`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let cal = d.site().calendar;
    let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => cal.month_of(clock::now()),
        Some(m) if m.len() <= 7 => match m.parse::<YearMonth>() {
            Ok(m) => m,
            Err(_) => {
                return bad_input(
                    lang,
                    Some(&who),
                    lang.t("月份格式应为 2026-12", "Write the month as 2026-12"),
                );
            }
        },
        Some(_) => {
            return bad_input(
                lang,
                Some(&who),
                lang.t("月份格式应为 2026-12", "Write the month as 2026-12"),
            );
        }
    };
    let months: Vec<YearMonth> = {
        let mut m = vec![month];
        while m.len() < TREND_MONTHS {
            let before = m[m.len() - 1].previous();
            m.push(before);
        }
        m
    };
    let figures = d
        .with_store(move |store| {
            months
                .iter()
                .map(|m| month_figures(store, cal, *m))
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    let figures = match figures {
        Ok(f) => f,
        Err(e) => return refused(lang, Some(&who), &e.words(lang)),
    };
    let (this, before) = (&figures[0], &figures[1]);
    let mut b = String::new();
    let _ = write!(
        b,
        "<form method=\"get\" action=\"/report\" class=\"period\"><label>{} <input name=\"month\" value=\"{}\" size=\"8\" maxlength=\"7\"></label> <button>{}</button> \
         <button type=\"button\" onclick=\"window.print()\">{}</button></form>\
         <article class=\"report\"><h1>{} {}</h1><p>{}</p>",
        lang.t("月份", "Month"),
        month,
        lang.t("查看", "Show"),
        lang.t("打印（A4）", "Print (A4)"),
        esc(&d.site().name),
        match lang {
            Lang::Zh => format!("{}年{}月 月报", month.year, u8::from(month.month)),
            Lang::En => format!("monthly report, {month}"),
        },
        lang.t(
            "到访、活动与志愿服务、居民满意度",
            "Visits, activities and volunteering, residents' satisfaction"
        ),
    );
    // 1. Visits.
    let labels: Vec<String> = (1..=this.per_day.len()).map(|i| format!("{i}")).collect();
    let _ = write!(
        b,
        "<h2>{}</h2><p>{}: <b id=\"month-visits\">{}</b> · {}: {} ({})</p>{}",
        lang.t("一、到访人次", "1. Visits"),
        lang.t("本月", "This month"),
        this.visits,
        lang.t("上月", "The month before"),
        before.visits,
        change(lang, this.visits as i64, before.visits as i64),
        chart::bars(&labels, &this.per_day, 680, 180),
    );
    // 2. Activities and volunteering.
    let _ = write!(
        b,
        "<h2>{}</h2>{}",
        lang.t("二、活动与志愿服务", "2. Activities and volunteering"),
        html::table(
            "volunteering",
            &[
                "",
                lang.t("本月", "This month"),
                lang.t("上月", "Month before"),
                lang.t("变化", "Change")
            ],
            &[
                vec![
                    lang.t("举办活动（次）", "Activities held").to_owned(),
                    format!("<span id=\"month-activities\">{}</span>", this.activities),
                    format!("{}", before.activities),
                    change(lang, this.activities as i64, before.activities as i64),
                ],
                vec![
                    lang.t("活动参与（人次）", "Participants").to_owned(),
                    format!(
                        "<span id=\"month-participants\">{}</span>",
                        this.participants
                    ),
                    format!("{}", before.participants),
                    change(lang, this.participants as i64, before.participants as i64),
                ],
                vec![
                    lang.t("参与居民（人）", "People who took part").to_owned(),
                    format!("{}", this.distinct_people),
                    format!("{}", before.distinct_people),
                    change(
                        lang,
                        this.distinct_people as i64,
                        before.distinct_people as i64
                    ),
                ],
                vec![
                    lang.t("志愿服务时长（小时）", "Volunteer hours").to_owned(),
                    format!(
                        "<span id=\"month-volunteer-hours\">{:.1}</span>",
                        this.volunteer_minutes as f64 / 60.0
                    ),
                    format!("{:.1}", before.volunteer_minutes as f64 / 60.0),
                    change(
                        lang,
                        this.volunteer_minutes as i64,
                        before.volunteer_minutes as i64
                    ),
                ],
                vec![
                    lang.t("参与志愿者（人）", "Volunteers").to_owned(),
                    format!("{}", this.volunteers),
                    format!("{}", before.volunteers),
                    change(lang, this.volunteers as i64, before.volunteers as i64),
                ],
                vec![
                    lang.t("发放志愿积分", "Points awarded").to_owned(),
                    format!("<span id=\"month-points\">{}</span>", this.points),
                    format!("{}", before.points),
                    change(lang, this.points, before.points),
                ],
            ],
        )
    );
    // 3. Satisfaction per service.
    let rows: Vec<Vec<String>> = this
        .ratings
        .iter()
        .map(|r| {
            vec![
                service_word(lang, r.kind).to_owned(),
                format!("{}", r.count),
                format!("{:.2}", f64::from(r.average_x100) / 100.0),
                format!(
                    "{:.0}%",
                    f64::from(r.satisfied) * 100.0 / f64::from(r.count.max(1))
                ),
            ]
        })
        .collect();
    let _ = write!(
        b,
        "<h2>{}</h2>",
        lang.t("三、居民满意度", "3. Residents' satisfaction")
    );
    if rows.is_empty() {
        let _ = write!(
            b,
            "<p>{}</p>",
            lang.t("本月没有评价", "No ratings this month")
        );
    } else {
        b.push_str(&html::table(
            "satisfaction",
            &[
                lang.t("服务", "Service"),
                lang.t("评价数", "Ratings"),
                lang.t("平均星级", "Average stars"),
                lang.t("满意（4–5 星）", "Satisfied (4–5 stars)"),
            ],
            &rows,
        ));
    }
    // The trend.
    let rows: Vec<Vec<String>> = figures
        .iter()
        .rev()
        .map(|f| {
            vec![
                format!("{}", f.month),
                format!("{}", f.visits),
                format!("{}", f.activities),
                format!("{}", f.points),
                satisfied_pct(f)
                    .map(|p| format!("{p:.0}%"))
                    .unwrap_or_else(|| "–".to_owned()),
            ]
        })
        .collect();
    let _ = write!(
        b,
        "<h2>{}</h2>{}</article>",
        lang.t("近六个月趋势", "The last six months"),
        html::table(
            "trend",
            &[
                lang.t("月份", "Month"),
                lang.t("到访", "Visits"),
                lang.t("活动", "Activities"),
                lang.t("积分", "Points"),
                lang.t("满意", "Satisfied"),
            ],
            &rows,
        )
    );
    html_page(
        StatusCode::OK,
        html::page(
            lang,
            lang.t("月报", "Monthly report"),
            Some(&who),
            Nav::Report,
            &b,
        ),
    )
}
