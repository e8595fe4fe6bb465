//! The screens, headless, through Slint's testing backend: found by what a
//! person reads (accessible labels), pressed as a person presses them.

use std::time::Duration;

use i_slint_backend_testing::{ElementHandle, ElementQuery, mock_elapsed_time};
use keting_centre::data_dir::DataDir;
use keting_centre::site::{self, NewSite};
use keting_centre::{clock, demo};
use keting_desk::checkin::CheckInDesk;
use keting_kiosk::ui::kiosk_adapter::{BACK_HOME_AFTER, KioskUi};
use keting_store::Store;
use slint::ComponentHandle;
use slint::platform::WindowEvent;

/// A demo-site kiosk on the testing backend (one per test thread).
struct Screen {
    ui: KioskUi,
    _dir: tempfile::TempDir,
    first_pass: String,
}

impl Screen {
    fn new() -> Self {
        i_slint_backend_testing::init_no_event_loop();
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::prepare(tmp.path().join("data")).unwrap();
        let mut store = Store::open(&dir.database()).unwrap();
        let site = site::open_or_create(&mut store, &dir, NewSite::Demo, clock::now()).unwrap();
        let cards = demo::cards(&store, &site::issuer(&site, &dir).unwrap()).unwrap();
        let first_pass = cards[0].pass.clone();
        let verifier = site::verifier(&site).unwrap();
        let ui = KioskUi::new(CheckInDesk::new(store, site, verifier), cards).unwrap();
        ui.window().show().unwrap();
        Self {
            ui,
            _dir: tmp,
            first_pass,
        }
    }

    /// Types `text` as a keyboard-wedge scanner does, one key at a time.
    fn type_keys(&self, text: &str) {
        for c in text.chars() {
            let text: slint::SharedString = c.to_string().into();
            self.ui
                .window()
                .window()
                .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
            self.ui
                .window()
                .window()
                .dispatch_event(WindowEvent::KeyReleased { text });
        }
    }

    /// Taps the demo staff card and types its PIN on the keypad.
    fn sign_in_staff(&self) {
        let pin = keting_centre::demo::DEMO_STAFF_PIN;
        self.tap(&format!("工作人员 PIN {pin}"));
        assert!(
            self.shows("请输入6位工作人员密码"),
            "the card asks for its PIN"
        );
        assert!(!self.shows("关闭"), "the card alone opens nothing");
        self.type_pin(pin);
    }

    /// Taps `pin`'s digits on the PIN page's keypad.
    fn type_pin(&self, pin: &str) {
        for d in pin.chars() {
            self.tap(&d.to_string());
        }
    }

    fn find(&self, label: &str) -> Option<ElementHandle> {
        ElementHandle::find_by_accessible_label(self.ui.window(), label).next()
    }

    fn shows(&self, label: &str) -> bool {
        self.find(label).is_some()
    }

    fn tap(&self, label: &str) {
        self.find(label)
            .unwrap_or_else(|| panic!("no {label:?} on screen"))
            .invoke_accessible_default_action();
    }

    /// Taps `label` if it is on screen.
    fn tap_if_shown(&self, label: &str) {
        if let Some(e) = self.find(label) {
            e.invoke_accessible_default_action();
        }
    }

    fn any_label_containing(&self, needle: &str) -> bool {
        let needle = needle.to_owned();
        ElementQuery::from_root(self.ui.window())
            .match_descendants()
            .match_predicate(move |e| e.accessible_label().is_some_and(|l| l.contains(&needle)))
            .find_first()
            .is_some()
    }
}

#[test]
fn a_typed_scan_welcomes_the_member_by_name_then_returns_home() {
    let s = Screen::new();
    assert!(s.shows("欢迎光临"));
    assert!(s.shows("今日到访 0"));
    s.type_keys(&format!("{}\n", s.first_pass));
    assert!(
        s.shows("欢迎您，王秀英！"),
        "the welcome page names the member"
    );
    assert!(!s.shows("欢迎光临"));

    mock_elapsed_time(BACK_HOME_AFTER - Duration::from_millis(100));
    assert!(
        s.shows("欢迎您，王秀英！"),
        "still showing just before the timeout"
    );
    mock_elapsed_time(Duration::from_millis(200));
    assert!(s.shows("欢迎光临"), "back home after a few seconds");
    assert!(
        s.shows("今日到访 1"),
        "the visit is counted on the home page"
    );
}

#[test]
fn a_repeat_scan_is_welcomed_but_counted_once() {
    let s = Screen::new();
    s.tap("王秀英");
    s.tap("返回首页");
    s.tap("王秀英");
    assert!(s.shows("王秀英，您已签到"));
    s.tap("返回首页");
    assert!(s.shows("今日到访 1"));
}

