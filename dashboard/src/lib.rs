//! The staff dashboard in a browser on the office computer
//! (`keting-centre --http HOST:PORT`, off by default): server-rendered
//! pages in Chinese first and English, live parts refreshed by server-sent
//! events, every asset in the binary.
//!
//! - [`session`]: signed-in browsers, their cookie and CSRF token, the idle
//!   and absolute limits.
//! - [`html`]: escaping, the page frame, the two languages.
//! - [`sign_in`]: card number and PIN (the staff PIN's lockout after 5
//!   wrong tries), sign-out.
//! - [`today`]: visits now and by hour, the devices, open alarms with
//!   acknowledge, tonight's gym.
//! - [`traffic`]: visits per hour of a day, day of a month, month of a
//!   year, against the period before, with a CSV export equal to the table.
//! - [`members`]: search, add a member, a lost card's new pass (as a QR
//!   code to print).
//! - [`member`]: one member: points, the gym month, and for a manager
//!   the staff role, a new PIN, a new password.
//! - [`phones`]: a member's own phones (listed, ended) and a one-time
//!   sign-in link with its QR and number for a resident with no kiosk.
//! - [`points`]: volunteer points awarded to a list, reversed with a
//!   reason, a member's postings, the balances and the zero-sum check.
//! - [`report`]: the monthly report for the district (visits, activities
//!   and volunteering, satisfaction per service, six months' trend), A4.
//! - [`vending`]: the drinks machine's catalogue and stock, the newest
//!   redemptions, any in doubt.
//! - [`bookings`]: each resource's hours, places, utilisation and yuan
//!   owed over the last days, with a CSV export equal to the table; the
//!   packages sold, the sessions to check, the ratings per service.
//! - [`resource`]: one resource's settings (hours, slots, capacity not
//!   below what is booked, prices, limits).
//! - [`timetable`]: a resource's week, slot by slot.
//! - [`activities`]: the week's programme by room, planning an activity
//!   (or a repeat of it), CSV and XLSX equal to the page.
//! - [`activity`]: one activity: its list and waiting list, sign-up at the
//!   desk, attendance, volunteers' time, close and award, cancel.
//! - [`alarms`]: the alarm history, who acknowledged what; [`alerts`]: where
//!   alarms are told off-site (channels, a test message), on the same page.
//! - [`suggestions`]: the residents' suggestion box, answered by name.
//! - [`devices`]: every device's state, its self-test, claims confirmed
//!   by PIN, enrolment labels, replace and retire.
//! - [`live`]: the event stream that tells a page to refresh.
//! - [`refusal`]: every typed refusal of the desks in the page's words.
//!
//! From `keting_webkit`, shared with every web surface: `https` (the
//! dashboard over TLS, `--https`), `chart` (bar charts as SVG), `assets`
//! (the style sheet and the one script), `xlsx` and `zip` (the Excel
//! exports), sessions, escaping and the page frame.
//!
//! Security: every page but sign-in needs a session; every POST carries the
//! session's CSRF token and, when the browser sends one, an `Origin` equal
//! to this server; every action goes through a desk function, which checks
//! the role again and audits it with the staff member's name. Cookies are
//! `HttpOnly` and `SameSite=Strict`, and `Secure` under `--https` (over
//! plain HTTP on the centre's LAN a `Secure` cookie would never come
//! back).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod activities;
pub mod activity;
pub mod alarms;
pub mod alerts;
pub mod bookings;
pub mod devices;
pub mod html;
pub mod live;
pub mod member;
pub mod members;
pub mod phones;
pub mod points;
pub mod refusal;
pub mod report;
pub mod resource;
pub mod session;
pub mod sign_in;
pub mod suggestions;
pub mod timetable;
pub mod today;
pub mod traffic;
pub mod vending;

pub use keting_webkit::{assets, chart, https, xlsx, zip};

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use keting_core::pass::PassIssuer;
use keting_core::staff::StaffAction;
use tokio::sync::watch;

use html::Lang;
use keting_desk::device_view::DoorsView;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;
use session::{COOKIE, Sessions, StaffSession, cookie_value};

