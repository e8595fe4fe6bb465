//! The reader agent's loop: scans in, `scanned` events out, the centre's
//! `show` command on the panel, and the panel's words when nobody answers.

use std::time::Duration;

use keting_core::messages::{Action, Command, EventKind, Outcome, PROTOCOL_VERSION, ReaderStatus};
use keting_core::pass::{PassError, PassVerifier};
use keting_hardware::panel::PanelDisplay;
use keting_hardware::panel::status_layout::{StatusView, render};
use keting_hardware::panel::text::PanelFont;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::agent_loop::{CommandTaker, DeviceAgent, Supervision, take_commands};
use crate::door::inputs::DoorInput;
use keting_link::connection::{LinkEvent, LinkHandle};
use keting_link::device_topics::{DeviceTopics, Incoming};

/// A greeting or a refusal stays on the panel this long.
pub const MESSAGE_SHOWN: Duration = Duration::from_secs(6);
/// The centre's greeting is awaited this long; then the panel says the
/// scan is kept for when the centre is back.
pub const ANSWER_WAIT: Duration = Duration::from_secs(3);

/// The status (the heartbeat) is published this often.
const STATUS_EVERY: Duration = Duration::from_secs(60);

/// Everything a reader agent needs.
pub struct ReaderSetup {
    /// Passes, verified offline with the site key.
    pub passes: PassVerifier,
    /// The panel and its font, if one is fitted.
    pub panel: Option<(Box<dyn PanelDisplay>, PanelFont)>,
    /// Take scans from the `sim/<device>/scan` topic (simulated scanner).
    pub sim_scans: bool,
}

fn view(headline: &str, line: &str, small: &str, attention: bool) -> StatusView {
    StatusView {
        headline: headline.into(),
        line: line.into(),
        small: small.into(),
        attention,
    }
}

/// The panel at rest.
fn at_rest() -> StatusView {
    view("请扫码签到", "活动签到", "Scan to sign in", false)
}

/// The reader agent.
pub struct ReaderAgent {
    setup: ReaderSetup,
    link: LinkHandle,
    topics: DeviceTopics,
    message: Option<(StatusView, Instant)>,
    awaiting: Option<Instant>,
    shown: Option<StatusView>,
    event_prefix: String,
    event_seq: u64,
    status_due: Instant,
    scanner_failed: bool,
}

impl ReaderAgent {
    /// A reader agent on `link`.
    pub fn new(setup: ReaderSetup, topics: DeviceTopics, link: LinkHandle) -> Self {
        let mut boot = [0u8; 6];
        if getrandom::fill(&mut boot).is_err() {
            boot.copy_from_slice(&keting_link::clock::now().as_unix_millis().to_be_bytes()[2..]);
        }
        Self {
            setup,
            link,
            topics,
            message: None,
            awaiting: None,
            shown: None,
            event_prefix: boot.iter().map(|b| format!("{b:02x}")).collect(),
            event_seq: 0,
            status_due: Instant::now(),
            scanner_failed: false,
        }
    }

    async fn publish_status(&mut self) {
        self.status_due = Instant::now() + STATUS_EVERY;
        let status = ReaderStatus {
            v: PROTOCOL_VERSION,
            state: if self.scanner_failed {
                "fault"
            } else {
                "ready"
            }
            .into(),
            at_ms: keting_link::clock::now().as_unix_millis(),
        };
        self.topics.status(&self.link, &status).await;
    }

    /// Runs until `shutdown` or the link ends.
    pub async fn run(
        self,
        inputs: mpsc::Receiver<DoorInput>,
        link_events: mpsc::Receiver<LinkEvent>,
        supervision: Supervision,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        crate::agent_loop::run(self, Some(inputs), link_events, supervision, shutdown).await;
    }

    fn show(&mut self, v: StatusView) {
        self.message = Some((v, Instant::now() + MESSAGE_SHOWN));
        self.refresh_panel();
    }

    fn refresh_panel(&mut self) {
        let v = match &self.message {
            Some((v, _)) => v.clone(),
            None => at_rest(),
        };
        if self.shown.as_ref() == Some(&v) {
            return;
        }
        if let Some((panel, font)) = &mut self.setup.panel
            && let Err(e) = panel.show(&render(&v, font))
        {
            tracing::warn!("panel: {e}");
        }
        tracing::info!(headline = %v.headline, line = %v.line, "panel shows");
        self.shown = Some(v);
    }