#[test]
fn refusals_give_their_reason_in_plain_words() {
    let s = Screen::new();
    s.tap("挂失的旧卡");
    assert!(s.shows("此通行码已停用"));
    assert!(s.shows("请使用最新的通行码，或到服务台补办。"));
    assert!(
        !s.shows("其他中心的码"),
        "the demo cards are only on the home page"
    );
    s.tap("返回首页");
    s.tap("其他中心的码");
    assert!(s.shows("这是其他服务中心的通行码"));
    s.type_keys("https://example.com/pay?id=1\n");
    assert!(s.shows("这不是客厅的通行码"));
    s.type_keys("\n");
    assert!(
        s.shows("这不是客厅的通行码"),
        "an empty scan is not a pass either"
    );
    s.tap("返回首页");
    assert!(s.shows("今日到访 0"), "no refusal counts as a visit");
}

#[test]
fn garbage_from_the_scanner_shows_not_a_pass() {
    let s = Screen::new();
    let garbage: String = (0..4096u32)
        .map(|i| char::from_u32(0x4e00 + (i * 7919) % 20000).unwrap())
        .collect();
    s.type_keys(&garbage);
    s.type_keys("\n");
    assert!(s.shows("这不是客厅的通行码"));
}

#[test]
fn the_language_switch_changes_the_text() {
    let s = Screen::new();
    assert!(s.shows("欢迎光临"));
    s.tap("English");
    assert!(s.shows("Welcome"));
    assert!(s.shows("Visits today 0"));
    assert!(!s.shows("欢迎光临"));
    assert!(
        s.any_label_containing("AI piano taster"),
        "the programme follows the language"
    );
    s.tap("王秀英");
    assert!(s.shows("Welcome, 王秀英!"));
    s.tap("中文");
    assert!(s.shows("欢迎您，王秀英！"));
}

#[test]
fn large_text_mode_enlarges_the_text() {
    let s = Screen::new();
    let height = |s: &Screen| s.find("欢迎光临").unwrap().size().height;
    let before = height(&s);
    s.tap("大字");
    let after = height(&s);
    assert!(after > before * 1.3, "large text: {before} -> {after}");
    s.tap("大字");
    assert_eq!(height(&s), before);
}

#[test]
fn the_home_page_fits_common_kiosk_screens() {
    let s = Screen::new();
    for (w, h) in [(1280u32, 800u32), (1024, 600)] {
        s.ui.window()
            .window()
            .set_size(slint::PhysicalSize::new(w, h));
        mock_elapsed_time(Duration::from_millis(16));
        for label in ["王秀英", "其他中心的码", "今日到访 0"] {
            let e = s.find(label).unwrap();
            let (pos, size) = (e.absolute_position(), e.size());
            assert!(
                pos.y + size.height <= h as f32 && pos.x + size.width <= w as f32,
                "{label:?} at {pos:?} size {size:?} is off a {w}x{h} screen"
            );
        }
    }
}

#[test]
fn a_staff_pass_opens_the_staff_page_where_a_scanned_member_gets_a_gym_month() {
    let screen = Screen::new();
    screen.sign_in_staff();
    assert!(screen.shows("关闭"), "the staff page is open");
    assert!(
        screen.shows("续一个月"),
        "gym members are listed with their button"
    );
    // On the staff page a scan selects a member instead of checking them in.
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let zhang = keting_store::members::list(store.conn())
        .unwrap()
        .into_iter()
        .find(|m| m.name == "张玥")
        .unwrap();
    let issuer = site::issuer(
        &site::open_or_create(
            &mut Store::open(&data.database()).unwrap(),
            &data,
            NewSite::Demo,
            clock::now(),
        )
        .unwrap(),
        &data,
    )
    .unwrap();
    let visits_today = || -> u64 {
        let cal = keting_core::calendar::SiteCalendar::china();
        keting_store::reports::visits_per_hour(store.conn(), cal, cal.date_of(clock::now()))
            .unwrap()
            .iter()
            .sum()
    };
    let visits_before = visits_today();
    screen.type_keys(&format!("{}\r", issuer.issue(zhang.id, zhang.epoch)));
    assert_eq!(
        keting_store::gym::paid_until(store.conn(), zhang.id).unwrap(),
        None
    );
    // The selected member comes first: its button is the first one.
    screen.tap("续一个月");
    let month_end = keting_core::calendar::SiteCalendar::china()
        .month_of(clock::now())
        .last_day()
        .to_string();
    assert_eq!(
        keting_store::gym::paid_until(store.conn(), zhang.id).unwrap(),
        Some(month_end.clone())
    );
    assert!(screen.any_label_containing("张玥"));
    let visits_after = visits_today();
    assert_eq!(
        visits_after, visits_before,
        "a scan on the staff page is not a visit"
    );
    // Left alone, the page closes by itself.
    mock_elapsed_time(keting_kiosk::ui::staff_adapter::STAFF_IDLE + Duration::from_millis(100));
    assert!(!screen.shows("关闭"));
}

