//! Foot traffic: visits per hour of a day, per day of a week or a month,
//! per month of a year, each against the period before, as a chart and a
//! table; the period's visits by kind (check-ins at the entrance, entries
//! through the gym door, sessions used per service) against the period
//! before; and `/traffic.csv` and `/traffic.xlsx` with the same query, the
//! same rows and numbers as the tables (the CSV in UTF-8 with a byte-order
//! mark, so a Chinese Excel opens it right; the workbook has both tables).

use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::calendar::{SiteCalendar, Span, YearMonth, parse_date};
use time::{Date, Duration as Days, Month};

use super::chart;
use super::html::{self, Lang, Nav, esc};
use super::xlsx::{Cell, Sheet};
use super::{Dashboard, html_page, lang, see_other};
use keting_core::booking::resource::ResourceKind;
use keting_desk as desk;
use keting_desk::records::VisitsByKind;
use keting_desk::records::{Store, StoreError};
use keting_link::clock;

/// Which period, and which one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// A day, by hour.
    Day(Date),
    /// A week (Monday to Sunday; the Monday), by day.
    Week(Date),
    /// A month, by day.
    Month(YearMonth),
    /// A year, by month.
    Year(i32),
}

/// The query: `period=day|week|month|year`, `date=YYYY-MM-DD|YYYY-MM|YYYY`
/// (a week: any day of it); for an export, `table=kinds` for the visits by
/// kind.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TrafficQuery {
    period: Option<String>,
    date: Option<String>,
    #[serde(default)]
    table: Option<String>,
}

/// The visits by kind, this period against the one before: (kind in
/// words, visits, visits before).
pub fn kind_rows(lang: Lang, now: &VisitsByKind, before: &VisitsByKind) -> Vec<(String, u64, u64)> {
    let mut out = vec![
        (
            lang.t("入口签到", "Check-ins at the entrance").to_owned(),
            now.checkins,
            before.checkins,
        ),
        (
            lang.t("门禁进入（健身房）", "Entries through a door (gym)")
                .to_owned(),
            now.door_entries,
            before.door_entries,
        ),
    ];
    let mut kinds: Vec<&str> = now
        .sessions
        .iter()
        .chain(&before.sessions)
        .map(|(k, _)| k.as_str())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    for k in kinds {
        let count = |v: &VisitsByKind| {
            v.sessions
                .iter()
                .find(|(x, _)| x == k)
                .map_or(0, |(_, n)| *n)
        };
        let words = match ResourceKind::parse(k) {
            Some(kind) => match lang {
                Lang::Zh => format!("{}场次", super::bookings::kind_word(lang, kind)),
                Lang::En => format!("{} sessions", super::bookings::kind_word(lang, kind)),
            },
            None => k.to_owned(),
        };
        out.push((words, count(now), count(before)));
    }
    out
}

/// Everything the page and its exports show of a period.
pub struct Figures {
    /// The period's rows.
    pub rows: Vec<(String, u64)>,
    /// The period before's rows.
    pub before: Vec<(String, u64)>,
    /// The period's visits by kind.
    pub kinds: VisitsByKind,
    /// The period before's.
    pub kinds_before: VisitsByKind,
}