    async fn handle_scan(&mut self, code: &str) {
        match self
            .setup
            .passes
            .verify(code.trim(), self.topics.clock().best_time())
        {
            Ok(claims) => {
                self.show(view("请稍候", "正在签到", "Signing in…", false));
                self.awaiting = Some(Instant::now() + ANSWER_WAIT);
                self.event_seq += 1;
                let suffix = format!("{}-{}", self.event_prefix, self.event_seq);
                tracing::info!(member = claims.member.0, "scan sent to the centre");
                self.topics
                    .event(
                        &self.link,
                        &suffix,
                        EventKind::Scanned {
                            member: claims.member,
                            epoch: claims.epoch,
                        },
                    )
                    .await;
            }
            Err(e) => {
                let (zh, en) = match e {
                    PassError::Malformed(_) => ("这不是本中心的码", "Not a Keting pass"),
                    PassError::WrongSite(_) => ("其他中心的码", "Pass of another centre"),
                    PassError::BadSignature => ("码无效", "Invalid pass"),
                    PassError::Expired => ("码已过期 请刷新手机", "Expired: refresh your phone"),
                };
                tracing::info!("scan refused here: {e}");
                self.show(view("未签到", zh, en, true));
            }
        }
    }
}

impl DeviceAgent for ReaderAgent {
    type Input = DoorInput;
    const OFFLINE: &'static str = "scans are kept and counted when the centre is back";

    fn topics_and_link(&mut self) -> (&mut DeviceTopics, &LinkHandle) {
        (&mut self.topics, &self.link)
    }

    async fn start(&mut self) {
        self.refresh_panel();
    }

    fn on_connected(&mut self) {
        self.status_due = Instant::now();
    }

    async fn tick(&mut self) -> Option<Instant> {
        let now = Instant::now();
        if now >= self.status_due {
            self.publish_status().await;
        }
        if let Some(at) = self.awaiting
            && now >= at
        {
            self.awaiting = None;
            self.show(view("已记录", "稍后计入", "Kept: counted later", false));
        }
        if let Some((_, until)) = &self.message
            && now >= *until
        {
            self.message = None;
            self.refresh_panel();
        }
        [
            self.awaiting,
            self.message.as_ref().map(|m| m.1),
            Some(self.status_due),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    async fn on_message(&mut self, topic: &str, payload: &[u8]) {
        if self.setup.sim_scans
            && let Incoming::SimScan(code) = self.topics.incoming(topic, payload)
        {
            self.handle_scan(&code).await;
            return;
        }
        take_commands(self, topic, payload).await;
    }

    async fn on_input(&mut self, input: DoorInput) {
        match input {
            DoorInput::Scan(code) => self.handle_scan(&code).await,
            DoorInput::Failed(what) => {
                tracing::error!("reader input failed: {what}");
                self.scanner_failed = true;
                self.status_due = Instant::now();
                self.show(view(
                    "读卡器故障",
                    "请联系工作人员",
                    "Scanner fault: call staff",
                    true,
                ));
                self.event_seq += 1;
                let suffix = format!("{}-{}", self.event_prefix, self.event_seq);
                self.topics
                    .event(&self.link, &suffix, EventKind::Fault { message: what })
                    .await;
            }
            DoorInput::Contact(_)
            | DoorInput::ExitScan(_)
            | DoorInput::ExitButton(_)
            | DoorInput::HelpButton(_)
            | DoorInput::Fire(_) => {}
        }
    }
}

impl CommandTaker for ReaderAgent {
    fn republish_status(&mut self) {
        self.status_due = Instant::now();
    }

    async fn on_command(&mut self, cmd: Command) {
        let outcome = if !self.topics.accept(&self.link, &cmd).await {
            Outcome::Expired
        } else {
            match cmd.action {
                Action::Show { zh, en, ok } => {
                    self.awaiting = None;
                    self.show(view(if ok { "签到" } else { "未签到" }, &zh, &en, !ok));
                    Outcome::Done
                }
                Action::Republish => {
                    self.status_due = Instant::now();
                    Outcome::Done
                }
                _ => Outcome::Refused {
                    reason: "a reader only shows greetings".into(),
                },
            }
        };
        self.topics.ack(&self.link, cmd.id, outcome).await;
    }
}