#[test]
fn the_staff_page_refuses_a_wrong_pin_and_locks_the_card_after_five() {
    let screen = Screen::new();
    let pin = keting_centre::demo::DEMO_STAFF_PIN;
    screen.tap(&format!("工作人员 PIN {pin}"));
    screen.type_pin("135791");
    assert!(screen.shows("密码不对，还可以再试 4 次"));
    assert!(!screen.shows("关闭"), "a wrong PIN opens nothing");
    // Delete takes a digit back.
    screen.type_pin("13579");
    screen.tap("删除");
    screen.type_pin("11");
    assert!(screen.shows("密码不对，还可以再试 3 次"));
    for _ in 0..3 {
        screen.type_pin("000000");
    }
    assert!(screen.shows("密码错误次数太多，这张卡已锁定 15 分钟"));
    // Locked: the right PIN does not open it now.
    screen.type_pin(pin);
    assert!(screen.any_label_containing("已锁定"));
    assert!(!screen.shows("关闭"));
    // The PIN page gives up by itself when left alone.
    mock_elapsed_time(keting_kiosk::controller::router::PIN_IDLE + Duration::from_millis(100));
    assert!(!screen.shows("删除"), "back home");
}

#[test]
fn a_technician_gets_no_gym_or_points_buttons_and_a_gym_change_is_refused_by_role() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let staff = keting_store::staff_access::list(store.conn()).unwrap();
    for s in &staff {
        keting_store::staff_access::set_role(
            store.conn(),
            s.member,
            keting_core::staff::StaffRole::Technician,
            clock::now(),
        )
        .unwrap();
    }
    screen.sign_in_staff();
    assert!(screen.shows("关闭"), "the staff page is open");
    assert!(
        screen.any_label_containing("（技术员）"),
        "the role is shown"
    );
    assert!(screen.shows("饮料补货"), "a technician restocks");
    assert!(!screen.shows("发积分"), "no points for a technician");
    assert!(!screen.shows("续一个月"), "no gym months for a technician");
    assert!(screen.shows("您的角色不能修改健身房月卡"));
    // A gym change reaching the page anyway (a stale button) is refused by
    // role, in words, and changes nothing.
    let zhang = keting_store::members::list(store.conn())
        .unwrap()
        .into_iter()
        .find(|m| m.name == "张玥")
        .unwrap();
    use slint::ComponentHandle;
    screen
        .ui
        .window()
        .global::<keting_kiosk::ui::StaffAdapter>()
        .invoke_gym_extend(i32::try_from(zhang.id.0).unwrap());
    assert!(
        screen.any_label_containing("技术员无权修改健身房月卡，请找主管"),
        "the refusal names the role"
    );
    assert_eq!(
        keting_store::gym::paid_until(store.conn(), zhang.id).unwrap(),
        None
    );
}

#[test]
fn an_alarm_shows_on_every_page_and_the_staff_member_who_acknowledges_it_is_named() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let door = keting_core::ids::DeviceId::new("gym-door").unwrap();
    let id = keting_store::alarms::raise(
        store.conn(),
        &door,
        keting_store::alarms::AlarmKind::Forced,
        "",
        clock::now(),
    )
    .unwrap()
    .unwrap();
    let view = keting_centre::service::DoorsView {
        connected: true,
        alarms: keting_store::alarms::open(store.conn()).unwrap(),
        ..Default::default()
    };
    let (_tx, rx) = tokio::sync::watch::channel(view);
    screen.ui.set_doors(rx);
    assert!(
        screen.any_label_containing("警报：gym-door被强行打开"),
        "the home page shows the alarm"
    );
    screen.sign_in_staff();
    assert!(
        screen.any_label_containing("警报：gym-door被强行打开"),
        "so does the staff page"
    );
    let label = ElementQuery::from_root(screen.ui.window())
        .match_descendants()
        .match_predicate(|e| {
            e.accessible_label()
                .is_some_and(|l| l.starts_with("确认："))
        })
        .find_first()
        .and_then(|e| e.accessible_label())
        .expect("an Acknowledge button")
        .to_string();
    screen.tap(&label);
    let alarm = keting_store::alarms::get(store.conn(), id)
        .unwrap()
        .unwrap();
    let staff = keting_store::staff_access::list(store.conn()).unwrap()[0].member;
    assert_eq!(
        alarm.acked.map(|(by, _)| by),
        Some(format!("staff:{}", staff.0)),
        "the acknowledgement names the staff member"
    );
    assert!(screen.any_label_containing(&format!("警报 {id} 已确认")));
    let audit = keting_store::audit::recent(store.conn(), 5).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "alarm.ack" && a.actor == format!("staff:{}", staff.0)),
        "{audit:?}"
    );
}

