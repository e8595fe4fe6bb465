//! The devices: every device the centre knows (the provisioning site's
//! inventory, the doors, every device heard of), online, offline or never
//! seen, with its fault and when it was last heard; an offline device
//! shows no state. A role that may manage devices (technician, manager)
//! also gets the technician's steps: a self-test run on the device (its
//! checks shown as they came back), a claim confirmed by comparing the PIN
//! the device shows, an enrolment label to print, a device replaced after
//! a factory reset, a device retired. Each goes through the devices desk,
//! which checks the role again and audits it with the person.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use keting_core::ids::DeviceId;
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
use keting_desk::claims::DEFAULT_WINDOW_S;

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::{Dashboard, bad_input, form_guard, html_page, lang, refused, see_other};
use keting_desk::device_view::Availability;
use keting_desk::devices::{BrokerFiles, DeviceError};
use keting_desk::records::CommandRecord;
use keting_desk::{self as desk, Actor};
use keting_link::clock;

/// The role words for the technician's steps.
const MAY: (&str, &str) = ("您的角色不能管理设备", "Your role may not manage devices");

/// One row of the list.
#[derive(Default)]
struct Row {
    kind: Option<&'static str>,
    retired: bool,
    door_name: Option<String>,
    availability: Availability,
    state: Option<String>,
    fault: Option<String>,
    last_seen: Option<Timestamp>,
}

fn kind_word(lang: Lang, kind: &str) -> &'static str {
    match (kind, lang) {
        ("lock", Lang::Zh) => "门禁",
        ("vending", Lang::Zh) => "饮料机",
        ("piano-bank", Lang::Zh) => "钢琴电源",
        ("robot", Lang::Zh) => "艾灸机器人",
        ("lock", Lang::En) => "door",
        ("vending", Lang::En) => "drinks machine",
        ("piano-bank", Lang::En) => "piano power",
        ("robot", Lang::En) => "robot",
        _ => "",
    }
}

fn at(d: &Dashboard, t: Timestamp) -> String {
    let l = d.site().calendar.local(t);
    format!("{} {:02}:{:02}", l.date(), l.hour(), l.minute())
}

fn csrf_field(who: &StaffSession) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&who.csrf)
    )
}

fn button(
    who: &StaffSession,
    action: &str,
    id: &str,
    class: &str,
    text: &str,
    confirm: Option<&str>,
) -> String {
    format!(
        "<form method=\"post\" action=\"/devices/{action}\" class=\"inline\">{}\
         <input type=\"hidden\" name=\"id\" value=\"{}\">\
         <button class=\"{class}\"{}>{}</button></form>",
        csrf_field(who),
        esc(id),
        confirm
            .map(|c| format!(" onclick=\"return confirm('{}')\"", esc(c)))
            .unwrap_or_default(),
        esc(text)
    )
}

