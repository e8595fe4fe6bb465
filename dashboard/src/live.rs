//! `GET /events`: server-sent events that tell an open page to fetch its
//! live part again. The controller notes every commit to the database (it
//! reads `data_version` every 5 ms: a check-in at the kiosk, an alarm, a
//! shell's change) and every change of its device view; each stream wakes
//! on either and sends an event named `change`. Nothing but that word
//! crosses: the page fetches what it may see with its session.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use super::Dashboard;

/// `GET /events`.
pub async fn events(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    if d.session(&headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut commits = d.inner.commits.clone();
    let mut doors = d.inner.doors.clone();
    commits.mark_unchanged();
    doors.mark_unchanged();
    let changes = stream::unfold((commits, doors), |(mut commits, mut doors)| async move {
        let alive = tokio::select! {
            r = commits.changed() => r.is_ok(),
            r = doors.changed() => r.is_ok(),
        };
        if !alive {
            // The centre is stopping.
            return None;
        }
        // One event for a commit and the view it refreshed.
        commits.mark_unchanged();
        doors.mark_unchanged();
        let event = Event::default().event("change").data("change");
        Some((Ok::<_, Infallible>(event), (commits, doors)))
    });
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