#[test]
fn a_device_claim_shows_its_pin_on_the_staff_page_and_one_tap_confirms_it() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let door = keting_core::ids::DeviceId::new("gym-door").unwrap();
    let now = clock::now();
    let expires = now.saturating_add(Duration::from_secs(180));
    keting_store::device_claims::record_request(
        store.conn(),
        &keting_store::device_claims::Request {
            device: &door,
            nonce: "n1",
            pin: "431354",
            device_key: "Ab7cUhH0nRHdOXQyyVZ29ubBAlp1ax9_T4gvDgz8ZB8",
            csr: "-----BEGIN CERTIFICATE REQUEST-----",
        },
        expires,
        now,
    )
    .unwrap();
    let view = keting_centre::service::DoorsView {
        connected: true,
        claims: vec![("gym-door".into(), "431354".into())],
        ..Default::default()
    };
    let (_tx, rx) = tokio::sync::watch::channel(view);
    screen.ui.set_doors(rx);
    screen.sign_in_staff();
    assert!(
        screen.shows("PIN 431 354"),
        "the PIN to compare with the device's panel"
    );
    assert!(
        keting_store::device_claims::confirmed(store.conn())
            .unwrap()
            .is_empty()
    );
    screen.tap("PIN 一致，确认");
    let confirmed = keting_store::device_claims::confirmed(store.conn()).unwrap();
    assert_eq!(confirmed.len(), 1, "the centre answers it next");
    assert_eq!(confirmed[0].nonce, "n1");
    assert!(screen.any_label_containing("gym-door 已确认"));
}

#[test]
fn a_volunteer_redeems_points_for_a_drink_in_a_few_taps() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let balance = |id| {
        keting_store::points::balance(store.conn(), keting_core::ledger::Account::Member(id))
            .unwrap()
    };
    let wang = keting_store::members::list(store.conn())
        .unwrap()
        .into_iter()
        .find(|m| m.name == "王秀英")
        .unwrap();
    assert_eq!(balance(wang.id), 25, "the demo gives her 25 points");

    screen.tap("积分换饮料");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(screen.shows("积分：25"), "her points");
    // Out of reach (40 points) and sold out are greyed: a tap does nothing.
    screen.tap("选咖啡");
    screen.tap("选绿茶");
    assert!(!screen.shows("确认兑换"));
    screen.tap("选矿泉水");
    assert!(screen.shows("确认兑换"));
    screen.tap("确认兑换");
    // A second tap, and a scan while it dispenses: nothing more is held.
    screen.tap_if_shown("确认兑换");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(screen.shows("正在出货"));
    assert_eq!(balance(wang.id), 15, "10 points held");
    let open = keting_store::redemptions::latest(store.conn(), 0).unwrap();
    assert_eq!(open.len(), 1, "one redemption");

    // The machine jams: the points come back, and the screen says so.
    screen
        .ui
        .settle_open_redemptions(keting_core::messages::VendOutcome::Jammed)
        .unwrap();
    assert!(screen.shows("未出货"));
    assert!(screen.any_label_containing("10 分已退回"));
    assert_eq!(balance(wang.id), 25);

    // Again; this time it drops.
    screen.tap("返回首页");
    screen.tap("积分换饮料");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    screen.tap("选矿泉水");
    screen.tap("确认兑换");
    screen
        .ui
        .settle_open_redemptions(keting_core::messages::VendOutcome::Dispensed)
        .unwrap();
    assert!(screen.shows("请取饮料"));
    assert!(screen.any_label_containing("还剩 15 分"));
    assert_eq!(balance(wang.id), 15);
    // Left alone, the outcome goes back home.
    mock_elapsed_time(keting_kiosk::ui::points_adapter::OUTCOME_SHOWN + Duration::from_millis(100));
    assert!(!screen.shows("请取饮料"));
}

