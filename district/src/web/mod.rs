//! The district dashboard (`keting-district ingest --http HOST:PORT`, or
//! `--https`): server-rendered pages in Chinese first and English, on the
//! centre dashboard's stack (axum, its style sheet, escaping, charts, CSV
//! and XLSX writers), reading only the rollups.
//!
//! - [`frame`]: the page frame and the district's navigation.
//! - [`sign_in`]: name and password (five wrong ones lock the name for 15
//!   minutes), sign-out, the language.
//! - [`ranking`]: every centre's month side by side, ranked by visits,
//!   activities or satisfaction, with CSV and XLSX equal to the table.
//! - [`trend`]: the district's months, as a chart and a table.
//! - [`health`]: open alarms and devices offline across the district, and
//!   centres not heard from.
//! - [`centre`]: one centre's month day by day, its trend and its troubles.
//! - [`report`]: the district's monthly report, A4.
//! - [`users`]: the dashboard's users (managers only), audited by name.
//!
//! Security as the centre's: a session for every page but sign-in, every
//! POST with the session's CSRF token and a matching `Origin`, cookies
//! `HttpOnly; SameSite=Strict` (and `Secure` over HTTPS); a manager's
//! actions are audited with their name.

pub mod centre;
pub mod frame;
pub mod health;
pub mod ranking;
pub mod report;
pub mod sign_in;
pub mod trend;
pub mod users;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use keting_webkit::Lang;
use keting_webkit::session::{Session, Sessions, cookie_value};
use tokio_postgres::Client;

use crate::reports::Month;

/// The dashboard's own PostgreSQL connection, made again when it closed
/// (the server restarted): a page asked for meanwhile says the database
/// cannot be read, the next one works.
pub struct Reconnecting {
    url: String,
    client: tokio::sync::Mutex<Client>,
}

impl Reconnecting {
    /// The connection, made again first if it closed.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, Client> {
        let mut client = self.client.lock().await;
        if client.is_closed() {
            match crate::database::connect(&self.url).await {
                Ok(c) => {
                    tracing::info!("district dashboard: PostgreSQL connected again");
                    *client = c;
                }
                Err(e) => tracing::warn!("district dashboard: {e}"),
            }
        }
        client
    }
}

/// What every page needs.
#[derive(Clone)]
pub struct DistrictDashboard {
    db: Arc<Reconnecting>,
    sessions: Arc<Mutex<Sessions<crate::users::DistrictUser>>>,
    /// Wrong sign-in tries per address.
    sources: Arc<keting_webkit::throttle::SourceThrottle>,
    district: String,
    secure: bool,
    offset_minutes: i32,
}

impl DistrictDashboard {
    /// The dashboard of `district` on its own connection `db`; `secure`:
    /// served over HTTPS.
    pub fn new(
        db: Client,
        postgres: &str,
        district: &str,
        secure: bool,
        offset_minutes: i32,
    ) -> Self {
        Self {
            db: Arc::new(Reconnecting {
                url: postgres.to_owned(),
                client: tokio::sync::Mutex::new(db),
            }),
            sessions: Arc::new(Mutex::new(Sessions::default())),
            sources: Arc::new(keting_webkit::throttle::SourceThrottle::default()),
            district: district.to_owned(),
            secure,
            offset_minutes,
        }
    }

    /// The signed-in user of this request.
    pub fn session(&self, headers: &HeaderMap) -> Option<DistrictSession> {
        let cookie = headers
            .get(header::COOKIE)
            .and_then(|c| c.to_str().ok())
            .and_then(|c| cookie_value(c, SESSION_COOKIE))?;
        self.sessions.lock().ok()?.get(cookie)
    }

    /// Ends every session of user `id`; how many.
    pub fn end_sessions_of(&self, id: i32) -> usize {
        self.sessions
            .lock()
            .map(|mut s| s.end_where(|u| u.id == id))
            .unwrap_or(0)
    }

    /// The cookie attributes.
    fn cookie_attributes(&self) -> &'static str {
        if self.secure {
            "Path=/; HttpOnly; SameSite=Strict; Secure"
        } else {
            "Path=/; HttpOnly; SameSite=Strict"
        }
    }

    /// This month in the district's time.
    pub fn this_month(&self) -> Month {
        let ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        Month::of_day(&crate::database::day_of(ms, self.offset_minutes)).unwrap_or(Month {
            year: 2026,
            month: 1,
        })
    }
}

