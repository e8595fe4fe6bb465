//! The doors view for a screen in another process: the centre serves it on
//! a Unix socket in its data directory (`screen.sock`, 0600, the data
//! directory's own user), one JSON line per change, the first at once; a
//! screen (`kiosk --screen`, its own systemd unit) reads it into the same
//! `watch` the window reads when the centre runs in its process.
//!
//! The screen's other reads and writes (check-ins, bookings, the staff
//! page's actions) go to the database as ever; only what lives in the
//! centre's memory (who is online, each door's state, the link) crosses
//! here. A screen whose centre is gone shows the link down ("the centre
//! cannot hear its devices"), never the last states, and connects again
//! every second.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keting_desk::device_view::DoorsView;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

/// The socket's name in the data directory.
pub const SOCKET: &str = "screen.sock";

/// A line longer than this is not a view (a view with every device and
/// alarm is a few KiB).
const LONGEST_LINE: usize = 4 * 1024 * 1024;

/// Where the socket of the centre on `data_dir` is.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

/// Binds the socket (a stale one from a centre that died is replaced),
/// owner-only.
pub fn bind(data_dir: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(data_dir);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Serves `view` to every screen that connects, until `stop` says true.
pub async fn serve(
    listener: UnixListener,
    view: watch::Receiver<DoorsView>,
    stop: watch::Receiver<bool>,
) {
    let stopping = until_stopped(stop.clone());
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            () = &mut stopping => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tracing::info!("a screen connected");
                    tokio::spawn(feed(stream, view.clone(), stop.clone()));
                }
                Err(e) => {
                    tracing::error!("screen socket: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
        }
    }
}

async fn until_stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn feed(
    mut stream: UnixStream,
    mut view: watch::Receiver<DoorsView>,
    stop: watch::Receiver<bool>,
) {
    let stopping = until_stopped(stop);
    tokio::pin!(stopping);
    loop {
        let line = match serde_json::to_string(&*view.borrow_and_update()) {
            Ok(l) => l + "\n",
            Err(e) => {
                tracing::error!("screen: the view cannot be written: {e}");
                return;
            }
        };
        if stream.write_all(line.as_bytes()).await.is_err() {
            tracing::info!("a screen went away");
            return;
        }
        tokio::select! {
            () = &mut stopping => return,
            changed = view.changed() => if changed.is_err() { return },
        }
    }
}

/// A screen's end: reads the centre on `data_dir` into a `watch`, in a
/// thread of its own, connecting again every second while it is away (the
/// view then says the link is down).
pub fn follow(data_dir: &Path) -> std::io::Result<watch::Receiver<DoorsView>> {
    let (tx, rx) = watch::channel(DoorsView::default());
    let path = socket_path(data_dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("screen-feed".into())
        .spawn(move || runtime.block_on(read_forever(path, tx)))?;
    Ok(rx)
}

async fn read_forever(path: PathBuf, tx: watch::Sender<DoorsView>) {
    let mut said_away = false;
    loop {
        match UnixStream::connect(&path).await {
            Ok(stream) => {
                tracing::info!("following the centre at {}", path.display());
                said_away = false;
                let mut lines = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line.len() > LONGEST_LINE => break,
                        Ok(_) => match serde_json::from_str::<DoorsView>(&line) {
                            Ok(view) => {
                                tx.send_replace(view);
                            }
                            Err(e) => {
                                tracing::error!("the centre's view cannot be read: {e}");
                                break;
                            }
                        },
                    }
                }
                tracing::warn!("the centre went away; the screen shows its devices unknown");
            }
            Err(e) if !said_away => {
                tracing::warn!("no centre at {} ({e}); trying every second", path.display());
                said_away = true;
            }
            Err(_) => {}
        }
        // Never the last states: nothing is known of the devices now.
        tx.send_replace(DoorsView::default());
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_screen_follows_the_view_and_sees_the_link_down_when_the_centre_goes() {
        let dir = tempfile::tempdir().unwrap();
        let (view_tx, view_rx) = watch::channel(DoorsView {
            connected: true,
            ..DoorsView::default()
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let server = tokio::spawn(serve(bind(dir.path()).unwrap(), view_rx, stop_rx));
        let mut screen = follow(dir.path()).unwrap();
        let wait = |rx: &mut watch::Receiver<DoorsView>, f: fn(&DoorsView) -> bool| {
            let mut rx = rx.clone();
            async move {
                tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|v| f(v)))
                    .await
                    .expect("in time")
                    .map(|v| v.clone())
                    .unwrap()
            }
        };
        wait(&mut screen, |v| v.connected).await;
        view_tx.send_modify(|v| v.unavailable = vec!["钢琴 3".into()]);
        let seen = wait(&mut screen, |v| !v.unavailable.is_empty()).await;
        assert_eq!(seen.unavailable, ["钢琴 3"]);
        // The centre stops: the screen shows nothing known, not the last view.
        stop_tx.send_replace(true);
        server.await.unwrap();
        drop(view_tx);
        let gone = wait(&mut screen, |v| !v.connected).await;
        assert!(gone.unavailable.is_empty());
        // The socket is owner-only.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(socket_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
