//! A backup taken while check-ins are being written restores to a database
//! that passes its integrity check and holds every check-in committed
//! before the backup began (and nothing half-written); a damaged backup, a
//! backup of another site and an unwritable target are one clear error and
//! change nothing; retention deletes only this site's older backups.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};

use keting_centre::backup::{self, BackupError};
use keting_centre::data_dir::DataDir;
use keting_centre::site::{self, NewSite};
use keting_core::checkin::{CheckInDecision, DenyReason};
use keting_core::time::Timestamp;
use keting_store::Store;
use keting_store::checkins;
use keting_store::checkins::ScanSource;

const CHECKINS: i64 = 1_000;

fn centre(path: &std::path::Path) -> DataDir {
    let dir = DataDir::prepare(path).unwrap();
    let mut store = Store::open(&dir.database()).unwrap();
    site::open_or_create(
        &mut store,
        &dir,
        NewSite::Plain,
        Timestamp::from_unix_millis(1_800_000_000_000),
    )
    .unwrap();
    dir
}

fn count(db: &std::path::Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*), coalesce(max(id), 0) FROM checkins",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn a_backup_during_a_thousand_checkins_restores_every_one_committed_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = centre(&tmp.path().join("data"));
    let written = Arc::new(AtomicI64::new(0));
    let started = Arc::new(Barrier::new(2));
    let writer = {
        let (db, written, started) = (dir.database(), written.clone(), started.clone());
        std::thread::spawn(move || {
            let mut store = Store::open(&db).unwrap();
            for i in 0..CHECKINS {
                store
                    .write(|tx| {
                        checkins::insert(
                            tx,
                            Timestamp::from_unix_millis(1_800_000_000_000 + i),
                            None,
                            &CheckInDecision::Denied(DenyReason::NotAPass),
                            ScanSource::Scanner,
                        )
                    })
                    .unwrap();
                // Acknowledged: committed and synced.
                written.store(i + 1, Ordering::SeqCst);
                if i == 200 {
                    started.wait();
                }
            }
        })
    };
    started.wait();
    let before = written.load(Ordering::SeqCst);
    let made = backup::create(
        &dir,
        &tmp.path().join("backups"),
        Timestamp::from_unix_millis(1_800_000_100_000),
    )
    .unwrap();
    let after = written.load(Ordering::SeqCst);
    writer.join().unwrap();
    assert!(
        made.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("keting-"),
        "{made:?}"
    );
    let manifest = backup::verify(&made).unwrap();
    assert!(manifest.files.iter().any(|(n, _)| n == "site.key"));

    // Restored into a fresh data directory: every check-in acknowledged
    // before the backup began, in order, none missing in between.
    let restored = DataDir::prepare(tmp.path().join("restored")).unwrap();
    backup::restore(&restored, &made).unwrap();
    let (n, max) = count(&restored.database());
    println!("checkins acknowledged before the backup {before}, in it {n}, by its end {after}");
    assert!(n >= before && n <= after + 1, "{before} <= {n} <= {after}");
    assert_eq!(n, max, "no gap: a prefix of the log");
    let conn = rusqlite::Connection::open(restored.database()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(
        count(&dir.database()).0,
        CHECKINS,
        "the live database has them all"
    );
}

#[test]
fn a_damaged_backup_another_sites_backup_and_an_unwritable_target_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = centre(&tmp.path().join("data"));
    let made = backup::create(
        &dir,
        &tmp.path().join("backups"),
        Timestamp::from_unix_millis(1_800_000_100_000),
    )
    .unwrap();

    // Another site's data directory refuses it; its database is untouched.
    let other = centre(&tmp.path().join("other"));
    let before = std::fs::read(other.database()).unwrap();
    match backup::restore(&other, &made) {
        Err(BackupError::OtherSite { .. }) => {}
        other => panic!("another site's backup was taken: {other:?}"),
    }
    assert_eq!(std::fs::read(other.database()).unwrap(), before);

    // A damaged copy is refused before anything is replaced.
    let db = made.join("keting.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&db, bytes).unwrap();
    let e = backup::restore(&dir, &made).unwrap_err().to_string();
    assert!(e.contains("damaged"), "{e}");
    assert!(
        backup::verify(&tmp.path().join("nowhere"))
            .unwrap_err()
            .to_string()
            .contains("not a Keting backup")
    );

    // A target that cannot be a directory: one error, no partial backup.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let e = backup::create(
        &dir,
        &file.join("backups"),
        Timestamp::from_unix_millis(1_800_000_200_000),
    )
    .unwrap_err();
    assert!(e.to_string().contains("a-file"), "{e}");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "only the first backup: {leftovers:?}");
}