/// Reads a period's figures.
pub fn figures(store: &Store, cal: SiteCalendar, p: Period) -> Result<Figures, StoreError> {
    let before = p.previous();
    Ok(Figures {
        rows: rows(store, cal, p)?,
        before: rows(store, cal, before)?,
        kinds: desk::reports::visits_by_kind(store, p.span(cal))?,
        kinds_before: desk::reports::visits_by_kind(store, before.span(cal))?,
    })
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
            "week" => {
                let day = match date {
                    None => cal.date_of(now),
                    Some(d) => parse_date(d).map_err(|_| {
                        lang.t("日期格式应为 2026-12-02", "Write the date as 2026-12-02")
                            .to_owned()
                    })?,
                };
                Ok(Self::Week(monday_of(day)))
            }
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
                .t(
                    "时段应为 日、周、月 或 年",
                    "The period is day, week, month or year",
                )
                .to_owned()),
        }
    }

    /// The period before.
    pub fn previous(self) -> Self {
        match self {
            Self::Day(d) => Self::Day(d.previous_day().unwrap_or(d)),
            Self::Week(m) => Self::Week(m - Days::days(7)),
            Self::Month(m) => Self::Month(m.previous()),
            Self::Year(y) => Self::Year(y - 1),
        }
    }

    fn query(self) -> String {
        match self {
            Self::Day(d) => format!("period=day&date={d}"),
            Self::Week(m) => format!("period=week&date={m}"),
            Self::Month(m) => format!("period=month&date={m}"),
            Self::Year(y) => format!("period=year&date={y}"),
        }
    }

    fn title(self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Day(d), _) => format!("{d}"),
            (Self::Week(m), Lang::Zh) => format!("{m} 起的一周"),
            (Self::Week(m), Lang::En) => format!("week of {m}"),
            (Self::Month(m), _) => format!("{m}"),
            (Self::Year(y), Lang::Zh) => format!("{y}年"),
            (Self::Year(y), Lang::En) => format!("{y}"),
        }
    }
}

/// The Monday of `day`'s week.
fn monday_of(day: Date) -> Date {
    day - Days::days(i64::from(day.weekday().number_days_from_monday()))
}

