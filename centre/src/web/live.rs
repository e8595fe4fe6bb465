//! `GET /events`: server-sent events that tell an open page to fetch its
//! live part again. The stream looks at the database's `data_version` (any
//! commit by the kiosk, the controller or a shell: a check-in, an alarm)
//! and at the controller's device view every [`LOOK_EVERY`]; an event
//! named `change` goes out when either moved. Nothing but the word
//! "change" crosses: the page fetches what it may see with its session.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use rusqlite::{Connection, OpenFlags};

use super::Dashboard;

/// How often the stream looks for a change.
pub const LOOK_EVERY: Duration = Duration::from_millis(200);

fn data_version(conn: &Connection) -> Option<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()
}

/// `GET /events`.
pub async fn events(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    if d.session(&headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let conn = match Connection::open_with_flags(
        d.database(),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("dashboard events: {e}");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let seen = data_version(&conn);
    let mut doors = d.inner.doors.clone();
    doors.mark_unchanged();
    let state = (conn, seen, doors);
    let changes = stream::unfold(state, |(conn, mut seen, mut doors)| async move {
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let now = data_version(&conn);
            let moved = doors.has_changed().unwrap_or(false);
            if moved {
                doors.mark_unchanged();
            }
            if now != seen || moved {
                seen = now;
                let event = Event::default().event("change").data("change");
                return Some((Ok::<_, Infallible>(event), (conn, seen, doors)));
            }
        }
    });
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