/// A signed-in district user's session.
pub type DistrictSession = Session<crate::users::DistrictUser>;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "keting_district";

/// The page language from the `lang` cookie.
pub fn lang(headers: &HeaderMap) -> Lang {
    Lang::of_request(headers)
}

/// The signed-in user as they are now, or the sign-in page. A user
/// removed, or whose role changed, since signing in (on this dashboard or
/// from the command line) loses every session at their next request: a
/// session never carries more rights than its user has now.
pub async fn signed_in(
    d: &DistrictDashboard,
    headers: &HeaderMap,
) -> Result<(DistrictSession, Lang), Box<Response>> {
    let to_sign_in = || Box::new(keting_webkit::respond::see_other("/sign-in"));
    let Some(who) = d.session(headers) else {
        return Err(to_sign_in());
    };
    let now = {
        let db = d.db.lock().await;
        crate::users::current(&db, who.id).await
    };
    match now {
        Ok(Some(user)) if user == who.user => Ok((who, lang(headers))),
        Ok(_) => {
            let ended = d.end_sessions_of(who.id);
            tracing::warn!(
                user = who.name,
                ended,
                "district dashboard: a user removed or changed lost their sessions"
            );
            Err(to_sign_in())
        }
        Err(e) => Err(Box::new(failed(lang(headers), &e))),
    }
}

/// A page that could not be made: 500, the reason logged, not shown.
pub fn failed(lang: Lang, e: &dyn std::fmt::Display) -> Response {
    tracing::error!("district dashboard: {e}");
    keting_webkit::respond::html_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        frame::page(
            lang,
            lang.t("出错", "Error"),
            None,
            frame::Nav::None,
            &format!(
                "<p class=\"error\">{}</p>",
                lang.t(
                    "数据库暂时无法读取，请稍后再试。",
                    "The database cannot be read just now: try again shortly."
                )
            ),
        ),
    )
}

/// The month a page asks for (`?month=YYYY-MM`), or this month; a bad one
/// is refused with the reason.
pub fn month_asked(
    d: &DistrictDashboard,
    lang: Lang,
    asked: Option<&str>,
) -> Result<Month, Box<Response>> {
    match asked.filter(|s| !s.is_empty()) {
        None => Ok(d.this_month()),
        Some(s) => Month::parse(s).ok_or_else(|| {
            Box::new(frame::not_done(
                StatusCode::BAD_REQUEST,
                lang,
                None,
                lang.t(
                    "月份应写作 YYYY-MM，例如 2026-11",
                    "A month is YYYY-MM, e.g. 2026-11",
                ),
            ))
        }),
    }
}

/// The dashboard's routes.
pub fn router(d: DistrictDashboard) -> Router {
    Router::new()
        .route("/", get(ranking::page))
        .route("/ranking.csv", get(ranking::csv))
        .route("/ranking.xlsx", get(ranking::xlsx))
        .route("/trend", get(trend::page))
        .route("/health", get(health::page))
        .route("/centre/:name", get(centre::page))
        .route("/report", get(report::page))
        .route("/users", get(users::page))
        .route("/users/add", post(users::add))
        .route("/users/remove", post(users::remove))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/lang", get(sign_in::language))
        .route(
            "/assets/dashboard.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    keting_webkit::assets::CSS,
                )
                    .into_response()
            }),
        )
        .with_state(d)
}

/// Serves plain HTTP on `listener` until `shutdown`.
pub async fn serve(
    listener: std::net::TcpListener,
    d: DistrictDashboard,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    keting_webkit::serve::serve(
        listener,
        router(d),
        None,
        keting_webkit::serve::Limits::default(),
        shutdown,
    )
    .await
}

/// A percentage with one decimal, or a dash.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

/// A Beijing-time instant (the district's offset) as `YYYY-MM-DD HH:MM`.
pub fn when(ms: i64, offset_minutes: i32) -> String {
    let offset =
        time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|t| {
            let t = t.to_offset(offset);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}