#[test]
fn staff_award_an_activity_as_volunteers_scan_and_undo_a_wrong_one() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let wang = keting_store::members::list(store.conn())
        .unwrap()
        .into_iter()
        .find(|m| m.name == "王秀英")
        .unwrap();
    let balance = || {
        keting_store::points::balance(store.conn(), keting_core::ledger::Account::Member(wang.id))
            .unwrap()
    };
    assert_eq!(balance(), 25);
    screen.sign_in_staff();
    screen.tap("发积分");
    // The demo's recent activities; choose one, then the volunteer scans.
    screen.tap("图书整理（35 分）");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(
        screen.any_label_containing("+35，共 60 分"),
        "the award and the new balance"
    );
    assert_eq!(balance(), 60);
    // The same volunteer again: refused with the reason, nothing added.
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(screen.any_label_containing("这个活动已经发过"));
    assert_eq!(balance(), 60);
    // It was the wrong person: undone, as a reversing posting.
    screen.tap("撤销（记错人）");
    assert!(screen.any_label_containing("已撤销"));
    assert_eq!(balance(), 25);
    let all = keting_store::points::balances(store.conn()).unwrap();
    assert_eq!(all.iter().map(|(_, b)| b).sum::<i64>(), 0);
    let history = keting_store::points::history(store.conn(), wang.id, 5).unwrap();
    assert!(history.iter().any(|h| h.reversed && h.what == "图书整理"));
}

#[test]
fn staff_restock_the_drinks_machine_on_the_screen() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let machine = keting_core::ids::DeviceId::new("vending").unwrap();
    let stock = |slot| {
        keting_store::vending_slots::get(store.conn(), &machine, slot)
            .unwrap()
            .unwrap()
            .stock
    };
    assert_eq!(stock(3), 0, "the demo's green tea is sold out");
    screen.sign_in_staff();
    screen.tap("饮料补货");
    screen.tap("+5 绿茶");
    screen.tap("+1 绿茶");
    assert_eq!(stock(3), 6);
    assert!(screen.any_label_containing("绿茶：现在剩 6 瓶"));
}

#[test]
fn a_resident_books_the_robot_on_the_week_view_joins_a_waiting_list_and_cancels() {
    use keting_core::booking::BookingPolicy;
    use keting_store::bookings;
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let mut store = Store::open(&data.database()).unwrap();
    let cal = keting_core::calendar::SiteCalendar::china();
    let tomorrow = cal.date_of(clock::now()) + time::Duration::days(1);
    let at = |h: i64| {
        keting_core::time::Timestamp::from_unix_millis(
            cal.start_of(tomorrow).as_unix_millis() + h * 3_600_000,
        )
    };
    // 李建国 has tomorrow's 15:00.
    store
        .write(|tx| {
            bookings::book(
                tx,
                &BookingPolicy::default(),
                cal,
                "robot",
                at(15),
                keting_core::ids::MemberId(2),
                false,
                clock::now(),
            )
        })
        .unwrap();

    screen.tap("弹琴与预约");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(screen.shows("我的预约"));
    assert!(screen.shows("暂无"));
    screen.tap("预约艾灸机器人");
    assert!(screen.shows("明天 15:00 已满"));
    // The full slot: the waiting list.
    screen.tap("明天 15:00 已满");
    assert!(screen.any_label_containing("已满，加入候补"));
    screen.tap("好，加入候补");
    assert!(screen.shows("已加入候补，第 1 位"));
    // A second slot the same day is over her daily limit.
    screen.tap("返回首页");
    screen.tap("弹琴与预约");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    screen.tap("预约艾灸机器人");
    assert!(screen.shows("明天 15:00 候补"));
    screen.tap("明天 14:00 可约");
    assert!(screen.any_label_containing("首次体验价 29.90 元"));
    screen.tap("好，预约");
    assert!(screen.shows("没有预约成功"));
    assert!(screen.any_label_containing("每天最多 1 次"));
    // She leaves the waiting list and books 14:00 instead.
    screen.tap("返回首页");
    screen.tap("弹琴与预约");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    screen.tap("取消预约");
    assert!(screen.shows("已取消"));
    screen.tap("返回首页");
    screen.tap("弹琴与预约");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    screen.tap("预约艾灸机器人");
    screen.tap("明天 14:00 可约");
    screen.tap("好，预约");
    assert!(screen.shows("预约成功"));
    assert!(screen.any_label_containing("首次体验价 29.90 元，到前台付款"));
    let mine =
        bookings::of_member(store.conn(), keting_core::ids::MemberId(1), clock::now()).unwrap();
    let states: Vec<_> = mine
        .iter()
        .map(|b| (b.slot.start, b.state.as_str()))
        .collect();
    assert_eq!(states, vec![(at(14), "booked"), (at(15), "cancelled")]);
    // More than two hours ahead, she can still cancel it herself.
    screen.tap("返回首页");
    screen.tap("弹琴与预约");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    screen.tap("取消预约");
    assert!(screen.shows("已取消"));
    assert!(screen.any_label_containing("费用已退回"));
}

