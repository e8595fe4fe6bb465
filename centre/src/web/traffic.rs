//! Foot traffic: visits per hour of a day, per day of a month, per month
//! of a year, each against the period before, as a chart and a table; and
//! `/traffic.csv` with the same query, the same rows and numbers as the
//! table (UTF-8 with a byte-order mark, so a Chinese Excel opens it right).

use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keting_core::calendar::{SiteCalendar, YearMonth, parse_date};
use time::{Date, Month};

use super::chart;
use super::html::{self, Lang, Nav, esc};
use super::{Dashboard, html_page, lang, see_other};
use crate::clock;
use crate::desk;
use crate::store::{Store, StoreError};

/// Which period, and which one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// A day, by hour.
    Day(Date),
    /// A month, by day.
    Month(YearMonth),
    /// A year, by month.
    Year(i32),
}

/// The query: `period=day|month|year`, `date=YYYY-MM-DD|YYYY-MM|YYYY`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TrafficQuery {
    period: Option<String>,
    date: Option<String>,
}

impl Period {
    /// The period a query names (today when it names none), or why not.
    pub fn of(q: &TrafficQuery, cal: SiteCalendar, lang: Lang) -> Result<Self, String> {
        let now = clock::now();
        let date = q.date.as_deref().map(str::trim).filter(|d| !d.is_empty());
        let too_long = date.is_some_and(|d| d.len() > 10);
        if too_long {
            return Err(lang.t("日期太长", "The date is too long").to_owned());
        }
        match q.period.as_deref().unwrap_or("day") {
            "day" => match date {
                None => Ok(Self::Day(cal.date_of(now))),
                Some(d) => parse_date(d).map(Self::Day).map_err(|_| {
                    lang.t("日期格式应为 2026-12-02", "Write the date as 2026-12-02")
                        .to_owned()
                }),
            },
            "month" => match date {
                None => Ok(Self::Month(cal.month_of(now))),
                Some(d) => d.parse().map(Self::Month).map_err(|_| {
                    lang.t("月份格式应为 2026-12", "Write the month as 2026-12")
                        .to_owned()
                }),
            },
            "year" => match date {
                None => Ok(Self::Year(cal.date_of(now).year())),
                Some(d) => match d.parse::<i32>() {
                    Ok(y) if (2000..=2100).contains(&y) && d.len() == 4 => Ok(Self::Year(y)),
                    _ => Err(lang
                        .t("年份格式应为 2026", "Write the year as 2026")
                        .to_owned()),
                },
            },
            _ => Err(lang
                .t("时段应为 日、月 或 年", "The period is day, month or year")
                .to_owned()),
        }
    }

    /// The period before.
    pub fn previous(self) -> Self {
        match self {
            Self::Day(d) => Self::Day(d.previous_day().unwrap_or(d)),
            Self::Month(m) => Self::Month(m.previous()),
            Self::Year(y) => Self::Year(y - 1),
        }
    }

    fn query(self) -> String {
        match self {
            Self::Day(d) => format!("period=day&date={d}"),
            Self::Month(m) => format!("period=month&date={m}"),
            Self::Year(y) => format!("period=year&date={y}"),
        }
    }

    fn title(self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Day(d), _) => format!("{d}"),
            (Self::Month(m), _) => format!("{m}"),
            (Self::Year(y), Lang::Zh) => format!("{y}年"),
            (Self::Year(y), Lang::En) => format!("{y}"),
        }
    }
}

/// The rows of a period: (label, visits).
pub fn rows(store: &Store, cal: SiteCalendar, p: Period) -> Result<Vec<(String, u64)>, StoreError> {
    Ok(match p {
        Period::Day(d) => desk::reports::visits_per_hour(store, cal, d)?
            .into_iter()
            .enumerate()
            .map(|(h, v)| (format!("{h:02}:00"), v))
            .collect(),
        Period::Month(m) => desk::reports::visits_per_day(store, cal, m)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("{m}-{:02}", i + 1), v))
            .collect(),
        Period::Year(y) => {
            let mut out = Vec::with_capacity(12);
            for n in 1..=12u8 {
                let month = YearMonth {
                    year: y,
                    month: Month::try_from(n).unwrap_or(Month::January),
                };
                let v: u64 = desk::reports::visits_per_day(store, cal, month)?
                    .iter()
                    .sum();
                out.push((format!("{month}"), v));
            }
            out
        }
    })
}

fn change(lang: Lang, now: u64, before: u64) -> String {
    if before == 0 {
        return lang.t("上期为 0", "none in the period before").to_owned();
    }
    let pct = (now as f64 - before as f64) * 100.0 / before as f64;
    format!("{pct:+.1}%")
}