/// What the dashboard reads and writes.
#[derive(Clone)]
pub struct Dashboard {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    site: SiteRecord,
    issuer: Arc<PassIssuer>,
    doors: watch::Receiver<DoorsView>,
    commits: watch::Receiver<i64>,
    sessions: Mutex<Sessions>,
    /// Wrong tries for names and cards with no secret here: (count, first
    /// try's time, ms), so they lock as a real one would.
    nobody: Mutex<std::collections::HashMap<String, (u32, i64)>>,
    /// Wrong sign-in tries per address.
    sources: keting_webkit::throttle::SourceThrottle,
    site_dir: Option<PathBuf>,
    secure: bool,
    resident_url: Option<String>,
}

/// Where the dashboard stands beside the centre.
#[derive(Clone, Debug, Default)]
pub struct Surroundings {
    /// The provisioning site the centre imported: the dashboard then offers
    /// the technician's steps.
    pub site_dir: Option<PathBuf>,
    /// Served over TLS: cookies are `Secure`.
    pub secure: bool,
    /// The residents' pages' public address, when the centre serves them:
    /// staff can then give a resident a one-time sign-in link.
    pub resident_url: Option<String>,
}

impl Dashboard {
    /// The dashboard of the centre whose database is `database`.
    pub fn new(
        database: PathBuf,
        site: SiteRecord,
        issuer: PassIssuer,
        doors: watch::Receiver<DoorsView>,
        commits: watch::Receiver<i64>,
        around: Surroundings,
    ) -> Result<Self, keting_desk::records::StoreError> {
        let Surroundings {
            site_dir,
            secure,
            resident_url,
        } = around;
        Ok(Self {
            inner: Arc::new(Inner {
                store: Mutex::new(Store::open(&database)?),
                site,
                issuer: Arc::new(issuer),
                doors,
                commits,
                sessions: Mutex::new(Sessions::default()),
                nobody: Mutex::new(std::collections::HashMap::new()),
                sources: keting_webkit::throttle::SourceThrottle::default(),
                site_dir,
                secure,
                resident_url,
            }),
        })
    }

    /// The site.
    pub fn site(&self) -> &SiteRecord {
        &self.inner.site
    }

    /// Issues members' passes (the site key).
    pub fn issuer(&self) -> Arc<PassIssuer> {
        self.inner.issuer.clone()
    }

