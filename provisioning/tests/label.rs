//! `device label`: the QR code on the label reads back as the claim, the
//! code is never stored, a label for a retired or unknown device or to a
//! file of another kind is refused with nothing written, and the broker
//! files get the claim login only while the window is open.

use std::os::unix::fs::PermissionsExt;

use keting_core::claim::{ClaimLabel, code_for_print};
use keting_provisioning::device_claim::ClaimFile;
use keting_provisioning::mosquitto_files::{self, BrokerOptions};
use keting_provisioning::site_dir::SiteDir;

use crate::cli::{ok, provision};

fn site_with_a_door() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    ok(
        &site,
        &[
            "site",
            "init",
            "--name",
            "福田示范中心",
            "--broker-host",
            "10.0.0.2",
        ],
    );
    ok(
        &site,
        &[
            "device",
            "add",
            "--kind",
            "lock",
            "--name",
            "gym-door",
            "--gpio",
            "strike=GPIO17",
        ],
    );
    (dir, site)
}

/// The text of the only QR code in a PNG.
fn read_qr(png_path: &std::path::Path) -> String {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the label");
    grids[0].decode().unwrap().1
}

#[test]
fn the_png_labels_qr_code_is_the_claim_and_the_code_is_not_stored() {
    let (dir, site) = site_with_a_door();
    let out = dir.path().join("gym-door.png");
    let printed = ok(
        &site,
        &[
            "device",
            "label",
            "gym-door",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let label = ClaimLabel::parse(&read_qr(&out)).unwrap();
    assert_eq!(label.device.as_str(), "gym-door");
    // The claim listener (TLS, no client certificate) and the CA to trust.
    assert_eq!((label.host.as_str(), label.port), ("10.0.0.2", 8884));
    let ca = std::fs::read_to_string(site.join("ca.pem")).unwrap();
    assert_eq!(
        label.ca_fingerprint,
        keting_link::pinned_ca::pem_fingerprint(&ca).unwrap()
    );
    assert!(printed.contains(&label.to_text()), "{printed}");
    assert!(
        printed.contains("broker config"),
        "no broker files yet: {printed}"
    );
    let claim_path = site.join("devices/gym-door/claim.toml");
    let stored = std::fs::read_to_string(&claim_path).unwrap();
    assert!(!stored.contains(&label.code), "the code itself is not kept");
    let mode = std::fs::metadata(&claim_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let claim = ClaimFile::load(&site, "gym-door").unwrap().unwrap();
    assert_eq!(claim.key, label.key().to_hex());
    assert_eq!(claim.expires_ms - claim.created_ms, 180_000);

    // A second label replaces the first: the old code no longer works.
    let svg = dir.path().join("gym-door.svg");
    ok(
        &site,
        &[
            "device",
            "label",
            "gym-door",
            "--out",
            svg.to_str().unwrap(),
            "--window",
            "60",
        ],
    );
    let second = ClaimFile::load(&site, "gym-door").unwrap().unwrap();
    assert_ne!(second.key, claim.key);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("gym-door"),
        "{text}"
    );
    assert!(text.contains("1 分钟内有效"), "{text}");
    let code = text
        .split("<text")
        .find_map(|t| {
            let inner = t.split('>').nth(1)?.split('<').next()?;
            (inner.len() == 19 && inner.matches('-').count() == 3).then(|| inner.replace('-', ""))
        })
        .unwrap();
    assert_eq!(
        second.key,
        keting_core::claim::ClaimKey::from_code(&code).to_hex()
    );
    assert_eq!(code_for_print(&code).len(), 19);
}

#[test]
fn bad_labels_are_refused_with_nothing_written() {
    let (dir, site) = site_with_a_door();
    let pdf = dir.path().join("label.pdf");
    let (good, _, err) = provision(
        &site,
        &[
            "device",
            "label",
            "gym-door",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(!good && err.contains("name a .png or a .svg file"), "{err}");
    assert!(!site.join("devices/gym-door/claim.toml").exists());
    let png = dir.path().join("x.png");
    let (good, _, err) = provision(
        &site,
        &[
            "device",
            "label",
            "side-door",
            "--out",
            png.to_str().unwrap(),
        ],
    );
    assert!(
        !good && err.contains("no device named \"side-door\""),
        "{err}"
    );
    ok(&site, &["device", "retire", "gym-door"]);
    let (good, _, err) = provision(
        &site,
        &[
            "device",
            "label",
            "gym-door",
            "--out",
            png.to_str().unwrap(),
        ],
    );
    assert!(!good && err.contains("retired"), "{err}");
    assert!(!png.exists() && !site.join("devices/gym-door/claim.toml").exists());
    let (good, _, err) = provision(
        &site,
        &[
            "device",
            "label",
            "gym-door",
            "--out",
            png.to_str().unwrap(),
            "--window",
            "5",
        ],
    );
    assert!(!good && err.contains("--window"), "{err}");
}

#[test]
fn the_broker_files_carry_the_claim_login_only_while_the_window_is_open() {
    let (dir, site) = site_with_a_door();
    let conf = dir.path().join("mosquitto");
    ok(
        &site,
        &["broker", "config", "--mosquitto", conf.to_str().unwrap()],
    );
    let passwords = || std::fs::read_to_string(conf.join("passwords")).unwrap();
    assert!(!passwords().contains("claim-gym-door"));
    let out = dir.path().join("l.png");
    let printed = ok(
        &site,
        &[
            "device",
            "label",
            "gym-door",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(printed.contains("reload Mosquitto"), "{printed}");
    // The label rewrote the broker files where `broker config` put them.
    assert!(
        passwords().contains("claim-gym-door:$7$"),
        "{}",
        passwords()
    );
    let acl = std::fs::read_to_string(conf.join("acl")).unwrap();
    assert!(
        acl.contains("user claim-gym-door\ntopic write keting/v1/"),
        "{acl}"
    );
    let label = ClaimLabel::parse(&read_qr(&out)).unwrap();
    let hash = passwords()
        .lines()
        .find_map(|l| l.strip_prefix("claim-gym-door:").map(str::to_owned))
        .unwrap();
    assert!(mosquitto_files::verify(&hash, &label.code));

    // After the window, or once claimed: no claim login.
    let s = SiteDir::open(&site).unwrap();
    let options = BrokerOptions {
        listen: "0.0.0.0".into(),
        port: 1883,
        persistence: "/var/lib/mosquitto/".into(),
        tls_port: 0,
        claim_port: 0,
    };
    let claim = ClaimFile::load(&site, "gym-door").unwrap().unwrap();
    mosquitto_files::write(&s, &conf, &options, claim.expires_ms + 1).unwrap();
    assert!(!passwords().contains("claim-gym-door"));
    mosquitto_files::write(&s, &conf, &options, claim.created_ms).unwrap();
    assert!(passwords().contains("claim-gym-door"));
    ClaimFile::mark_claimed(&site, "gym-door", claim.created_ms + 1).unwrap();
    mosquitto_files::write(&s, &conf, &options, claim.created_ms + 2).unwrap();
    assert!(!passwords().contains("claim-gym-door"));
}
