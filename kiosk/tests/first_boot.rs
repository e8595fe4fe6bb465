//! A new Pi's first-boot question, headless through Slint's testing
//! backend: the choice by touch or number key, a device's claim label by
//! the scanner, the one answer file written (nothing else), and the
//! helper's status followed, never an earlier attempt's.

use std::path::Path;

use i_slint_backend_testing::ElementHandle;
use keting_core::claim::{CODE_LEN, ClaimLabel, code_from_random, fingerprint};
use keting_core::ids::{DeviceId, SiteId};
use keting_kiosk::ui::first_boot_adapter::{FirstBootFiles, FirstBootUi};
use slint::ComponentHandle;

struct Question {
    ui: FirstBootUi,
    files: FirstBootFiles,
    _dir: tempfile::TempDir,
}

impl Question {
    /// The question, with the helper having listed `backups`.
    fn new(backups: &[&str]) -> Self {
        i_slint_backend_testing::init_no_event_loop();
        let dir = tempfile::tempdir().unwrap();
        let files = FirstBootFiles {
            answer: dir.path().join("first-boot/answer"),
            status: dir.path().join("status"),
            backups: dir.path().join("backups"),
        };
        std::fs::write(&files.backups, backups.join("\n")).unwrap();
        let ui = FirstBootUi::new(files.clone()).unwrap();
        ui.window().show().unwrap();
        Self {
            ui,
            files,
            _dir: dir,
        }
    }

    fn shows(&self, label: &str) -> bool {
        ElementHandle::find_by_accessible_label(self.ui.window(), label)
            .next()
            .is_some()
    }

    fn tap(&self, label: &str) {
        ElementHandle::find_by_accessible_label(self.ui.window(), label)
            .next()
            .unwrap_or_else(|| panic!("no {label:?} on screen"))
            .invoke_accessible_default_action();
    }

    /// The answer written, if any.
    fn answer(&self) -> Option<String> {
        std::fs::read_to_string(&self.files.answer).ok()
    }

    /// The helper reports `what` on the attempt answered (or `attempt`).
    fn helper_says(&self, attempt: Option<u64>, what: &str) {
        let attempt = attempt.unwrap_or_else(|| {
            self.answer()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        });
        append(&self.files.status, &format!("{attempt} {what}\n"));
        self.ui.follow_helper();
    }
}

fn append(path: &Path, line: &str) {
    let mut text = std::fs::read_to_string(path).unwrap_or_default();
    text.push_str(line);
    std::fs::write(path, text).unwrap();
}

fn label_text() -> String {
    ClaimLabel {
        site: SiteId::new("ft-01").unwrap(),
        device: DeviceId::new("gym-door").unwrap(),
        code: code_from_random(&[9; CODE_LEN]),
        ca_fingerprint: fingerprint(b"the site CA"),
        host: "192.168.1.10".into(),
        port: 8884,
    }
    .to_text()
}

#[test]
fn the_centre_with_a_new_site_is_asked_for_by_touch_and_the_helper_followed() {
    let q = Question::new(&[]);
    assert!(
        q.shows("中心主机") && q.shows("设备"),
        "the question, in Chinese"
    );
    q.tap("中心主机");
    assert!(q.shows("新建站点"));
    assert!(
        q.answer().is_none(),
        "choosing the centre decides nothing yet"
    );
    assert!(
        q.shows("如需从备份恢复：先在电脑上把备份文件夹（keting-站点-日期）复制到存储卡的启动分区，再重新开机。"),
        "no backup on the card: how to put one there"
    );
    q.tap("新建站点");
    let answer = q.answer().unwrap();
    assert!(answer.ends_with(" centre-new\n"), "{answer:?}");
    assert!(q.shows("请稍候") && q.shows("正在新建站点。"));
    q.helper_says(None, "done centre");
    assert!(q.shows("设置完成"));
    assert!(q.shows("这台树莓派现在是中心主机，签到屏幕马上启动。"));
}

#[test]
fn a_backup_the_helper_listed_is_restored_by_its_number_key() {
    let q = Question::new(&["keting-ft-01-20261205-020000"]);
    q.ui.type_keys("1");
    assert!(q.shows("恢复备份 keting-ft-01-20261205-020000"));
    q.ui.type_keys("3");
    assert!(q.answer().is_none(), "no third choice");
    assert!(q.shows("没有这个编号的备份。"));
    q.ui.type_keys("2");
    let answer = q.answer().unwrap();
    assert!(
        answer.ends_with(" centre-restore keting-ft-01-20261205-020000\n"),
        "{answer:?}"
    );
    q.helper_says(None, "working restore");
    assert!(q.shows("正在恢复备份，可能需要几分钟。"));
    q.helper_says(None, "failed restore kiosk: not a Keting backup");
    assert!(q.shows("没有成功") && q.shows("无法恢复备份。请确认它属于本中心并且完整。"));
    assert!(
        q.shows("kiosk: not a Keting backup"),
        "the tool's own line, below"
    );
    q.ui.type_keys("0");
    assert!(
        q.shows("中心主机") && q.shows("设备"),
        "back to the question"
    );
}

#[test]
fn a_device_takes_only_a_claim_label_and_shows_the_pin_to_confirm() {
    let q = Question::new(&[]);
    q.ui.type_keys("2");
    assert!(q.shows("这台树莓派是设备"));
    q.ui.type_keys("https://example.com/pay?id=1\n");
    assert!(
        q.answer().is_none(),
        "a scan that is no label is not an answer"
    );
    assert!(q.shows("这不是设备的登记标签。请扫描为这台设备打印的标签。"));
    let label = label_text();
    q.ui.type_keys(&format!("{label}\n"));
    let answer = q.answer().unwrap();
    assert!(
        answer.ends_with(&format!(" device {label}\n")),
        "{answer:?}"
    );
    assert!(q.shows("正在请中心登记这台设备。"));
    q.helper_says(None, "pin 431 354");
    assert!(q.shows("431 354") && q.shows("请在中心确认这个 PIN 码"));
    q.helper_says(None, "done device");
    assert!(q.shows("这台树莓派现在是中心的设备，设备程序已启动。"));
}

#[test]
fn an_earlier_attempts_result_is_never_taken_for_this_ones() {
    let q = Question::new(&[]);
    // A failed try's last word, left in the helper's status file.
    q.helper_says(Some(1), "done centre");
    q.ui.type_keys("1");
    q.ui.type_keys("1");
    q.ui.follow_helper();
    assert!(q.shows("请稍候"), "still working on this answer");
    assert!(!q.shows("设置完成"));
}

#[test]
fn the_question_in_english_for_a_technician_who_reads_no_chinese() {
    let q = Question::new(&[]);
    q.tap("English");
    assert!(q.shows("Setting up this Raspberry Pi"));
    assert!(q.shows("The centre") && q.shows("A device"));
    q.tap("中文");
    assert!(q.shows("设置这台树莓派"));
}
