//! The residents' own pages, on their phones (`keting-centre
//! --resident-http HOST:PORT`, off by default): meant to sit behind the
//! operator's reverse proxy (which holds the TLS certificate) and to open
//! from a WeChat menu or a QR code on the wall.
//!
//! - [`guard`]: who a request is (the bound phone's cookie), the checks
//!   every form passes (this origin, the phone's CSRF token), the limits
//!   per source and per member, and the security headers on every answer.
//! - [`rate`]: fixed-window counters for those limits.
//! - [`page`]: the page frame in elder mode (large type, big targets, one
//!   column, no pop-ups), its style sheet and the one optional script.
//! - [`words`]: the desks' refusals in a resident's words.
//! - [`bind`]: binding a phone with a one-time link or kiosk QR and a
//!   number to pick; the page for a phone not signed in.
//! - [`pass`]: my pass, live: a QR that changes every 30 seconds.
//! - [`bookings`]: my bookings (cancel, my place on a waiting list, a
//!   freed place to take) and booking a slot.
//! - [`calendar`]: my bookings and activities as a calendar feed (.ics)
//!   a phone's calendar subscribes to.
//! - [`activities`]: this week's programme, signing up and off, taking an
//!   offered place, my attendance and volunteer hours.
//! - [`feedback`]: rate a session or activity I had, the suggestion box
//!   and staff's answers.
//! - [`points`]: my balance, what expires when, the ledger's history.
//! - [`phones`]: my bound phones, each ended here.
//! - [`wechat`]: signing in from inside WeChat with the official account's
//!   silent OAuth (optional), its one request out through
//!   `keting_webkit::outbound`.
//!
//! Every page works without JavaScript (WeChat's browser may have none),
//! loads nothing from elsewhere and weighs well under 30 KB. A resident
//! sees only their own data: every id in a form is checked against the
//! phone's member by the desk, and a refused id answers like a missing one.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod activities;
pub mod bind;
pub mod bookings;
pub mod calendar;
pub mod feedback;
pub mod guard;
pub mod page;
pub mod pass;
pub mod phones;
pub mod points;
pub mod rate;
pub mod wechat;
pub mod words;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::routing::{get, post};
use keting_core::pass::PassIssuer;
use keting_desk::records::{SiteRecord, Store, StoreError};

/// What the residents' pages read and write.
#[derive(Clone)]
pub struct Residents {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    site: SiteRecord,
    issuer: PassIssuer,
    limits: guard::Limits,
    wechat: Option<wechat::WeChat>,
}

impl Residents {
    /// The residents' pages of the centre whose database is `database`,
    /// its live passes signed by `issuer` (the site key), signing in from
    /// inside WeChat with `wechat`'s official account if given.
    pub fn new(
        database: PathBuf,
        site: SiteRecord,
        issuer: PassIssuer,
        wechat: Option<wechat::WeChat>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            inner: Arc::new(Inner {
                store: Mutex::new(Store::open(&database)?),
                site,
                issuer,
                limits: guard::Limits::default(),
                wechat,
            }),
        })
    }

    /// The official account, if configured.
    pub fn wechat(&self) -> Option<&wechat::WeChat> {
        self.inner.wechat.as_ref()
    }

    /// The site.
    pub fn site(&self) -> &SiteRecord {
        &self.inner.site
    }

    /// Issues live passes.
    pub fn issuer(&self) -> &PassIssuer {
        &self.inner.issuer
    }

    /// The limits per source and per member.
    pub fn limits(&self) -> &guard::Limits {
        &self.inner.limits
    }

    /// Runs `f` with the store on a blocking thread (SQLite waits on disk).
    pub async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> T {
        let inner = self.inner.clone();
        match tokio::task::spawn_blocking(move || {
            let mut store = inner.store.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut store)
        })
        .await
        {
            Ok(out) => out,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// The residents' routes, every answer with the security headers.
pub fn router(residents: Residents) -> Router {
    Router::new()
        .route("/", get(pass::page))
        .route("/welcome", get(bind::welcome))
        .route("/bind/:secret", get(bind::offer).post(bind::confirm))
        .route("/bookings", get(bookings::page))
        .route("/bookings/book", post(bookings::book))
        .route("/bookings/cancel", post(bookings::cancel))
        .route("/bookings/:resource", get(bookings::day))
        .route("/calendar/new", post(calendar::new))
        .route("/calendar/:file", get(calendar::feed))
        .route("/activities", get(activities::page))
        .route("/activities/sign-up", post(activities::sign_up))
        .route("/activities/off", post(activities::off))
        .route("/points", get(points::page))
        .route("/feedback", get(feedback::page))
        .route("/feedback/rate", post(feedback::rate))
        .route("/feedback/suggest", post(feedback::suggest))
        .route("/wechat/start", get(wechat::start))
        .route("/wechat/back", get(wechat::back))
        .route("/phones", get(phones::page))
        .route("/phones/end", post(phones::end))
        .route("/lang", get(page::set_lang))
        .route("/r.css", get(page::css))
        .route("/wake.js", get(page::wake_js))
        .fallback(page::not_found)
        .layer(axum::middleware::map_response(guard::headers))
        .with_state(residents)
}

/// Serves the residents' pages on `listener` (plain HTTP, behind the
/// operator's TLS proxy) until `shutdown`.
pub async fn serve(
    listener: std::net::TcpListener,
    residents: Residents,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    keting_webkit::serve::serve(
        listener,
        router(residents),
        None,
        // Every connection may come from the operator's proxy: no cap per
        // address here (the pages limit requests per forwarded source).
        keting_webkit::serve::Limits {
            max_per_source: None,
            ..keting_webkit::serve::Limits::default()
        },
        shutdown,
    )
    .await
}