async fn list_page(
    d: &Dashboard,
    who: &StaffSession,
    lang: Lang,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let view = d.doors();
    let site_dir = d.site_dir();
    let inventory = match site_dir.as_deref() {
        Some(dir) => {
            let dir = dir.to_path_buf();
            d.with_store(move |_| desk::devices::inventory(Some(&dir)))
                .await
        }
        None => Err(DeviceError::NoSite),
    };
    // Without an inventory a device's kind shows in what it does: it powers
    // pianos or the robot, or it dispensed drinks.
    let known_kinds = d
        .with_store(|store| {
            let mut kinds: Vec<(String, &'static str)> = Vec::new();
            for r in desk::bookings::resources(store, None).unwrap_or_default() {
                let kind = match r.resource.kind {
                    keting_core::booking::ResourceKind::Piano => "piano-bank",
                    keting_core::booking::ResourceKind::Robot => "robot",
                    _ => continue,
                };
                if let Some(dev) = r.device {
                    kinds.push((dev.as_str().to_owned(), kind));
                }
            }
            for r in desk::vending::redemptions(store, 50).unwrap_or_default() {
                kinds.push((r.device.as_str().to_owned(), "vending"));
            }
            kinds
        })
        .await;
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (id, kind) in known_kinds {
        rows.entry(id).or_default().kind = Some(kind);
    }
    if let Ok(entries) = &inventory {
        for e in entries {
            let r = rows.entry(e.name.clone()).or_default();
            r.kind = Some(e.kind.as_str());
            r.retired = e.retired;
        }
    }
    for h in &view.heard {
        let r = rows.entry(h.id.as_str().to_owned()).or_default();
        r.availability = h.availability;
        r.last_seen = h.last_seen;
    }
    for door in &view.doors {
        let r = rows.entry(door.id.as_str().to_owned()).or_default();
        r.kind.get_or_insert("lock");
        r.door_name = Some(door.name.clone());
        r.availability = door.availability;
        r.state = door
            .state
            .map(|s| super::today::lock_word(lang, s).to_owned());
        r.fault = door.fault.clone();
        r.last_seen = r.last_seen.max(door.last_seen);
    }
    for s in &view.session_devices {
        let r = rows.entry(s.id.as_str().to_owned()).or_default();
        r.availability = s.availability;
        r.state = s
            .state
            .as_deref()
            .map(|st| super::today::device_word(lang, st));
        r.fault = s.fault.clone();
    }
    let manage = who.role.may(StaffAction::Devices);
    let has_site = site_dir.is_some() && inventory.is_ok();
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(id, r)| {
            let state = if r.retired {
                lang.t("已停用", "retired").to_owned()
            } else {
                match r.availability {
                    Availability::Online => format!(
                        "<span class=\"ok\">{}</span>{}",
                        lang.t("在线", "online"),
                        r.state
                            .as_deref()
                            .map(|s| format!(" · {}", esc(s)))
                            .unwrap_or_default()
                    ),
                    Availability::Offline => format!(
                        "<span class=\"offline\">{}</span>",
                        lang.t("离线", "offline")
                    ),
                    Availability::NeverSeen => lang.t("未连接过", "never seen").to_owned(),
                }
            };
            let mut row = vec![
                esc(id),
                esc(r.door_name.as_deref().unwrap_or("")),
                r.kind.map(|k| kind_word(lang, k)).unwrap_or("").to_owned(),
                state,
                esc(r.fault.as_deref().filter(|_| r.availability == Availability::Online).unwrap_or("")),
                r.last_seen.map(|t| at(d, t)).unwrap_or_default(),
            ];
            if manage {
                let mut actions = String::new();
                if !r.retired && r.availability == Availability::Online {
                    actions.push_str(&button(who, "self-test", id, "self-test", lang.t("自检", "Self-test"), None));
                }
                if has_site && r.kind.is_some() {
                    if !r.retired {
                        actions.push_str(&button(who, "label", id, "label", lang.t("打印扫码登记标签", "Print an enrolment label"), None));
                    }
                    actions.push_str(&button(
                        who,
                        "replace",
                        id,
                        "replace",
                        if r.retired {
                            lang.t("重新启用", "Bring back")
                        } else {
                            lang.t("更换（恢复出厂后）", "Replace (after a reset)")
                        },
                        Some(lang.t(
                            "旧证书将作废，设备需重新登记。确定？",
                            "The old certificate is revoked and the device must enrol again. Go on?",
                        )),
                    ));
                    if !r.retired {
                        actions.push_str(&button(
                            who,
                            "retire",
                            id,
                            "retire",
                            lang.t("停用", "Retire"),
                            Some(lang.t(
                                "停用后代理服务器将拒绝此设备。确定？",
                                "The broker will refuse this device. Retire it?",
                            )),
                        ));
                    }
                }
                row.push(actions);
            }
            row
        })
        .collect();
    let mut head = vec![
        lang.t("设备", "Device"),
        lang.t("名称", "Name"),
        lang.t("类型", "Kind"),
        lang.t("状态", "State"),
        lang.t("故障", "Fault"),
        lang.t("最后联系", "Last seen"),
    ];
    if manage {
        head.push(lang.t("操作", "Action"));
    }
    let mut body = format!("<h1>{}</h1>", lang.t("设备", "Devices"));
    if let Some((ok, text)) = notice {
        body.push_str(&html::notice(ok, &text));
    }
    if !view.connected {
        let _ = write!(
            body,
            "<p class=\"offline\">{}</p>",
            lang.t(
                "中心与设备的连接中断：设备状态未知",
                "The centre cannot hear its devices: their state is unknown"
            )
        );
    }
    if table_rows.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.t("尚未登记设备", "No device registered yet")
        );
    } else {
        body.push_str(&html::table("devices", &head, &table_rows));
    }
    if manage && site_dir.is_none() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.t(
                "本中心没有站点目录：登记标签、更换和停用需先由技术员执行 kiosk site import。",
                "This centre has no site directory: labels, replace and retire need a technician's `kiosk site import` first."
            )
        );
    }
    // Claims waiting for the PIN compare.
    let _ = write!(
        body,
        "<section id=\"claims\"><h2>{}</h2>",
        lang.t("等待确认的设备登记", "Enrolments waiting for a PIN")
    );
    if view.claims.is_empty() {
        let _ = write!(body, "<p>{}</p>", lang.t("没有", "None"));
    } else if manage {
        for (device, _) in &view.claims {
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/devices/claim\" class=\"claim\">{}\
                 <input type=\"hidden\" name=\"id\" value=\"{}\">\
                 <label>{} <b>{}</b>：{} <input name=\"pin\" inputmode=\"numeric\" maxlength=\"7\" size=\"8\" required autocomplete=\"off\"></label> \
                 <button>{}</button></form>",
                csrf_field(who),
                esc(device),
                lang.t("设备", "Device"),
                esc(device),
                lang.t(
                    "输入设备屏幕上的 6 位 PIN",
                    "the 6-digit PIN its panel shows"
                ),
                lang.t("PIN 一致，确认", "The PINs match: confirm"),
            );
        }
    } else {
        let list: Vec<String> = view.claims.iter().map(|(d, _)| esc(d)).collect();
        let _ = write!(body, "<p>{}</p>", list.join(lang.t("、", ", ")));
    }
    body.push_str("</section>");
    html_page(
        status,
        html::page(
            lang,
            lang.t("设备", "Devices"),
            Some(who),
            Nav::Devices,
            &body,
        ),
    )
}