#[test]
fn after_a_session_the_next_scan_asks_for_a_rating_in_one_tap() {
    use keting_core::booking::{BookingPolicy, ResourceKind};
    use keting_store::{bookings, ratings, walk_up};
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let mut store = Store::open(&data.database()).unwrap();
    let cal = keting_core::calendar::SiteCalendar::china();
    // This morning at 10, she played piano 1 for half an hour.
    let ten = keting_core::time::Timestamp::from_unix_millis(
        cal.start_of(cal.date_of(clock::now())).as_unix_millis() + 10 * 3_600_000,
    );
    store
        .write(|tx| {
            let walk_up::WalkUp::Started(b) = walk_up::scan(
                tx,
                &BookingPolicy::default(),
                cal,
                ResourceKind::Piano,
                keting_core::ids::MemberId(1),
                &[],
                ten,
            )?
            else {
                unreachable!()
            };
            bookings::finish(
                tx,
                cal,
                b.id,
                "ended_early",
                true,
                ten.saturating_add(Duration::from_secs(1800)),
            )
        })
        .unwrap();
    screen.tap("弹琴与预约");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(screen.any_label_containing("上次的1号钢琴，您满意吗"));
    screen.tap("很满意");
    assert!(!screen.any_label_containing("您满意吗"));
    assert!(screen.any_label_containing("谢谢您的评价"));
    let per = ratings::per_service(
        store.conn(),
        keting_core::time::Timestamp::from_unix_millis(0),
    )
    .unwrap();
    assert_eq!((per.len(), per[0].count, per[0].average_x100), (1, 1, 500));
    // Scanning again does not ask twice.
    screen.tap("返回首页");
    screen.tap("弹琴与预约");
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(!screen.any_label_containing("您满意吗"));
}

#[test]
fn staff_clear_a_robot_session_after_checking_the_robot() {
    use keting_core::booking::{BookingPolicy, BookingState};
    use keting_store::bookings;
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let mut store = Store::open(&data.database()).unwrap();
    let cal = keting_core::calendar::SiteCalendar::china();
    let day = cal.start_of(cal.date_of(clock::now())).as_unix_millis();
    let at = |h: i64| keting_core::time::Timestamp::from_unix_millis(day + h * 3_600_000);
    let policy = BookingPolicy::default();
    let id = store
        .write(|tx| {
            let b = bookings::book(
                tx,
                &policy,
                cal,
                "robot",
                at(9),
                keting_core::ids::MemberId(2),
                false,
                at(8),
            )?;
            bookings::check_in(tx, &policy, cal, keting_core::ids::MemberId(2), None, at(9))?;
            bookings::finish(tx, cal, b.booking.id, "time_up", true, at(10))?;
            Ok::<_, keting_store::StoreError>(b.booking.id)
        })
        .unwrap();
    let staff = keting_centre::demo::cards(
        &store,
        &keting_centre::site::issuer(
            &keting_store::site_record::get(store.conn())
                .unwrap()
                .unwrap(),
            &data,
        )
        .unwrap(),
    )
    .unwrap()
    .into_iter()
    .find(|c| c.label_en.contains("Staff"))
    .unwrap();
    screen
        .ui
        .scan(&staff.pass, keting_store::checkins::ScanSource::DemoTap);
    screen.type_pin(keting_centre::demo::DEMO_STAFF_PIN);
    screen.tap("预约与设备");
    assert!(screen.shows("使用后待检查"));
    // The robot is named by a resource but has never reported: not fine.
    assert!(screen.any_label_containing("未连接"));
    screen.tap("已检查：艾灸机器人 · 李建国");
    assert!(screen.shows("已记录检查"));
    assert!(screen.shows("没有待检查的"));
    assert_eq!(
        bookings::get(store.conn(), id).unwrap().state,
        BookingState::Done
    );
}

