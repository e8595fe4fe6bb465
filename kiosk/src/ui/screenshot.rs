//! Renders any page of the kiosk to a PNG, with Slint's software renderer and
//! no display: the same renderer the Pi uses on its framebuffer.
//!
//! Each page is reached the way a resident reaches it: a fresh demo site is
//! created in a temporary directory and the page's scan is run through the
//! real check-in desk. The user's own data directory is never touched.

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use keting_core::ids::{Epoch, MemberId};
use keting_core::pass::PassIssuer;
use slint::Rgb8Pixel;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, Model, PhysicalSize, PlatformError};
use thiserror::Error;

use super::kiosk_adapter::KioskUi;
use super::language::Language;
use keting_centre::data_dir::DataDir;
use keting_centre::site::{self, NewSite};
use keting_centre::{clock, demo, demo_scenes};
use keting_desk::checkin::CheckInDesk;
use keting_desk::records::ScanSource;
use keting_desk::records::Store;

/// The pages `kiosk screenshot --page` knows, with what each shows.
pub const PAGES: &[(&str, &str)] = &[
    (
        "home",
        "the welcome page: where to scan, today's visits, what is on",
    ),
    ("welcome", "a resident's first scan: welcome by name"),
    (
        "welcome-again",
        "a repeat scan within 10 minutes: welcomed, counted once",
    ),
    (
        "not-a-pass",
        "a scan that is not a Keting pass (a URL, garbage)",
    ),
    ("wrong-site", "a pass of another centre"),
    ("bad-signature", "a forged or altered pass"),
    ("revoked", "an old pass replaced after a lost card"),
    (
        "unknown-member",
        "a valid pass of a member the site no longer has",
    ),
    ("out-of-order", "check-in not working (the database failed)"),
    (
        "clock-wrong",
        "check-in paused: the screen's clock reads behind the last visit recorded",
    ),
    (
        "staff-pin",
        "a staff card's PIN: the keypad, a wrong PIN with the tries left, two digits of the next",
    ),
    (
        "staff",
        "the staff page: doors (one offline), tonight's gym entries, gym members, one selected by scan",
    ),
    ("points-scan", "points for a drink: scan your pass"),
    (
        "points-menu",
        "points for a drink: the balance, the drinks (out of reach greyed), the history",
    ),
    ("points-confirm", "points for a drink: confirm the choice"),
    (
        "points-dispensing",
        "points for a drink: dispensing, with progress",
    ),
    ("points-done", "points for a drink: take your drink"),
    (
        "points-refunded",
        "points for a drink: not dispensed (jammed), the points returned",
    ),
    (
        "restock",
        "restocking the drinks machine (staff): each slot, +1 and +5",
    ),
    (
        "award",
        "awarding points (staff): the activity chosen, two volunteers scanned, one refused",
    ),
    ("services-scan", "pianos and bookings: scan your pass"),
    (
        "services-menu",
        "pianos and bookings: the services, my bookings, a rating of the last piano session",
    ),
    (
        "services-week",
        "booking the robot: the week, free, full and mine",
    ),
    (
        "services-confirm",
        "booking the robot: confirm a slot, with the trial price",
    ),
    ("services-done", "booking the robot: booked"),
    (
        "service-desk",
        "the staff's service desk: the pianos and the robot (one offline), a robot session to check, ratings",
    ),
    (
        "staff-claim",
        "the staff page with a device claiming its identity: the PIN to compare and confirm",
    ),
    (
        "staff-alarm",
        "the staff page with two alarms: a forced door to acknowledge, an offline door acknowledged",
    ),
    (
        "home-alarm",
        "the home page with the alarm line every page shows",
    ),
    (
        "home-district",
        "the home page with the district's announcement and an activity from the district",
    ),
    (
        "staff-technician",
        "the staff page for a technician: a claim to confirm and doors to open, no gym months, points or restocking",
    ),
    ("activities-scan", "activities: scan your pass"),
    (
        "activities-list",
        "activities: the next seven days with places left, a full talk to join the waiting list of, one tap each",
    ),
    (
        "activities-signed-up",
        "activities: signed up for a class in one tap",
    ),
    (
        "room",
        "a room kiosk (kiosk --room): the class on now, how many came, a resident greeted by name",
    ),
    (
        "phone-scan",
        "my phone: scan your pass to use your own phone",
    ),
    (
        "phone-qr",
        "my phone: the one-time QR to open on the phone and the number to tap there",
    ),
    (
        "card-full",
        "the centre's card is full at start: check-in paused, the doors go on (both languages)",
    ),
    (
        "card-read-only",
        "the centre's card is read-only (failing) at start: check-in paused, replace it",
    ),
    (
        "first-boot",
        "a new Pi's first boot: is this Pi the centre or a device?",
    ),
    (
        "first-boot-centre",
        "first boot, the centre: a new site, or the backup found on the card",
    ),
    (
        "first-boot-device",
        "first boot, a device: scan its claim label (a scan that is not one, refused)",
    ),
    (
        "first-boot-pin",
        "first boot, a device: the PIN to confirm on the centre",
    ),
    (
        "first-boot-restoring",
        "first boot, the centre: restoring the backup",
    ),
    (
        "first-boot-failed",
        "first boot: the backup could not be restored, the helper's reason below",
    ),
    (
        "first-boot-done",
        "first boot: this Pi is the centre; the kiosk's screen follows",
    ),
];