/// `GET /devices`.
pub async fn page(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    list_page(&d, &who, lang, None, StatusCode::OK).await
}

/// A form naming a device.
#[derive(serde::Deserialize)]
pub struct DeviceForm {
    csrf: String,
    id: String,
    #[serde(default)]
    pin: String,
}

/// The checks every device form passes (`form_guard` with a role that may
/// manage devices), and the device it names.
fn guard(
    d: &Dashboard,
    headers: &HeaderMap,
    f: &DeviceForm,
) -> Result<(StaffSession, Lang, DeviceId), Box<Response>> {
    let (who, lang) = form_guard(d, headers, &f.csrf, Some((StaffAction::Devices, MAY)))?;
    match DeviceId::new(f.id.trim()) {
        Ok(id) => Ok((who, lang, id)),
        Err(e) => Err(Box::new(bad_input(
            lang,
            Some(&who),
            &format!("{}: {e}", lang.t("设备名不对", "Not a device name")),
        ))),
    }
}

/// `POST /devices/self-test`: the device runs its self-test; its page
/// shows the checks when they come back.
pub async fn self_test(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<DeviceForm>,
) -> Response {
    let (who, lang, device) = match guard(&d, &headers, &f) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let actor = Actor::Staff(who.member);
    match d
        .with_store(move |store| {
            desk::devices::request_self_test(store, actor, &device, clock::now())
        })
        .await
    {
        Ok(id) => see_other(&format!("/devices/command/{id}")),
        Err(e) => refused(lang, Some(&who), &e.words(lang)),
    }
}

fn check_rows(lang: Lang, c: &CommandRecord) -> Vec<Vec<String>> {
    c.report
        .iter()
        .map(|check| {
            vec![
                esc(&check.check),
                if check.passed {
                    format!("<span class=\"ok\">{}</span>", lang.t("通过", "passed"))
                } else {
                    format!(
                        "<span class=\"alarm\">{}</span>",
                        lang.t("未通过", "failed")
                    )
                },
                esc(&check.detail),
                esc(check.fix.as_deref().unwrap_or("")),
            ]
        })
        .collect()
}