#[test]
fn a_revoked_pass_books_nothing() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let site = keting_store::site_record::get(store.conn())
        .unwrap()
        .unwrap();
    let lost =
        keting_centre::demo::cards(&store, &keting_centre::site::issuer(&site, &data).unwrap())
            .unwrap()
            .into_iter()
            .find(|c| c.label_en.contains("Lost card"))
            .unwrap();
    screen.tap("弹琴与预约");
    screen.type_keys(&format!("{}\r", lost.pass));
    assert!(screen.any_label_containing("这张卡已挂失，请用新卡"));
    assert!(!screen.shows("我的预约"), "no menu for an old card");
}

#[test]
fn a_resident_signs_up_joins_a_waiting_list_and_leaves_it_in_one_tap_each() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let store = Store::open(&data.database()).unwrap();
    let wang = keting_store::members::list(store.conn())
        .unwrap()
        .into_iter()
        .find(|m| m.name == "王秀英")
        .unwrap();
    let mine = || {
        keting_store::activities::of_member(store.conn(), wang.id, clock::now())
            .unwrap()
            .into_iter()
            .map(|(r, s)| (r.plan.title_zh, s.as_str()))
            .collect::<Vec<_>>()
    };
    assert!(mine().is_empty());

    screen.tap("活动报名");
    assert!(screen.shows("请将二维码对准下方扫码器"));
    // The demo cards are on this page too.
    screen.tap("王秀英");
    // A class with places: one tap.
    screen.tap("报名 书法班");
    assert!(
        screen.any_label_containing("报名成功"),
        "the outcome in words"
    );
    assert_eq!(mine(), [("书法班".to_owned(), "place")]);
    assert!(screen.shows("取消报名 书法班"), "now she can give it up");
    // The full talk: a turn on the waiting list, behind the one already there.
    screen.tap("排候补 防跌倒健康讲座");
    assert!(screen.any_label_containing("已排候补第 2 位"));
    assert!(screen.any_label_containing("候补第 2 位"));
    // A volunteer shift is not offered to a resident.
    assert!(!screen.any_label_containing("图书整理"));
    screen.tap("退出候补 防跌倒健康讲座");
    assert!(screen.any_label_containing("已取消报名"));
    assert_eq!(mine(), [("书法班".to_owned(), "place")]);
    // Left alone, the page goes home.
    mock_elapsed_time(keting_kiosk::controller::router::RESIDENT_IDLE + Duration::from_millis(100));
    assert!(screen.shows("活动报名"));
    assert!(!screen.any_label_containing("报名成功"));
}

#[test]
fn a_room_kiosk_greets_each_scan_by_name_and_counts_it_at_what_is_on() {
    let screen = Screen::new();
    let data = DataDir::prepare(screen._dir.path().join("data")).unwrap();
    let mut store = Store::open(&data.database()).unwrap();
    keting_centre::demo_scenes::room(&mut store).unwrap();
    screen.ui.set_room(keting_centre::demo_scenes::ROOM);
    assert!(screen.any_label_containing("剪纸班"));
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(screen.any_label_containing("王秀英，欢迎！已签到"));
    assert!(screen.any_label_containing("已到 3 人"));
    // A second scan is welcomed, not counted again.
    screen.type_keys(&format!("{}\r", screen.first_pass));
    assert!(screen.any_label_containing("您已签到"));
    assert!(screen.any_label_containing("已到 3 人"));
    // Not a pass: the reason, and the room page stays.
    screen.type_keys("https://example.com\r");
    assert!(
        screen.any_label_containing("不是本中心"),
        "a refusal in words"
    );
    mock_elapsed_time(BACK_HOME_AFTER + Duration::from_secs(60));
    assert!(
        screen.any_label_containing("剪纸班"),
        "a room kiosk rests on its room"
    );
}

#[test]
fn my_phone_shows_a_one_time_qr_and_number_that_bind_the_phone_once_then_goes_home() {
    use keting_desk::phones::{self, PhoneError};
    let s = Screen::new();
    assert!(
        !s.shows("绑定手机"),
        "not offered without the residents' pages"
    );
    s.ui.set_resident_url("https://fuwu.example.cn");
    s.tap("绑定手机");
    assert!(s.shows("用自己的手机"));
    s.type_keys("not a pass\n");
    assert!(
        s.any_label_containing("不是本中心"),
        "a bad scan is refused on the page"
    );
    s.tap("王秀英");
    let adapter = s.ui.window().global::<keting_kiosk::ui::PhoneAdapter>();
    let number: u8 = adapter.get_number().parse().unwrap();
    assert!((10..=99).contains(&number));
    assert!(s.shows(&number.to_string()), "the number is on the screen");
    // The QR as a phone's camera reads it.
    let qr = adapter.get_qr().to_rgb8().unwrap();
    let (w, h) = (qr.width() as usize, qr.height() as usize);
    let px = qr.as_slice();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x].r);
    let link = img.detect_grids()[0].decode().unwrap().1;
    let secret = link
        .strip_prefix("https://fuwu.example.cn/bind/")
        .unwrap_or_else(|| panic!("{link}"));
    // The phone picks the number: bound, once.
    let dir = DataDir::prepare(s._dir.path().join("data")).unwrap();
    let mut store = Store::open(&dir.database()).unwrap();
    let bound = phones::bind(&mut store, secret, number, "Android · WeChat", clock::now()).unwrap();
    assert_eq!(bound.phone.name, "王秀英");
    assert!(matches!(
        phones::bind(&mut store, secret, number, "x", clock::now()),
        Err(PhoneError::InvitationUnusable)
    ));
    // The page goes home with the code's minute.
    mock_elapsed_time(phones::KIOSK_QR_VALID + Duration::from_millis(100));
    assert!(s.shows("欢迎光临"), "home after the minute");
}