/// Why a page could not be rendered.
#[derive(Debug, Error)]
pub enum ScreenshotError {
    /// No such page.
    #[error("no page {0:?}; `--page list` names the pages")]
    UnknownPage(String),
    /// The renderer could not start.
    #[error("the renderer could not start: {0}")]
    Platform(#[from] PlatformError),
    /// Setting up the demo site failed.
    #[error("setting up the demo site failed: {0}")]
    Setup(String),
    /// The PNG could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// What to render.
#[derive(Clone, Debug)]
pub struct ScreenshotRequest {
    /// One of [`PAGES`].
    pub page: String,
    /// The screen's language.
    pub language: Language,
    /// Large-text mode.
    pub large_text: bool,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

/// How the rendering went, for the startup benchmark.
#[derive(Clone, Copy, Debug)]
pub struct RenderReport {
    /// From `started` to the first frame rendered into memory.
    pub first_frame: Duration,
}

struct OffscreenPlatform {
    window: Rc<MinimalSoftwareWindow>,
    started: Instant,
}

impl Platform for OffscreenPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Renders `request` to the PNG at `out`. Sets the process's Slint platform,
/// so it runs once per process. `started` is when the process started.
pub fn render(
    request: &ScreenshotRequest,
    out: &Path,
    started: Instant,
) -> Result<RenderReport, ScreenshotError> {
    if !PAGES.iter().any(|(name, _)| *name == request.page) {
        return Err(ScreenshotError::UnknownPage(request.page.clone()));
    }
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(OffscreenPlatform {
        window: window.clone(),
        started: Instant::now(),
    }))
    .map_err(|e| PlatformError::Other(e.to_string()))?;

    if request.page.starts_with("first-boot") {
        return first_boot_page(request, &window, out, started);
    }
    if let Some(which) = request.page.strip_prefix("card-") {
        use super::storage_notice_adapter::{CardTrouble, StorageNoticeUi};
        let (trouble, detail) = if which == "full" {
            (
                CardTrouble::Full,
                "the data directory /var/lib/keting is not writable: No space left on device (os error 28)",
            )
        } else {
            (
                CardTrouble::ReadOnly,
                "the data directory /var/lib/keting is not writable: Read-only file system (os error 30)",
            )
        };
        let ui = StorageNoticeUi::new(trouble, detail, || false)?;
        return draw(ui.window(), &window, request.size, out, started);
    }
    let setup = |e: &dyn std::fmt::Display| ScreenshotError::Setup(e.to_string());
    let tmp = tempfile::Builder::new()
        .prefix("keting-screenshot-")
        .tempdir()
        .map_err(|e| setup(&e))?;
    let dir = DataDir::prepare(tmp.path().join("data")).map_err(|e| setup(&e))?;
    let mut store = Store::open(&dir.database()).map_err(|e| setup(&e))?;
    let site = site::open_or_create(&mut store, &dir, NewSite::Demo, clock::now())
        .map_err(|e| setup(&e))?;
    let issuer = site::issuer(&site, &dir).map_err(|e| setup(&e))?;
    let cards = demo::cards(&store, &issuer).map_err(|e| setup(&e))?;
    if request.page == "service-desk" {
        demo_scenes::service_desk(&mut store, &site).map_err(|e| setup(&e))?;
    }
    if request.page.starts_with("services-") {
        demo_scenes::bookings(&mut store, &site).map_err(|e| setup(&e))?;
    }
    if request.page == "home-district" {
        demo_scenes::district(&mut store, &site).map_err(|e| setup(&e))?;
    }
    if request.page == "room" {
        demo_scenes::room(&mut store).map_err(|e| setup(&e))?;
    }
    if request.page == "staff-technician" {
        demo_scenes::technician(&mut store).map_err(|e| setup(&e))?;
    }
    if request.page == "clock-wrong" {
        demo_scenes::clock_behind(&mut store).map_err(|e| setup(&e))?;
    }
    let verifier = site::verifier(&site).map_err(|e| setup(&e))?;
    let ui = KioskUi::new(
        CheckInDesk::new(store, site.clone(), verifier),
        cards.clone(),
    )?;
    ui.set_language(request.language);
    ui.set_large_text(request.large_text);

    let card = |label: &str| {
        cards
            .iter()
            .find(|c| c.label_en.contains(label))
            .map(|c| c.pass.clone())
            .unwrap_or_default()
    };
    let first_resident = cards.first().map(|c| c.pass.clone()).unwrap_or_default();
    let adapter = ui.window().global::<super::StaffAdapter>();
    // The staff card, then its PIN on the keypad.
    let staff_signs_in = || {
        ui.scan(&card("Staff"), ScanSource::DemoTap);
        for d in keting_centre::demo::DEMO_STAFF_PIN.chars() {
            adapter.invoke_pin_digit(d.to_string().into());
        }
    };
    match request.page.as_str() {
        "welcome" => ui.scan(&first_resident, ScanSource::DemoTap),
        "welcome-again" => {
            ui.scan(&first_resident, ScanSource::DemoTap);
            ui.scan(&first_resident, ScanSource::DemoTap);
        }
        "not-a-pass" => ui.scan("https://example.com/pay?id=12345", ScanSource::Scanner),
        "wrong-site" => ui.scan(&card("Other centre"), ScanSource::Scanner),
        "bad-signature" => {
            let forger = PassIssuer::new(
                site.site_id.clone(),
                ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
            );
            ui.scan(&forger.issue(MemberId(1), Epoch(0)), ScanSource::Scanner);
        }
        "revoked" => ui.scan(&card("Lost card"), ScanSource::Scanner),
        "unknown-member" => ui.scan(&issuer.issue(MemberId(9999), Epoch(0)), ScanSource::Scanner),
        "out-of-order" => ui.show_out_of_order(),
        "clock-wrong" => ui.scan(&first_resident, ScanSource::Scanner),
        page if page.starts_with("points-") => {
            let adapter = ui.window().global::<super::PointsAdapter>();
            adapter.invoke_open();
            if page != "points-scan" {
                // 王秀英 has 25 points in the demo.
                ui.scan(&first_resident, ScanSource::Scanner);
            }
            if matches!(
                page,
                "points-confirm" | "points-dispensing" | "points-done" | "points-refunded"
            ) {
                adapter.invoke_choose("vending".into(), 1);
            }
            if matches!(
                page,
                "points-dispensing" | "points-done" | "points-refunded"
            ) {
                adapter.invoke_confirm();
            }
            if matches!(page, "points-done" | "points-refunded") {
                // What the centre does on the machine's answer.
                let outcome = if page == "points-done" {
                    keting_core::messages::VendOutcome::Dispensed
                } else {
                    keting_core::messages::VendOutcome::Jammed
                };
                ui.settle_open_redemptions(outcome).map_err(|e| setup(&e))?;
            }
        }
        page if page.starts_with("services-") => {
            let adapter = ui.window().global::<super::BookingsAdapter>();
            adapter.invoke_open();
            if page != "services-scan" {
                ui.scan(&first_resident, ScanSource::Scanner);
            }
            if matches!(page, "services-week" | "services-confirm" | "services-done") {
                adapter.invoke_tile("robot".into());
            }
            if matches!(page, "services-confirm" | "services-done") {
                // The day after tomorrow, 14:00.
                adapter.invoke_pick(2, 3);
            }
            if page == "services-done" {
                adapter.invoke_confirm();
            }
        }
        "service-desk" => {
            let mut doors = sample_doors(false, &site, Vec::new());
            let mut view = doors.borrow_and_update().clone();
            view.session_devices = sample_session_devices();
            ui.set_doors(tokio::sync::watch::channel(view).1);
            staff_signs_in();
            ui.window()
                .global::<super::ServiceDeskAdapter>()
                .invoke_open();
        }
        "restock" => {
            staff_signs_in();
            ui.window().global::<super::RestockAdapter>().invoke_open();
        }
        "award" => {
            staff_signs_in();
            let award = ui.window().global::<super::AwardAdapter>();
            award.invoke_open();
            award.invoke_choose("图书整理".into(), 35);
            ui.scan(&first_resident, ScanSource::Scanner);
            ui.scan(
                &cards.get(1).map(|c| c.pass.clone()).unwrap_or_default(),
                ScanSource::Scanner,
            );
            ui.scan(&first_resident, ScanSource::Scanner);
        }
        "staff-pin" => {
            ui.scan(&card("Staff"), ScanSource::DemoTap);
            // One wrong PIN, and two digits of the next.
            for d in "135792".chars().chain("12".chars()) {
                adapter.invoke_pin_digit(d.to_string().into());
            }
        }
        "home-alarm" => ui.set_doors(sample_doors(true, &site, Vec::new())),
        page if page.starts_with("activities-") => {
            ui.open_activities();
            if page != "activities-scan" {
                ui.scan(&first_resident, ScanSource::Scanner);
            }
            if page == "activities-signed-up" {
                // The first on the list with a place to take.
                let adapter = ui.window().global::<super::ActivitiesAdapter>();
                let rows = adapter.get_rows();
                if let Some(row) = (0..rows.row_count())
                    .filter_map(|i| rows.row_data(i))
                    .find(|r| r.tap == "signup")
                {
                    adapter.invoke_tap(row.id);
                }
            }
        }
        page if page.starts_with("phone-") => {
            ui.set_resident_url("https://fuwu.example.cn");
            ui.open_phone();
            if page == "phone-qr" {
                ui.scan(&first_resident, ScanSource::Scanner);
            }
        }
        "room" => {
            ui.set_room(demo_scenes::ROOM);
            ui.scan(&first_resident, ScanSource::Scanner);
        }
        "staff" | "staff-claim" | "staff-technician" | "staff-alarm" => {
            let claims = if request.page != "staff" {
                vec![("gym-door".to_owned(), "431354".to_owned())]
            } else {
                Vec::new()
            };
            ui.set_doors(sample_doors(
                request.page == "staff-alarm" || request.page == "home-alarm",
                &site,
                claims,
            ));
            staff_signs_in();
            ui.scan(&card("Lost card"), ScanSource::Scanner);
            ui.scan(
                &cards.get(3).map(|c| c.pass.clone()).unwrap_or_default(),
                ScanSource::Scanner,
            );
        }
        _ => {}
    }

    draw(ui.window(), &window, request.size, out, started)
}

/// Shows `component` at `size` in the offscreen `window`, renders one frame
/// and writes it to `out` as a PNG.
fn draw<C: ComponentHandle>(
    component: &C,
    window: &MinimalSoftwareWindow,
    (w, h): (u32, u32),
    out: &Path,
    started: Instant,
) -> Result<RenderReport, ScreenshotError> {
    component.window().set_size(PhysicalSize::new(w, h));
    component.show()?;
    slint::platform::update_timers_and_animations();
    let mut pixels = vec![Rgb8Pixel::default(); (w as usize) * (h as usize)];
    window.draw_if_needed(|renderer| {
        renderer.render(&mut pixels, w as usize);
    });
    let report = RenderReport {
        first_frame: started.elapsed(),
    };
    let _ = component.hide();

    let png = encode_png(&pixels, w, h).map_err(|e| ScreenshotError::Write {
        path: out.display().to_string(),
        source: e,
    })?;
    keting_link::atomic_file::write(out, &png, 0o644).map_err(|source| ScreenshotError::Write {
        path: out.display().to_string(),
        source,
    })?;
    Ok(report)
}

/// A first-boot page: the question window with its helper's files in a
/// temporary directory (one backup found; the helper's status as the page
/// needs it).
fn first_boot_page(
    request: &ScreenshotRequest,
    window: &MinimalSoftwareWindow,
    out: &Path,
    started: Instant,
) -> Result<RenderReport, ScreenshotError> {
    use super::first_boot_adapter::{FirstBootFiles, FirstBootUi};
    let setup = |e: &dyn std::fmt::Display| ScreenshotError::Setup(e.to_string());
    let tmp = tempfile::Builder::new()
        .prefix("keting-screenshot-")
        .tempdir()
        .map_err(|e| setup(&e))?;
    let files = FirstBootFiles {
        answer: tmp.path().join("answer"),
        status: tmp.path().join("status"),
        backups: tmp.path().join("backups"),
    };
    std::fs::write(
        &files.backups,
        "keting-ft-01-20261205-020000\nketing-ft-01-20261204-020000\nketing-ft-01-20261203-020000\n",
    ).map_err(|e| setup(&e))?;
    let ui = FirstBootUi::new(files.clone())?;
    ui.set_language(request.language);
    ui.set_large_text(request.large_text);
    // The helper's answer to the attempt the screen just wrote.
    let helper_says = |what: &str| -> Result<(), ScreenshotError> {
        let answer = std::fs::read_to_string(&files.answer).map_err(|e| setup(&e))?;
        let attempt = answer.split(' ').next().unwrap_or("0");
        std::fs::write(&files.status, format!("{attempt} {what}\n")).map_err(|e| setup(&e))?;
        ui.follow_helper();
        Ok(())
    };
    match request.page.as_str() {
        "first-boot" => {}
        "first-boot-centre" => ui.type_keys("1"),
        "first-boot-device" => {
            ui.type_keys("2");
            for key in ["h", "t", "t", "p", "s", ":", "/", "/", "x", "\n"] {
                ui.type_keys(key);
            }
        }
        "first-boot-pin" => {
            ui.type_keys("2");
            let label = keting_core::claim::ClaimLabel {
                site: keting_core::ids::SiteId::new("ft-01").map_err(|e| setup(&e))?,
                device: keting_core::ids::DeviceId::new("gym-door").map_err(|e| setup(&e))?,
                code: keting_core::claim::code_from_random(&[7; keting_core::claim::CODE_LEN]),
                ca_fingerprint: keting_core::claim::fingerprint(b"the site CA"),
                host: "192.168.1.10".into(),
                port: 8884,
            };
            ui.type_keys(&format!("{}\n", label.to_text()));
            helper_says("pin 431 354")?;
        }
        "first-boot-restoring" => {
            ui.type_keys("1");
            ui.type_keys("2");
            helper_says("working restore")?;
        }
        "first-boot-failed" => {
            ui.type_keys("1");
            ui.type_keys("2");
            helper_says(
                "failed restore kiosk: the backup is of site SZ-03, not an empty data directory's",
            )?;
        }
        "first-boot-done" => {
            ui.type_keys("1");
            ui.type_keys("1");
            helper_says("done centre")?;
        }
        _ => return Err(ScreenshotError::UnknownPage(request.page.clone())),
    }
    draw(ui.window(), window, request.size, out, started)
}

/// The piano bank online with three pianos in use; the robot offline.
fn sample_session_devices() -> Vec<keting_centre::service::device_states::SessionDeviceView> {
    use keting_centre::service::device_states::{Availability, SessionDeviceView};
    let id = |s: &str| keting_core::ids::DeviceId::new(s).unwrap_or_else(|_| unreachable!());
    vec![
        SessionDeviceView {
            id: id("pianos"),
            availability: Availability::Online,
            state: Some("ready".into()),
            fault: None,
            in_use: (3, 8),
        },
        SessionDeviceView {
            id: id("robot"),
            availability: Availability::Offline,
            state: None,
            fault: None,
            in_use: (0, 0),
        },
    ]
}

fn encode_png(pixels: &[Rgb8Pixel], w: u32, h: u32) -> std::io::Result<Vec<u8>> {
    let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()
        .and_then(|mut wr| wr.write_image_data(&bytes))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(out)
}

/// A doors view as a running centre would show it: the gym door online and
/// locked, a side door offline, two entries tonight.
fn sample_doors(
    alarms: bool,
    site: &keting_desk::records::SiteRecord,
    claims: Vec<(String, String)>,
) -> tokio::sync::watch::Receiver<keting_centre::service::DoorsView> {
    use keting_centre::service::device_states::{Availability, DoorView};
    use keting_core::door::lock::LockState;
    use keting_core::ids::DeviceId;
    use keting_desk::records::Entry;
    let id = |s: &str| DeviceId::new(s).unwrap_or_else(|_| unreachable!());
    let evening = keting_desk::doors::tonight_starts(site.calendar, clock::now());
    let at = |minutes: u64| evening.saturating_add(Duration::from_secs(minutes * 60 + 3 * 3600));
    let view = keting_centre::service::DoorsView {
        connected: true,
        doors: vec![
            DoorView {
                id: id("gym-door"),
                name: "健身房".into(),
                availability: Availability::Online,
                state: Some(LockState::Locked),
                fault: None,
                locked_out: false,
                last_seen: Some(clock::now()),
            },
            DoorView {
                id: id("side-door"),
                name: "琴房侧门".into(),
                availability: Availability::Offline,
                state: None,
                fault: None,
                locked_out: false,
                last_seen: None,
            },
        ],
        tonight: vec![
            Entry {
                at: at(42),
                member: MemberId(3),
                name: Some("陈晓梅".into()),
                door: "健身房".into(),
            },
            Entry {
                at: at(5),
                member: MemberId(4),
                name: Some("张玥".into()),
                door: "健身房".into(),
            },
        ],
        claims,
        unavailable: Vec::new(),
        session_devices: Vec::new(),
        // 张玥 left by the exit button: 陈晓梅 is inside alone.
        inside: vec![keting_desk::occupancy::DoorInside {
            door: id("gym-door"),
            name: "健身房".into(),
            occupancy: {
                use keting_core::door::occupancy::{Occupancy, Passage, Way};
                Occupancy::from_passages([
                    Passage {
                        at: at(5),
                        way: Way::In,
                        member: Some(MemberId(4)),
                    },
                    Passage {
                        at: at(42),
                        way: Way::In,
                        member: Some(MemberId(3)),
                    },
                    Passage {
                        at: at(50),
                        way: Way::Out,
                        member: Some(MemberId(4)),
                    },
                ])
            },
            names: vec![(Some(MemberId(3)), Some("陈晓梅".into()), at(42))],
        }],
        alarms: if alarms {
            use keting_desk::records::{Alarm, AlarmKind};
            vec![
                Alarm {
                    id: 2,
                    device: id("side-door"),
                    kind: AlarmKind::Offline,
                    detail: String::new(),
                    raised: at(50),
                    acked: Some(("staff:5".into(), at(52))),
                    cleared: None,
                },
                Alarm {
                    id: 3,
                    device: id("gym-door"),
                    kind: AlarmKind::Forced,
                    detail: String::new(),
                    raised: at(58),
                    acked: None,
                    cleared: None,
                },
            ]
            .into_iter()
            .rev()
            .collect()
        } else {
            Vec::new()
        },
        heard: Vec::new(),
    };
    tokio::sync::watch::channel(view).1
}