/// `GET /devices/command/ID`: a self-test's progress and its checks. While
/// the device has not answered the page reloads itself every 2 s (no
/// script needed).
pub async fn command(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let id: String = id.chars().take(64).collect();
    let record = match d
        .with_store(move |store| desk::devices::command(store, &id))
        .await
    {
        Ok(Some(r)) => r,
        Ok(None) => return bad_input(lang, Some(&who), lang.t("没有这条指令", "No such command")),
        Err(e) => return refused(lang, Some(&who), &e.words(lang)),
    };
    let now = clock::now();
    let waiting = record.outcome.is_none() && now <= record.deadline;
    let mut body = format!(
        "<h1>{} · {}</h1><p>{} {} · {}</p>",
        esc(record.device.as_str()),
        lang.t("自检", "Self-test"),
        lang.t("发起", "Asked at"),
        at(&d, record.requested),
        esc(&record.requested_by),
    );
    match (&record.outcome, waiting) {
        (None, true) => {
            let _ = write!(
                body,
                "<p class=\"big\" id=\"self-test-state\">{}</p>",
                lang.t("设备正在自检…", "The device is testing itself…")
            );
        }
        (None, false) => {
            let _ = write!(
                body,
                "<p class=\"error\" id=\"self-test-state\">{}</p>",
                lang.t(
                    "设备没有回答：请查看它是否在线、时钟是否正确",
                    "The device did not answer: is it online, is its clock right?"
                )
            );
        }
        (Some(outcome), _) => {
            let passed = record.report.iter().filter(|c| c.passed).count();
            let all = record.report.len();
            let summary = if all == 0 {
                esc(outcome)
            } else {
                match lang {
                    Lang::Zh => format!("{all} 项检查，{passed} 项通过"),
                    Lang::En => format!("{passed} of {all} checks passed"),
                }
            };
            let _ = write!(
                body,
                "<p class=\"big {}\" id=\"self-test-state\">{summary}</p>",
                if all > 0 && passed == all {
                    "ok"
                } else {
                    "alarm"
                }
            );
            if all > 0 {
                body.push_str(&html::table(
                    "checks",
                    &[
                        lang.t("检查", "Check"),
                        lang.t("结果", "Result"),
                        lang.t("所见", "Seen"),
                        lang.t("处理", "What to do"),
                    ],
                    &check_rows(lang, &record),
                ));
            }
        }
    }
    let _ = write!(
        body,
        "<p><a href=\"/devices\">{}</a></p>",
        lang.t("返回设备", "Back to devices")
    );
    let mut page = html::page(
        lang,
        lang.t("自检", "Self-test"),
        Some(&who),
        Nav::Devices,
        &body,
    );
    if waiting {
        page = page.replacen(
            "<meta charset=\"utf-8\">",
            "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\">",
            1,
        );
    }
    html_page(StatusCode::OK, page)
}