/// `GET /traffic`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<TrafficQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let cal = d.site().calendar;
    let form = |p: Option<Period>, error: Option<&str>| {
        let (kind, date) = match p {
            Some(Period::Day(x)) => ("day", x.to_string()),
            Some(Period::Month(m)) => ("month", m.to_string()),
            Some(Period::Year(y)) => ("year", y.to_string()),
            None => (
                q.period.as_deref().unwrap_or("day"),
                q.date.clone().unwrap_or_default(),
            ),
        };
        let mut f = String::from("<form method=\"get\" action=\"/traffic\" class=\"period\">");
        let _ = write!(
            f,
            "<label>{} <select name=\"period\">",
            lang.t("时段", "Period")
        );
        for (v, zh, en) in [
            ("day", "日（按小时）", "day (by hour)"),
            ("month", "月（按天）", "month (by day)"),
            ("year", "年（按月）", "year (by month)"),
        ] {
            let _ = write!(
                f,
                "<option value=\"{v}\"{}>{}</option>",
                if v == kind { " selected" } else { "" },
                lang.t(zh, en)
            );
        }
        let _ = write!(
            f,
            "</select></label> <label>{} <input name=\"date\" value=\"{}\" maxlength=\"10\" size=\"11\"></label> <button>{}</button></form>",
            lang.t("日期", "Date"),
            esc(&date.chars().take(10).collect::<String>()),
            lang.t("查看", "Show")
        );
        if let Some(e) = error {
            let _ = write!(f, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
        }
        f
    };
    let period = match Period::of(&q, cal, lang) {
        Ok(p) => p,
        Err(why) => {
            let body = format!(
                "<h1>{}</h1>{}",
                lang.t("客流", "Foot traffic"),
                form(None, Some(&why))
            );
            return html_page(
                StatusCode::BAD_REQUEST,
                html::page(
                    lang,
                    lang.t("客流", "Foot traffic"),
                    Some(&who),
                    Nav::Traffic,
                    &body,
                ),
            );
        }
    };
    let before = period.previous();
    let figures = d
        .with_store(move |store| {
            Ok::<_, StoreError>((rows(store, cal, period)?, rows(store, cal, before)?))
        })
        .await;
    let (now_rows, before_rows) = match figures {
        Ok(f) => f,
        Err(e) => {
            tracing::error!("dashboard: traffic: {e}");
            return super::refused(lang, Some(&who), lang.t("数据库出错", "Database error"));
        }
    };
    let total: u64 = now_rows.iter().map(|r| r.1).sum();
    let total_before: u64 = before_rows.iter().map(|r| r.1).sum();
    // The chart's labels are short (the hour, the day, the month); the
    // table says them whole.
    let labels: Vec<String> = now_rows
        .iter()
        .map(|r| match period {
            Period::Day(_) => r.0.chars().take(2).collect(),
            Period::Month(_) | Period::Year(_) => {
                r.0.chars()
                    .rev()
                    .take(2)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect()
            }
        })
        .collect();
    let values: Vec<u64> = now_rows.iter().map(|r| r.1).collect();
    let table_rows: Vec<Vec<String>> = now_rows
        .iter()
        .map(|(l, v)| vec![esc(l), format!("{v}")])
        .collect();
    let body = format!(
        "<h1>{title} {p}</h1>{form}\
         <p>{tot}: <b id=\"total\">{total}</b> · {prev} {pt}: {total_before} ({chg}) · \
         <a href=\"/traffic.csv?{q}\" download>{csv}</a></p>\
         <div class=\"grid\">{chart}{table}</div>",
        title = lang.t("客流", "Foot traffic"),
        p = esc(&period.title(lang)),
        form = form(Some(period), None),
        tot = lang.t("合计", "Total"),
        prev = lang.t("上期", "Period before"),
        pt = esc(&before.title(lang)),
        chg = change(lang, total, total_before),
        q = period.query(),
        csv = lang.t("导出 CSV", "Export CSV"),
        chart = chart::bars(&labels, &values, 760, 240),
        table = html::table(
            "traffic",
            &[lang.t("时段", "Period"), lang.t("到访", "Visits")],
            &table_rows
        ),
    );
    html_page(
        StatusCode::OK,
        html::page(
            lang,
            lang.t("客流", "Foot traffic"),
            Some(&who),
            Nav::Traffic,
            &body,
        ),
    )
}

/// `GET /traffic.csv`: the table's rows, as CSV.
pub async fn csv(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<TrafficQuery>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let cal = d.site().calendar;
    let period = match Period::of(&q, cal, lang) {
        Ok(p) => p,
        Err(why) => return super::bad_input(lang, Some(&who), &why),
    };
    let rows = match d.with_store(move |store| rows(store, cal, period)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("dashboard: traffic csv: {e}");
            return super::refused(lang, Some(&who), lang.t("数据库出错", "Database error"));
        }
    };
    let mut out = String::from("\u{feff}");
    let _ = writeln!(
        out,
        "{},{}",
        lang.t("时段", "Period"),
        lang.t("到访", "Visits")
    );
    for (label, v) in rows {
        let _ = writeln!(out, "{label},{v}");
    }
    let name = format!("keting-traffic-{}.csv", period.title(Lang::En));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_date_says_how_to_write_it() {
        let cal = SiteCalendar::china();
        let q = |p: &str, d: &str| TrafficQuery {
            period: Some(p.into()),
            date: Some(d.into()),
        };
        assert!(matches!(
            Period::of(&q("day", "2026-12-02"), cal, Lang::En),
            Ok(Period::Day(_))
        ));
        assert_eq!(
            Period::of(&q("day", "02/12/2026"), cal, Lang::En).unwrap_err(),
            "Write the date as 2026-12-02"
        );
        assert!(
            Period::of(&q("month", "2026-13"), cal, Lang::Zh)
                .unwrap_err()
                .contains("2026-12")
        );
        assert!(Period::of(&q("year", "1999"), cal, Lang::En).is_err());
        assert!(Period::of(&q("week", ""), cal, Lang::En).is_err());
        assert!(Period::of(&q("day", &"9".repeat(10_000)), cal, Lang::En).is_err());
        assert_eq!(
            Period::Month("2026-01".parse().unwrap()).previous(),
            Period::Month("2025-12".parse().unwrap())
        );
    }
}