    /// The cookies' attributes: `HttpOnly`, `SameSite=Strict`, and `Secure`
    /// when the dashboard is served over TLS.
    pub fn cookie_attributes(&self) -> &'static str {
        if self.inner.secure {
            "Path=/; HttpOnly; SameSite=Strict; Secure"
        } else {
            "Path=/; HttpOnly; SameSite=Strict"
        }
    }

    /// The residents' pages' public address, if the centre serves them.
    pub fn resident_url(&self) -> Option<&str> {
        self.inner.resident_url.as_deref()
    }

    /// The provisioning site directory, if the centre has one.
    pub fn site_dir(&self) -> Option<PathBuf> {
        self.inner.site_dir.clone()
    }

    /// The devices and alarms as the controller last published them.
    pub fn doors(&self) -> DoorsView {
        self.inner.doors.borrow().clone()
    }

    /// Runs `f` with the store on a blocking thread (SQLite waits on disk).
    pub async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> T {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = inner.store.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut store)
        })
        .await
        .expect("a dashboard query panicked")
    }

    /// The signed-in staff member of this request, if any.
    pub fn session(&self, headers: &HeaderMap) -> Option<StaffSession> {
        let cookie = headers.get(header::COOKIE)?.to_str().ok()?;
        let token = cookie_value(cookie, COOKIE)?;
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
    }

    /// A wrong try for `key` (a name or card with no secret here) at
    /// `now_ms`: `Some(until)` once it is locked, as five wrong tries lock a
    /// real card for 15 minutes. At most 10,000 such keys are kept.
    pub fn nobody_tried(&self, key: &str, now_ms: i64) -> Option<i64> {
        const LOCK_MS: i64 = 15 * 60 * 1000;
        let mut tries = self
            .inner
            .nobody
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        tries.retain(|_, (_, first)| now_ms - *first < LOCK_MS);
        if tries.len() >= 10_000 && !tries.contains_key(key) {
            return None;
        }
        let entry = tries.entry(key.to_owned()).or_insert((0, now_ms));
        entry.0 += 1;
        (entry.0 >= keting_core::staff::MAX_WRONG_PINS).then_some(entry.1 + LOCK_MS)
    }

    /// Wrong sign-in tries per address ([`keting_webkit::throttle`]).
    pub fn sources(&self) -> &keting_webkit::throttle::SourceThrottle {
        &self.inner.sources
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The page language from the `lang` cookie.
pub fn lang(headers: &HeaderMap) -> Lang {
    Lang::of_request(headers)
}

pub use keting_webkit::respond::{csv_download, csv_field, html_page, origin_ok, see_other};

/// Whether a form's token is the session's.
pub fn csrf_ok(who: &StaffSession, token: &str) -> bool {
    who.csrf_ok(token)
}

/// Why a role may not do something, in Chinese and in English.
pub type RoleWords = (&'static str, &'static str);

/// The checks every form's POST passes, in order: a session (else the
/// sign-in page), this origin and the session's CSRF token (else refused,
/// nothing written), and with `may` a role that may do it (else refused in
/// `may`'s words). The desk checks the role again in its transaction.
pub fn form_guard(
    d: &Dashboard,
    headers: &HeaderMap,
    csrf: &str,
    may: Option<(StaffAction, RoleWords)>,
) -> Result<(StaffSession, Lang), Box<Response>> {
    let lang = lang(headers);
    let Some(who) = d.session(headers) else {
        return Err(Box::new(see_other("/sign-in")));
    };
    if !origin_ok(headers) || !csrf_ok(&who, csrf) {
        return Err(Box::new(refused(
            lang,
            Some(&who),
            lang.t("表单已过期，请重试", "The form expired: try again"),
        )));
    }
    if let Some((action, (zh, en))) = may
        && !who.role.may(action)
    {
        return Err(Box::new(refused(lang, Some(&who), lang.t(zh, en))));
    }
    Ok((who, lang))
}

/// An Excel workbook to download, or a 500 saying it could not be made.
pub fn xlsx_download(lang: Lang, name: &str, sheets: &[xlsx::Sheet]) -> Response {
    keting_webkit::respond::xlsx_download(name, sheets).unwrap_or_else(|e| {
        tracing::warn!("an Excel export: {e}");
        not_done(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            None,
            lang.t("无法生成表格文件", "The workbook could not be made"),
        )
    })
}

/// A request refused: 403 with the reason, nothing written.
pub fn refused(lang: Lang, who: Option<&StaffSession>, why: &str) -> Response {
    not_done(StatusCode::FORBIDDEN, lang, who, why)
}

/// A request with a bad value: 400 with the reason, nothing written.
pub fn bad_input(lang: Lang, who: Option<&StaffSession>, why: &str) -> Response {
    not_done(StatusCode::BAD_REQUEST, lang, who, why)
}

/// A request not done with `status` and the reason, nothing written.
pub fn not_done_with(
    status: StatusCode,
    lang: Lang,
    who: Option<&StaffSession>,
    why: &str,
) -> Response {
    not_done(status, lang, who, why)
}

fn not_done(status: StatusCode, lang: Lang, who: Option<&StaffSession>, why: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"error\">{}</p><p><a href=\"/\">{}</a></p>",
        lang.t("未执行", "Not done"),
        html::esc(why),
        lang.t("返回今日", "Back to Today")
    );
    html_page(
        status,
        html::page(
            lang,
            lang.t("未执行", "Not done"),
            who,
            html::Nav::None,
            &body,
        ),
    )
}

async fn css() -> Response {
    keting_webkit::respond::css()
}

async fn js() -> Response {
    keting_webkit::respond::asset("text/javascript; charset=utf-8", assets::LIVE_JS)
}