/// `POST /devices/claim`: the PIN the device shows, typed by the
/// technician; a different PIN confirms nothing.
pub async fn confirm_claim(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<DeviceForm>,
) -> Response {
    let (who, lang, device) = match guard(&d, &headers, &f) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let pin: String = f.pin.chars().filter(|c| !c.is_whitespace()).collect();
    if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        let why = lang.t("PIN 是 6 位数字", "A PIN is 6 digits").to_owned();
        return list_page(&d, &who, lang, Some((false, why)), StatusCode::BAD_REQUEST).await;
    }
    let actor = Actor::Staff(who.member);
    let shown = device.clone();
    match d
        .with_store(move |store| {
            desk::claims::confirm(store, actor, &device, Some(&pin), clock::now())
        })
        .await
    {
        Ok(()) => {
            let done = match lang {
                Lang::Zh => format!("{shown} 的登记已确认：设备几秒内取得证书后上线。"),
                Lang::En => format!(
                    "{shown}'s enrolment is confirmed: it gets its certificate and comes online within seconds."
                ),
            };
            list_page(&d, &who, lang, Some((true, done)), StatusCode::OK).await
        }
        Err(desk::claims::ConfirmError::WrongPin { .. }) => {
            let why = lang
                .t(
                    "PIN 与设备的不一致，未确认：可能有别的设备在冒充它",
                    "The PIN is not the device's: nothing confirmed (another device may be posing as it)",
                )
                .to_owned();
            list_page(&d, &who, lang, Some((false, why)), StatusCode::BAD_REQUEST).await
        }
        Err(e) => {
            list_page(
                &d,
                &who,
                lang,
                Some((false, e.words(lang))),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

fn broker_words(lang: Lang, b: &BrokerFiles) -> String {
    match (b, lang) {
        (BrokerFiles::Rewritten(dir), Lang::Zh) => format!(
            "代理服务器的配置已重写（{}）：请重新加载 Mosquitto（systemctl reload mosquitto）。",
            dir.display()
        ),
        (BrokerFiles::Rewritten(dir), Lang::En) => format!(
            "The broker's files are rewritten ({}): reload Mosquitto (systemctl reload mosquitto).",
            dir.display()
        ),
        (BrokerFiles::NeverWritten, _) => lang
            .t(
                "请技术员运行 keting-provision broker config 并重新加载 Mosquitto。",
                "A technician runs `keting-provision broker config` and reloads Mosquitto.",
            )
            .to_owned(),
        (BrokerFiles::NotWritten(why), Lang::Zh) => format!("代理服务器的配置未能重写：{why}"),
        (BrokerFiles::NotWritten(why), Lang::En) => {
            format!("The broker's files were not rewritten: {why}")
        }
    }
}

fn site_step_refused(lang: Lang, e: &DeviceError) -> String {
    match (e, lang) {
        (DeviceError::NoSite, Lang::Zh) => {
            "本中心没有站点目录：请技术员先执行 kiosk site import".to_owned()
        }
        (e, _) => e.words(lang),
    }
}

/// `POST /devices/retire`.
pub async fn retire(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<DeviceForm>,
) -> Response {
    site_step(d, headers, f, Step::Retire).await
}

/// `POST /devices/replace`.
pub async fn replace(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<DeviceForm>,
) -> Response {
    site_step(d, headers, f, Step::Replace).await
}

#[derive(Clone, Copy)]
enum Step {
    Retire,
    Replace,
}

async fn site_step(d: Dashboard, headers: HeaderMap, f: DeviceForm, step: Step) -> Response {
    let (who, lang, device) = match guard(&d, &headers, &f) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let actor = Actor::Staff(who.member);
    let dir = d.site_dir();
    let name = device.as_str().to_owned();
    let done = d
        .with_store(move |store| match step {
            Step::Retire => {
                desk::devices::retire(store, actor, dir.as_deref(), &name, clock::now())
            }
            Step::Replace => {
                desk::devices::replace(store, actor, dir.as_deref(), &name, clock::now())
            }
        })
        .await;
    match done {
        Ok(files) => {
            let what = match (step, lang) {
                (Step::Retire, Lang::Zh) => format!("{device} 已停用，证书已吊销。"),
                (Step::Retire, Lang::En) => {
                    format!("{device} is retired; its certificate is revoked.")
                }
                (Step::Replace, Lang::Zh) => {
                    format!("{device} 的旧证书已吊销，新证书已签发：请打印登记标签让设备重新登记。")
                }
                (Step::Replace, Lang::En) => format!(
                    "{device}'s old certificate is revoked and a new one issued: print an enrolment label so the device enrols again."
                ),
            };
            let text = format!("{what} {}", broker_words(lang, &files));
            list_page(&d, &who, lang, Some((true, text)), StatusCode::OK).await
        }
        Err(e) => {
            list_page(
                &d,
                &who,
                lang,
                Some((false, site_step_refused(lang, &e))),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

/// `POST /devices/label`: an enrolment label (its code good once, for
/// three minutes) shown to print.
pub async fn label(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<DeviceForm>,
) -> Response {
    let (who, lang, device) = match guard(&d, &headers, &f) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let actor = Actor::Staff(who.member);
    let dir = d.site_dir();
    let name = device.as_str().to_owned();
    let made = d
        .with_store(move |store| {
            desk::devices::label(
                store,
                actor,
                dir.as_deref(),
                &name,
                DEFAULT_WINDOW_S,
                clock::now(),
            )
        })
        .await;
    match made {
        Ok((_, png, files)) => {
            let body = format!(
                "<h1>{} · {}</h1><img class=\"label\" alt=\"{}\" width=\"720\" height=\"360\" src=\"data:image/png;base64,{}\">\
                 <p>{}</p><p>{}</p><p><a href=\"/devices\">{}</a></p>",
                esc(device.as_str()),
                lang.t("登记标签", "Enrolment label"),
                lang.t("登记二维码", "Enrolment QR code"),
                base64::engine::general_purpose::STANDARD.encode(png),
                match lang {
                    Lang::Zh => format!(
                        "请打印后在设备上扫码（device-agent --claim）；此码只能用一次，{} 分钟内有效。设备屏幕显示 PIN 后，在设备页确认。",
                        DEFAULT_WINDOW_S / 60
                    ),
                    Lang::En => format!(
                        "Print it and scan it on the device (device-agent --claim); the code works once, for {} minutes. Once the device's panel shows a PIN, confirm it on the devices page.",
                        DEFAULT_WINDOW_S / 60
                    ),
                },
                esc(&broker_words(lang, &files)),
                lang.t("返回设备", "Back to devices"),
            );
            html_page(
                StatusCode::OK,
                html::page(
                    lang,
                    lang.t("登记标签", "Enrolment label"),
                    Some(&who),
                    Nav::Devices,
                    &body,
                ),
            )
        }
        Err(e) => {
            list_page(
                &d,
                &who,
                lang,
                Some((false, site_step_refused(lang, &e))),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}