#[test]
fn retention_keeps_the_newest_of_this_site_and_touches_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("backups");
    let dir = centre(&tmp.path().join("data"));
    let other = centre(&tmp.path().join("other"));
    let at = |s: i64| Timestamp::from_unix_millis(1_800_000_000_000 + s * 1_000);
    let ours: Vec<_> = (0..4)
        .map(|s| backup::create(&dir, &to, at(s)).unwrap())
        .collect();
    let theirs = backup::create(&other, &to, at(0)).unwrap();
    // A directory named like ours without a manifest (somebody's copy).
    let site = backup::verify(&ours[0]).unwrap().site;
    let stray = to.join(format!("keting-{site}-00000000-000000"));
    std::fs::create_dir(&stray).unwrap();

    let deleted = backup::prune(&to, &site, 2).unwrap();
    assert_eq!(deleted, ours[..2].to_vec(), "the two oldest of this site");
    assert!(!ours[0].exists() && !ours[1].exists());
    assert!(ours[2].exists() && ours[3].exists());
    assert!(theirs.exists(), "another site's backup is never deleted");
    assert!(stray.exists(), "a directory that is not a backup stays");
    // Asking to keep none still keeps the newest.
    backup::prune(&to, &site, 0).unwrap();
    assert!(ours[3].exists() && !ours[2].exists());
}

#[test]
fn a_backup_brings_back_the_whole_centre_on_a_new_machine() {
    // The old Pi: its data directory with the uplink key and the district's
    // file (its seed beside it, its CA elsewhere), and the provisioning
    // site directory it imported, with the site CA key.
    let tmp = tempfile::tempdir().unwrap();
    let dir = centre(&tmp.path().join("old"));
    let site_dir = tmp.path().join("keting-site");
    std::fs::create_dir_all(site_dir.join("devices/gym-door")).unwrap();
    for (f, text) in [
        ("site.toml", "id = \"demo\"\n"),
        ("ca.key", "-----BEGIN PRIVATE KEY-----\nthe site CA\n"),
        ("devices/gym-door/agent.toml", "device = \"gym-door\"\n"),
    ] {
        std::fs::write(site_dir.join(f), text).unwrap();
    }
    std::fs::write(dir.provisioning_site_file(), site_dir.to_str().unwrap()).unwrap();
    std::fs::write(dir.path().join("uplink.key"), [7u8; 32]).unwrap();
    std::fs::write(dir.path().join("futian-01.nk"), "SUAseed\n").unwrap();
    std::fs::write(
        dir.path().join("district.toml"),
        "district = \"futian\"\ncentre = \"futian-01\"\nservers = [\"tls://127.0.0.1:4222\"]\n\
         nkey_seed = \"futian-01.nk\"\nca = \"/etc/keting/district-ca.pem\"\n",
    )
    .unwrap();
    let made = backup::create(
        &dir,
        &tmp.path().join("backups"),
        Timestamp::from_unix_millis(1_800_000_000_000),
    )
    .unwrap();

    // The Pi dies: its data and its site directory are gone. A new machine
    // restores the backup into an empty data directory.
    std::fs::remove_dir_all(&site_dir).unwrap();
    let fresh = DataDir::prepare(tmp.path().join("new")).unwrap();
    let restored = backup::restore(&fresh, &made).unwrap();
    assert_eq!(restored.site_dir.as_deref(), Some(site_dir.as_path()));
    let key = std::fs::read_to_string(site_dir.join("ca.key")).unwrap();
    assert!(
        key.contains("the site CA"),
        "the site CA key is back: devices keep their certificates"
    );
    assert!(site_dir.join("devices/gym-door/agent.toml").is_file());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(site_dir.join("ca.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the CA key is private: {mode:o}");
    assert_eq!(
        std::fs::read(fresh.path().join("uplink.key")).unwrap(),
        [7u8; 32],
        "the same pseudonyms"
    );
    assert!(
        fresh.path().join("district.toml").is_file() && fresh.path().join("futian-01.nk").is_file()
    );
    assert_eq!(
        restored.not_restored,
        [std::path::PathBuf::from("/etc/keting/district-ca.pem")],
        "what it could not restore, it names"
    );
    assert!(
        restored.next_event > keting_store::uplink::RESTORE_GAP,
        "{}",
        restored.next_event
    );
}