#[test]
fn a_screen_in_its_own_process_follows_the_centre_and_shows_nothing_known_while_it_is_away() {
    let screen = Screen::new();
    let data = screen._dir.path().join("data");
    let dir = DataDir::prepare(data.clone()).unwrap();
    // The centre in its own process, as its systemd unit runs it on a Pi.
    let start_centre = || {
        std::process::Command::new(keting_system_tests::binaries::path("keting-centre"))
            .arg("--data")
            .arg(&data)
            .args(["--no-demo-devices", "--mqtt-listen", "127.0.0.1:0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("keting-centre (./run-tests builds every program first)")
    };
    let mut centre = start_centre();
    let doors = keting_centre::service::screen_feed::follow(&data).unwrap();
    screen.ui.set_doors(doors);
    let store = Store::open(&dir.database()).unwrap();
    keting_store::alarms::raise(
        store.conn(),
        &keting_core::ids::DeviceId::new("gym-door").unwrap(),
        keting_store::alarms::AlarmKind::Forced,
        "",
        clock::now(),
    )
    .unwrap();
    let until = |what: &str, want: bool| {
        let give_up = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            mock_elapsed_time(keting_kiosk::ui::kiosk_adapter::DOORS_REFRESH);
            if screen.any_label_containing("警报：gym-door被强行打开") == want {
                return;
            }
            assert!(std::time::Instant::now() < give_up, "{what} within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    until("the centre's alarm on the screen", true);
    // The centre stops (a restart, a crash): the screen goes on, showing
    // nothing it cannot know, and follows it again when it is back.
    centre.kill().unwrap();
    centre.wait().unwrap();
    until("nothing known with the centre away", false);
    let mut again = start_centre();
    until("the alarm again once the centre is back", true);
    again.kill().unwrap();
    again.wait().unwrap();
}

#[test]
fn a_pass_scanned_on_a_residents_page_is_that_pages_and_never_a_visit() {
    use keting_desk::records::ScanSource;
    use keting_kiosk::ui::{KioskAdapter, Page};
    let s = Screen::new();
    s.ui.set_resident_url("https://residents.example");
    let adapter = s.ui.window().global::<KioskAdapter>();
    let before = adapter.get_visits_today();
    // Each resident page takes the pass as "whose page is this".
    let pages: [(&str, Page, &dyn Fn()); 4] = [
        ("points", Page::Points, &|| {
            s.ui.window()
                .global::<keting_kiosk::ui::PointsAdapter>()
                .invoke_open()
        }),
        ("services", Page::Bookings, &|| {
            s.ui.window()
                .global::<keting_kiosk::ui::BookingsAdapter>()
                .invoke_open()
        }),
        ("activities", Page::Activities, &|| {
            s.ui.window()
                .global::<keting_kiosk::ui::ActivitiesAdapter>()
                .invoke_open()
        }),
        ("phone", Page::Phone, &|| s.ui.open_phone()),
    ];
    for (name, page, open) in pages {
        open();
        assert_eq!(adapter.get_page(), page, "{name} opens");
        s.ui.scan(&s.first_pass, ScanSource::DemoTap);
        assert_eq!(
            adapter.get_page(),
            page,
            "{name}: the scan stays on its page"
        );
        adapter.invoke_back_home();
        assert_eq!(adapter.get_page(), Page::Home);
        assert_eq!(
            adapter.get_visits_today(),
            before,
            "{name}: the pass was counted as a visit"
        );
    }
    // On the home page the same pass is a check-in.
    s.ui.scan(&s.first_pass, ScanSource::DemoTap);
    assert_eq!(adapter.get_page(), Page::Result);
}