#[derive(serde::Deserialize)]
struct LangTo {
    to: String,
}

/// `/lang?to=en|zh`: the language cookie, then back to Today.
async fn set_lang(axum::extract::Query(q): axum::extract::Query<LangTo>) -> Response {
    keting_webkit::respond::set_lang(&q.to, "/")
}

/// The dashboard's routes.
pub fn router(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/", get(today::page))
        .route("/live/today", get(today::live))
        .route("/alarms/ack", post(today::ack))
        .route("/doors/reset", post(today::reset_door))
        .route("/traffic", get(traffic::page))
        .route("/traffic.csv", get(traffic::csv))
        .route("/traffic.xlsx", get(traffic::xlsx))
        .route("/members", get(members::page))
        .route("/members/add", post(members::add))
        .route("/members/reissue", post(members::reissue))
        .route("/members/erase", post(members::erase))
        .route("/members/:id", get(member::page))
        .route("/members/:id/gym", post(member::gym))
        .route("/members/:id/role", post(member::role))
        .route("/members/:id/pin", post(member::pin))
        .route("/members/:id/password", post(member::password))
        .route("/members/:id/phone-link", post(phones::link))
        .route("/members/:id/phone-end", post(phones::end))
        .route("/alarms", get(alarms::page))
        .route("/alerts/channel", post(alerts::add))
        .route("/alerts/test", post(alerts::test))
        .route("/alerts/remove", post(alerts::remove))
        .route("/suggestions", get(suggestions::page))
        .route("/suggestions/:id", post(suggestions::answer))
        .route("/devices", get(devices::page))
        .route("/devices/self-test", post(devices::self_test))
        .route("/devices/command/:id", get(devices::command))
        .route("/devices/claim", post(devices::confirm_claim))
        .route("/devices/label", post(devices::label))
        .route("/devices/replace", post(devices::replace))
        .route("/devices/retire", post(devices::retire))
        .route("/report", get(report::page))
        .route("/vending", get(vending::page))
        .route("/bookings", get(bookings::page))
        .route("/bookings.csv", get(bookings::csv))
        .route("/bookings.xlsx", get(bookings::xlsx))
        .route("/bookings/checked", post(bookings::checked))
        .route("/bookings/week", get(timetable::page))
        .route(
            "/bookings/resource/:id",
            get(resource::page).post(resource::save),
        )
        .route("/activities", get(activities::page))
        .route("/activities.csv", get(activities::csv))
        .route("/activities.xlsx", get(activities::xlsx))
        .route("/activities/add", post(activities::add))
        .route("/activities/adopt", post(activities::adopt))
        .route("/activities/closed-day", post(activities::closed_day))
        .route("/activities/:id", get(activity::page))
        .route("/activities/:id/signup", post(activity::signup))
        .route("/activities/:id/off", post(activity::off))
        .route("/activities/:id/attend", post(activity::attend))
        .route("/activities/:id/hours", post(activity::hours))
        .route("/activities/:id/close", post(activity::close))
        .route("/activities/:id/cancel", post(activity::cancel))
        .route("/activities/:id/edit", post(activity::edit))
        .route("/points", get(points::page))
        .route("/points/award", post(points::award))
        .route("/points/reverse", post(points::reverse))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/events", get(live::events))
        .route("/lang", get(set_lang))
        .route("/assets/dashboard.css", get(css))
        .route("/assets/live.js", get(js))
        .with_state(dashboard)
}

/// Serves the dashboard on `listener` until `shutdown`.
pub async fn serve(
    listener: std::net::TcpListener,
    dashboard: Dashboard,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    keting_webkit::serve::serve(
        listener,
        router(dashboard),
        None,
        keting_webkit::serve::Limits::default(),
        shutdown,
    )
    .await
}

/// Serves the dashboard over TLS on `listener` until `shutdown` (`--https`;
/// the session cookie is then `Secure`).
pub async fn serve_https(
    listener: std::net::TcpListener,
    dashboard: Dashboard,
    config: std::sync::Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    https::serve_router(listener, router(dashboard), config, shutdown).await
}