impl Period {
    /// The instants the period covers.
    pub fn span(self, cal: SiteCalendar) -> Span {
        match self {
            Self::Day(d) => cal.day_span(d),
            Self::Week(m) => Span {
                start: cal.start_of(m),
                end: cal.start_of(m + Days::days(7)),
            },
            Self::Month(m) => cal.month_span(m),
            Self::Year(y) => {
                let first = |y: i32| Date::from_calendar_date(y, Month::January, 1);
                match (first(y), first(y + 1)) {
                    (Ok(a), Ok(b)) => Span {
                        start: cal.start_of(a),
                        end: cal.start_of(b),
                    },
                    _ => cal.day_span(cal.date_of(clock::now())),
                }
            }
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
        Period::Week(m) => {
            let mut out = Vec::with_capacity(7);
            for i in 0..7 {
                let day = m + Days::days(i);
                out.push((format!("{day}"), desk::reports::visits_on(store, cal, day)?));
            }
            out
        }
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
            Some(Period::Week(x)) => ("week", x.to_string()),
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
            ("week", "周（按天）", "week (by day)"),
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
    let figures = d.with_store(move |store| figures(store, cal, period)).await;
    let Figures {
        rows: now_rows,
        before: before_rows,
        kinds,
        kinds_before,
    } = match figures {
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
            Period::Week(_) | Period::Month(_) | Period::Year(_) => {
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
         <a href=\"/traffic.csv?{q}\" download>{csv}</a> · <a href=\"/traffic.xlsx?{q}\" download>{xlsx}</a></p>\
         <div class=\"grid\">{chart}{table}</div>\
         <section id=\"kinds\"><h2>{by_kind}</h2>{kinds}<p><a href=\"/traffic.csv?{q}&amp;table=kinds\" download>{csv}</a></p></section>",
        title = lang.t("客流", "Foot traffic"),
        p = esc(&period.title(lang)),
        form = form(Some(period), None),
        tot = lang.t("合计", "Total"),
        prev = lang.t("上期", "Period before"),
        pt = esc(&before.title(lang)),
        chg = change(lang, total, total_before),
        q = period.query(),
        csv = lang.t("导出 CSV", "Export CSV"),
        xlsx = lang.t("导出 Excel", "Export Excel"),
        by_kind = lang.t("按到访类型", "By kind of visit"),
        kinds = html::table(
            "kinds",
            &[
                lang.t("类型", "Kind"),
                lang.t("本期", "This period"),
                lang.t("上期", "Period before"),
                lang.t("变化", "Change"),
            ],
            &kind_rows(lang, &kinds, &kinds_before)
                .into_iter()
                .map(|(k, n, b)| vec![esc(&k), format!("{n}"), format!("{b}"), change(lang, n, b)])
                .collect::<Vec<_>>()
        ),
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

/// The two tables of a period, as the page shows them: the visits per
/// hour, day or month, and the visits by kind.
fn sheets(lang: Lang, period: Period, f: &Figures) -> [Sheet; 2] {
    [
        Sheet {
            name: format!("{} {}", lang.t("到访", "Visits"), period.title(lang)),
            head: vec![
                lang.t("时段", "Period").to_owned(),
                lang.t("到访", "Visits").to_owned(),
            ],
            rows: f
                .rows
                .iter()
                .map(|(l, v)| vec![Cell::from(l.as_str()), Cell::from(*v)])
                .collect(),
        },
        Sheet {
            name: lang.t("按到访类型", "By kind of visit").to_owned(),
            head: vec![
                lang.t("类型", "Kind").to_owned(),
                lang.t("本期", "This period").to_owned(),
                lang.t("上期", "Period before").to_owned(),
            ],
            rows: kind_rows(lang, &f.kinds, &f.kinds_before)
                .into_iter()
                .map(|(k, n, b)| vec![Cell::from(k), Cell::from(n), Cell::from(b)])
                .collect(),
        },
    ]
}

async fn export(
    d: &Dashboard,
    headers: &HeaderMap,
    q: &TrafficQuery,
) -> Result<(Lang, Period, [Sheet; 2]), Response> {
    let lang = lang(headers);
    let Some(who) = d.session(headers) else {
        return Err(see_other("/sign-in"));
    };
    let cal = d.site().calendar;
    let period =
        Period::of(q, cal, lang).map_err(|why| super::bad_input(lang, Some(&who), &why))?;
    match d.with_store(move |store| figures(store, cal, period)).await {
        Ok(f) => Ok((lang, period, sheets(lang, period, &f))),
        Err(e) => {
            tracing::error!("dashboard: traffic export: {e}");
            Err(super::refused(
                lang,
                Some(&who),
                lang.t("数据库出错", "Database error"),
            ))
        }
    }
}

/// `GET /traffic.csv`: the table's rows, as CSV (`table=kinds`: the
/// visits by kind).
pub async fn csv(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<TrafficQuery>,
) -> Response {
    let (_, period, [visits, kinds]) = match export(&d, &headers, &q).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let (sheet, suffix) = match q.table.as_deref() {
        Some("kinds") => (kinds, "-kinds"),
        _ => (visits, ""),
    };
    let name = format!(
        "keting-traffic-{}{suffix}.csv",
        period.title(Lang::En).replace(' ', "-")
    );
    super::csv_download(&name, &sheet)
}

/// `GET /traffic.xlsx`: both tables as an Excel workbook.
pub async fn xlsx(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Query(q): Query<TrafficQuery>,
) -> Response {
    let (lang, period, sheets) = match export(&d, &headers, &q).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let name = format!(
        "keting-traffic-{}.xlsx",
        period.title(Lang::En).replace(' ', "-")
    );
    super::xlsx_download(lang, &name, &sheets)
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
            table: None,
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
        let monday = parse_date("2026-11-30").unwrap();
        assert_eq!(
            Period::of(&q("week", "2026-12-02"), cal, Lang::En),
            Ok(Period::Week(monday)),
            "a week is named by any of its days"
        );
        assert_eq!(
            Period::Week(monday).previous(),
            Period::Week(parse_date("2026-11-23").unwrap())
        );
        let span = Period::Week(monday).span(cal);
        assert_eq!(
            span.end.as_unix_millis() - span.start.as_unix_millis(),
            7 * 86_400_000
        );
        assert!(Period::of(&q("fortnight", ""), cal, Lang::En).is_err());
        assert!(Period::of(&q("day", &"9".repeat(10_000)), cal, Lang::En).is_err());
        assert_eq!(
            Period::Month("2026-01".parse().unwrap()).previous(),
            Period::Month("2025-12".parse().unwrap())
        );
    }
}
