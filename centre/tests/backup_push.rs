//! A backup pushed to another host over SSH with rsync: a real `sshd`
//! started on a free loopback port with keys made for the test. The copy
//! arrives whole and equal (a restore from it brings the centre back), a
//! stale partial copy is made equal, a second push sends nothing, and a
//! host whose key is not known gets nothing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use keting_centre::backup;
use keting_centre::backup_push::{self, PushError, PushTarget};
use keting_centre::data_dir::DataDir;
use keting_centre::site::{self, NewSite};
use keting_core::time::Timestamp;
use keting_store::Store;

/// A real sshd for one test, killed when dropped.
struct Sshd {
    child: Child,
    /// An ssh_config naming it `backup-box`, with a key it accepts and its
    /// host key known.
    config: PathBuf,
    /// The same, its host key not known.
    stranger_config: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen");
}

impl Sshd {
    fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        keygen(&dir.join("host"));
        keygen(&dir.join("client"));
        std::fs::copy(dir.join("client.pub"), dir.join("authorized_keys")).unwrap();
        // sshd's privilege separation directory (Debian makes it at boot).
        let _ = std::fs::create_dir_all("/run/sshd");
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
        let d = dir.display();
        std::fs::write(
            dir.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n"
            ),
        )
        .unwrap();
        let host_key = std::fs::read_to_string(dir.join("host.pub")).unwrap();
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        std::fs::write(
            dir.join("known_hosts"),
            format!("[127.0.0.1]:{port} {}\n", host_key.join(" ")),
        )
        .unwrap();
        std::fs::write(dir.join("no_known_hosts"), "").unwrap();
        let config = |known: &str| {
            format!(
                "Host backup-box\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  \
                 IdentityFile {d}/client\n  IdentitiesOnly yes\n  UserKnownHostsFile {d}/{known}\n  \
                 StrictHostKeyChecking yes\n  LogLevel ERROR\n"
            )
        };
        std::fs::write(dir.join("ssh_config"), config("known_hosts")).unwrap();
        std::fs::write(dir.join("stranger_config"), config("no_known_hosts")).unwrap();
        let mut child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sshd is installed (./run-tests installs openssh-server)");
        // Ready when it says it listens: a signal, not a sleep.
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut said = String::new();
        loop {
            match lines.next() {
                Some(Ok(l)) if l.contains("Server listening on") => break,
                Some(Ok(l)) => said.push_str(&(l + "\n")),
                _ => panic!("sshd did not start:\n{said}"),
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            config: dir.join("ssh_config"),
            stranger_config: dir.join("stranger_config"),
        }
    }
}

fn centre_with_backup(tmp: &Path) -> PathBuf {
    let dir = DataDir::prepare(tmp.join("data")).unwrap();
    let mut store = Store::open(&dir.database()).unwrap();
    site::open_or_create(
        &mut store,
        &dir,
        NewSite::Plain,
        Timestamp::from_unix_millis(1_800_000_000_000),
    )
    .unwrap();
    drop(store);
    backup::create(
        &dir,
        &tmp.join("backups"),
        Timestamp::from_unix_millis(1_800_000_000_000),
    )
    .unwrap()
}

#[test]
fn a_backup_pushed_over_ssh_arrives_whole_and_equal_once() {
    let tmp = tempfile::tempdir().unwrap();
    let sshd = Sshd::start(&std::fs::canonicalize(tmp.path()).unwrap());
    let made = centre_with_backup(tmp.path());
    let name = made.file_name().unwrap().to_str().unwrap().to_owned();
    let remote = tmp.path().join("elsewhere/keting");
    let target: PushTarget = format!("backup-box:{}", remote.display()).parse().unwrap();

    // A host whose key is not known gets nothing (no prompt either).
    let refused = backup_push::push(&made, &target, Some(&sshd.stranger_config), false);
    assert!(
        matches!(&refused, Err(PushError::Remote { message, .. }) if message.contains("Host key verification failed")),
        "{refused:?}"
    );
    assert!(!remote.exists(), "nothing reached a host not known");

    // A cut link left a partial copy with a stray file in it.
    let partial = remote.join(format!(".{name}.partial"));
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("keting.db"), b"half a database").unwrap();
    std::fs::write(partial.join("stray"), b"not the backup's").unwrap();

    let pushed = backup_push::push(&made, &target, Some(&sshd.config), false).unwrap();
    assert!(!pushed.already_there);
    let copy = remote.join(&name);
    assert!(!partial.exists(), "the partial copy became the whole one");
    assert!(
        !copy.join("stray").exists(),
        "the copy is the backup, nothing more"
    );
    // The copy is a whole backup of the same site, byte for byte.
    let m = backup::verify(&copy).unwrap();
    assert_eq!(m, backup::verify(&made).unwrap());
    for (f, _) in &m.files {
        assert_eq!(
            std::fs::read(copy.join(f)).unwrap(),
            std::fs::read(made.join(f)).unwrap(),
            "{f}"
        );
    }
    // The directory given (not a backup) means its newest.
    let again = backup_push::push(
        &backup_push::newest_backup(&tmp.path().join("backups"), &m.site).unwrap(),
        &target,
        Some(&sshd.config),
        false,
    )
    .unwrap();
    assert!(again.already_there, "sent twice");

    // The dead Pi's replacement restores from the other host's copy.
    let fresh = DataDir::prepare(tmp.path().join("new-pi")).unwrap();
    let restored = backup::restore(&fresh, &copy).unwrap();
    assert_eq!(restored.manifest.site, m.site);
}
