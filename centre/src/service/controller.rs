//! The controller task: the centre's MQTT link, the roster it publishes and
//! the events it stores. One task owns one database connection, so writes
//! from here never interleave.

use std::future::Future;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use keting_core::claim::ClaimRequest;
use keting_core::clock_judge::EARLIEST_PLAUSIBLE_MS;
use keting_core::ids::DeviceId;
use keting_core::messages::{
    Ack, Action, Event, MessageId, Outcome, PROTOCOL_VERSION, VendOutcome, decode, encode,
};
use keting_core::roster::{Roster, RosterMember, sign};
use keting_core::site_time::{self, MAX_NONCE, TimeAnswer, TimeAsk};
use keting_core::topics::{DeviceChannel, ROOT, Topic, claim_requests_filter};
use keting_link::clock::now;
use keting_link::connection::{self, LinkConfig, LinkEvent, LinkHandle};
use keting_link::outbox::Outbox;
use tokio::sync::watch;

use super::claims::{ClaimDesk, RequestVerdict};
use super::command_seal;
use super::device_states::{DeviceStates, DoorsView, StatusTaken};
use super::sessions;
use super::{CentreConfig, CentreError};
use keting_core::signed_answer;
use keting_store::device_commands::CommandAction;
use keting_store::site_record::SiteRecord;
use keting_store::{
    Store, StoreError, bookings, device_claims, device_commands, door_events, doors, gym,
    redemptions,
};
use keting_store::{audit, device_keys};

/// How often the database is checked for changes (roster, doors, vends,
/// sessions): a `PRAGMA data_version`, a few microseconds. It bounds the
/// time from a decision on the screen (or a shell) to its command leaving:
/// 20 ms measured 20 ms p50 from scan to piano on; 5 ms, 6 ms.
pub const POLL: Duration = Duration::from_millis(5);
/// How often the time-driven work runs: redemptions past their deadline,
/// the booking sweep (places released, waiting lists served), and the view's time-dependent parts (tonight's entries, claims expiring).
pub const SLOW_POLL: Duration = Duration::from_secs(1);
/// How often old device events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Entries shown on the doors view.
const ENTRIES_SHOWN: u32 = 50;
/// A reader's greeting is sent while the person who scanned may still be
/// there: for a scan at most this old, and carried out no later.
const READER_ANSWER_WITHIN_MS: i64 = 10_000;

/// The controller, before it runs.
pub struct Controller {
    store: Store,
    site: SiteRecord,
    key: SigningKey,
    link_config: LinkConfig,
    outbox: Option<Outbox>,
    doors_tx: watch::Sender<DoorsView>,
    states: DeviceStates,
    connected: bool,
    data_version: Option<i64>,
    published: Option<(Vec<RosterMember>, Vec<DeviceId>)>,
    last_issued: i64,
    claims: ClaimDesk,
    slow_due: tokio::time::Instant,
    /// A device answered a session command: its follow-up (a stop for a
    /// session ended meanwhile) goes out at the next poll.
    sessions_due: bool,
    /// Home Assistant's discovery configs, unless turned off.
    home_assistant: Option<super::home_assistant::Publisher>,
    /// The database's `data_version` each time it moved (any connection's
    /// commit), for the dashboard's open pages.
    commits: watch::Sender<i64>,
    /// This connection's own writes so far (`total_changes`), so a change
    /// it made itself is told on `commits` too.
    own_changes: u64,
    /// The centre's own clock: the kernel's NTP flag and the 2026 floor.
    centre_clock: super::alarm_watch::CentreClock,
    /// How long the devices' events and cleared alarms are kept, and when
    /// the next pruning is due.
    keep_device_events: Duration,
    /// The centre reports to a district: its unsent events are kept.
    has_district: bool,
    prune_due: tokio::time::Instant,
}

impl Controller {
    /// Opens its own connection to the database and its outbox.
    pub fn new(
        config: &CentreConfig,
        broker: &(String, u16),
        doors_tx: watch::Sender<DoorsView>,
        commits: watch::Sender<i64>,
    ) -> Result<Self, CentreError> {
        let store = Store::open(&config.database)?;
        let run: String = crate::site::random_bytes::<8>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut states = DeviceStates::for_run(run);
        for (id, at) in keting_store::status_marks::all(store.conn())? {
            states.set_floor(id, at);
        }
        let outbox = Outbox::open(&config.data_dir.join("centre-outbox.db"))
            .map_err(|e| CentreError::Runtime(format!("outbox: {e}")))?;
        let site = &config.site.site_id;
        let link_config = LinkConfig {
            host: broker.0.clone(),
            port: broker.1,
            client_id: format!("keting-{site}-kiosk"),
            credentials: match &config.mqtt {
                super::MqttMode::External { credentials, .. }
                | super::MqttMode::Embedded { credentials, .. } => credentials.clone(),
            },
            online_topic: Topic::ControllerOnline.name(site),
            birth: format!(r#"{{"v":1,"online":true,"run":"{}"}}"#, states.run()).into_bytes(),
            subscriptions: ["online", "status", "event", "ack", "time_ask"]
                .iter()
                .map(|ch| format!("{ROOT}/{site}/device/+/{ch}"))
                .chain([claim_requests_filter(site)])
                .collect(),
            keep_alive: Duration::from_secs(10),
            persistent_session: true,
            tls: match &config.mqtt {
                super::MqttMode::External { tls, .. } => tls.clone(),
                super::MqttMode::Embedded { .. } => None,
            },
        };
        Ok(Self {
            store,
            site: config.site.clone(),
            key: config.signing_key.clone(),
            link_config,
            outbox: Some(outbox),
            doors_tx,
            states,
            connected: false,
            data_version: None,
            published: None,
            last_issued: 0,
            claims: ClaimDesk::new(config.provisioning_site.clone()),
            slow_due: tokio::time::Instant::now(),
            sessions_due: false,
            home_assistant: config
                .home_assistant
                .then(super::home_assistant::Publisher::default),
            centre_clock: super::alarm_watch::CentreClock::default(),
            own_changes: 0,
            commits,
            has_district: config.district.is_some(),
            keep_device_events: Duration::from_secs(
                u64::from(config.keep_device_events_days) * 86_400,
            ),
            prune_due: tokio::time::Instant::now(),
        })
    }

    /// Brings Home Assistant's view up to date (configs, today's visits).
    async fn publish_home_assistant(&mut self, link: &LinkHandle) {
        if let Some(ha) = self.home_assistant.as_mut()
            && let Err(e) = ha.publish(&self.store, &self.site, link).await
        {
            tracing::error!("Home Assistant discovery: {e}");
        }
    }

    /// Runs until `shutdown`; then the link says goodbye (`online: false`).
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let Some(outbox) = self.outbox.take() else {
            return;
        };
        let (link, mut events, task) = connection::spawn(self.link_config.clone(), outbox);
        let mut tick = tokio::time::interval(POLL);
        // Under systemd with WatchdogSec, fed from this loop: a controller
        // that hangs stops the pings and the service is restarted.
        // READY comes from here, before the first ping: said from another
        // thread, it could follow a WATCHDOG=1 (seen in a test).
        keting_link::sd_notify::tell("READY=1");
        let mut watchdog = keting_link::sd_notify::Watchdog::from_env();
        tokio::pin!(shutdown);
        loop {
            watchdog.feed();
            tokio::select! {
                () = &mut shutdown => break,
                event = events.recv() => match event {
                    Some(event) => self.handle(event, &link).await,
                    None => break,
                },
                _ = tick.tick() => {
                    if let Err(e) = self.poll(&link).await {
                        tracing::error!("controller: {e}");
                    }
                }
            }
            self.tell_own_writes();
        }
        drop(link);
        let _ = task.await;
    }

    /// What this connection wrote itself (an alarm raised on a device's
    /// event) is not seen by `data_version`, which counts other
    /// connections' commits: the alert sender and the dashboard's live
    /// pages are told here, at once, not at their next idle poll.
    fn tell_own_writes(&mut self) {
        let changes = self.store.conn().total_changes();
        if changes != self.own_changes {
            self.own_changes = changes;
            self.commits.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    async fn handle(&mut self, event: LinkEvent, link: &LinkHandle) {
        let t = now();
        match event {
            LinkEvent::Connected => {
                tracing::info!("controller connected to the broker");
                self.connected = true;
                if let Some(ha) = self.home_assistant.as_mut() {
                    ha.forget();
                }
                self.publish_home_assistant(link).await;
            }
            LinkEvent::Disconnected(why) => {
                if self.connected {
                    tracing::warn!("controller lost the broker: {why}");
                }
                self.connected = false;
            }
            LinkEvent::Drained => {}
            LinkEvent::Message {
                topic,
                payload,
                retained,
            } => {
                self.handle_message(&topic, &payload, retained, link, t)
                    .await;
            }
        }
        self.refresh_view();
    }

    /// A message on one of the centre's subscriptions.
    async fn handle_message(
        &mut self,
        topic: &str,
        payload: &[u8],
        retained: bool,
        link: &LinkHandle,
        t: keting_core::time::Timestamp,
    ) {
        match Topic::parse(&self.site.site_id, topic) {
            Ok(Topic::Device(id, DeviceChannel::Online)) => {
                if !self.known(&id) {
                    return;
                }
                let keyed = matches!(device_keys::get(self.store.conn(), &id), Ok(Some(_)));
                let was_online = self.states.is_online(&id);
                self.states.handle_online(id.clone(), payload, t, keyed);
                if !was_online && self.states.is_online(&id) {
                    self.came_online(&id);
                }
            }
            Ok(Topic::Device(id, DeviceChannel::Status)) => {
                if !self.known(&id) {
                    return;
                }
                // Signed by the device's key when the centre knows it (a
                // forged one is refused and audited by `answer_body`).
                let Some((body, signed)) = self.answer_body(&id, topic, payload) else {
                    return;
                };
                let was_online = self.states.is_online(&id);
                let delivery = super::device_states::Delivery { signed, retained };
                match self.states.handle_status(id.clone(), &body, t, delivery) {
                    StatusTaken::Malformed => {}
                    StatusTaken::Replayed => {
                        tracing::warn!(device = %id, "a signed status older than the last was not taken (played again?)");
                    }
                    taken => {
                        // Kept across restarts: a recording of this or an
                        // older status proves nothing after one either.
                        if signed
                            && let Some(at) = self.states.signed_at_ms(&id)
                            && let Err(e) =
                                keting_store::status_marks::raise(self.store.conn(), &id, at)
                        {
                            tracing::error!(device = %id, "cannot keep the status's time: {e}");
                        }
                        if let Err(e) =
                            super::alarm_watch::on_status(self.store.conn(), &id, &body, t)
                        {
                            tracing::error!(device = %id, "cannot record an alarm: {e}");
                        }
                        if taken == StatusTaken::CameOnline && !was_online {
                            self.came_online(&id);
                        }
                    }
                }
            }
            Ok(Topic::Device(id, DeviceChannel::Ack)) => {
                let Some((body, signed)) = self.answer_body(&id, topic, payload) else {
                    return;
                };
                match decode::<Ack>(&body) {
                    Ok(Ack {
                        outcome: Outcome::Vended { .. },
                        ..
                    }) if !signed => {
                        tracing::warn!(device = %id, "a vend outcome not signed by the machine's key was not taken (`kiosk device trust {id}` names its key)")
                    }
                    Ok(Ack {
                        outcome: Outcome::Vended { redemption, result },
                        ..
                    }) => self.settle_redemption(&id, redemption.as_str(), result),
                    Ok(ack) if !signed && sessions::is_session_ack(&ack) => {
                        tracing::warn!(device = %id, "a session answer not signed by the device's key was not taken (`kiosk device trust {id}` names its key)")
                    }
                    Ok(ack)
                        if sessions::handle_ack(
                            &mut self.store,
                            self.site.calendar,
                            &id,
                            &ack,
                            t,
                        ) =>
                    {
                        self.sessions_due = true
                    }
                    Ok(ack) => {
                        tracing::info!(device = %id, command = %ack.id.as_str(), outcome = ?ack.outcome, "device answered");
                        if let Err(e) = device_commands::record_ack(self.store.conn(), &id, &ack, t)
                        {
                            tracing::error!("cannot store an answer of {id}: {e}");
                        }
                    }
                    Err(e) => tracing::warn!("an answer of {id} was not understood: {e}"),
                }
            }
            Ok(Topic::Device(id, DeviceChannel::Event)) => {
                let Some((body, signed)) = self.answer_body(&id, topic, payload) else {
                    return;
                };
                match decode::<Event>(&body) {
                    Ok(event) => match door_events::record(self.store.conn(), &id, &event, t) {
                        Ok(true) => {
                            tracing::info!(device = %id, event = %event.id.as_str(), "device event stored");
                            // From a device whose key is known the event verified
                            // (a forged one was dropped above).
                            if let Err(e) =
                                super::alarm_watch::on_event(self.store.conn(), &id, &event.kind, t)
                            {
                                tracing::error!(device = %id, "cannot record an alarm: {e}");
                            }
                            if let Err(e) = super::occupancy_watch::on_event(
                                &self.store,
                                self.site.calendar,
                                &id,
                                &event,
                                t,
                            ) {
                                tracing::error!(device = %id, "cannot judge a passage: {e}");
                            }
                            if signed {
                                if let keting_core::messages::EventKind::Scanned { member, epoch } =
                                    event.kind
                                {
                                    self.reader_scan(&id, &event, member, epoch, t, link).await;
                                }
                                sessions::handle_event(
                                    &mut self.store,
                                    self.site.calendar,
                                    &event,
                                    t,
                                );
                            } else if matches!(
                                event.kind,
                                keting_core::messages::EventKind::SessionEnded { .. }
                                    | keting_core::messages::EventKind::Scanned { .. }
                            ) {
                                tracing::warn!(device = %id, "a session's end not signed by the device's key settles nothing (`kiosk device trust {id}` names its key)");
                            }
                        }
                        Ok(false) => {}
                        Err(e) => tracing::error!("cannot store an event of {id}: {e}"),
                    },
                    Err(e) => tracing::warn!("an event of {id} was not understood: {e}"),
                }
            }
            Ok(Topic::Device(id, DeviceChannel::TimeAsk)) => {
                self.answer_time(id, payload, link).await;
            }
            Ok(Topic::ClaimRequest(id)) => self.handle_claim(id, payload, link).await,
            Ok(_) | Err(_) => {}
        }
    }

    /// Deletes the devices' events, the cleared alarms, the alerts sent
    /// about them and the district outbox's rows older than the configured
    /// time (check-ins, the
    /// ledger, bookings and the audit log are never pruned).
    fn prune_old_events(&mut self) -> Result<(), StoreError> {
        let cutoff = keting_core::time::Timestamp::from_unix_millis(
            now().as_unix_millis()
                - i64::try_from(self.keep_device_events.as_millis()).unwrap_or(i64::MAX),
        );
        let events = door_events::prune(self.store.conn(), cutoff)?;
        // The alert outbox's sent messages first: they name cleared alarms.
        let alerts = keting_store::alerts::prune(self.store.conn(), cutoff)?;
        let alarms = keting_store::alarms::prune_cleared(self.store.conn(), cutoff)? + alerts;
        let (uplink, unsent) = keting_store::uplink::prune(
            self.store.conn(),
            cutoff,
            self.has_district
                .then_some(keting_store::uplink::UNSENT_KEPT),
        )?;
        if unsent > 0 && self.has_district {
            tracing::error!(
                unsent,
                kept = keting_store::uplink::UNSENT_KEPT,
                "the district outbox is full: its oldest events were dropped unsent (is the district link down?)"
            );
        }
        if events + alarms + uplink > 0 {
            tracing::info!(
                events,
                alarms,
                uplink,
                days = self.keep_device_events.as_secs() / 86_400,
                "pruned device events, cleared alarms and district outbox rows past their keeping time"
            );
        }
        Ok(())
    }

    /// A pass scanned at a room reader: attendance of what is on in its
    /// room, at the reader's time of the scan (a scan that waited in the
    /// reader's outbox while the centre was away still counts at its
    /// time, up to a day back), and a greeting sent back for its panel
    /// while the person may still be there.
    async fn reader_scan(
        &mut self,
        device: &DeviceId,
        event: &Event,
        member: keting_core::ids::MemberId,
        epoch: keting_core::ids::Epoch,
        t: keting_core::time::Timestamp,
        link: &LinkHandle,
    ) {
        use keting_core::activity::ActivityRefusal as R;
        use keting_core::activity::rules::Attendance;
        use keting_desk::activities::ActivityError as E;
        let lag = t.as_unix_millis() - event.at_ms;
        let at = if (-60_000..=86_400_000).contains(&lag) {
            keting_core::time::Timestamp::from_unix_millis(event.at_ms)
        } else {
            t
        };
        let done =
            keting_desk::activities::scan_at_reader(&mut self.store, device, member, epoch, at);
        let (zh, en, ok) = match &done {
            Ok(a) => {
                tracing::info!(device = %device, member = member.0, activity = a.activity.id, attendance = ?a.attendance, "reader scan counted");
                match a.attendance {
                    Attendance::Arrived => (
                        format!("{}，欢迎", a.name),
                        "Signed in: welcome".to_owned(),
                        true,
                    ),
                    Attendance::CheckedOut => (
                        format!("{}，已签退", a.name),
                        "Signed out: thank you".to_owned(),
                        true,
                    ),
                    Attendance::Again => (
                        format!("{}，已签到", a.name),
                        "Already signed in".to_owned(),
                        true,
                    ),
                }
            }
            Err(e) => {
                tracing::info!(device = %device, member = member.0, "reader scan not counted: {e}");
                let (zh, en) = match e {
                    E::Refused(R::NotOnNow) => ("现在没有活动", "Nothing on now"),
                    E::Refused(R::Full) => ("名额已满", "Every place is taken"),
                    E::Refused(R::NotOpen { .. }) => ("活动已结束", "The activity is over"),
                    E::CardReplaced => ("旧卡已挂失", "Old card: replaced"),
                    E::NotAReader(_) => ("读卡器未登记", "Reader not set up"),
                    E::UnknownMember(_) => ("未登记", "Not registered"),
                    _ => ("请找工作人员", "Please ask staff"),
                };
                (zh.to_owned(), en.to_owned(), false)
            }
        };
        if lag > READER_ANSWER_WITHIN_MS {
            // Counted late: whoever scanned has gone; nothing to show.
            return;
        }
        let Ok(id) = MessageId::new(format!("show-{}", event.id.as_str())) else {
            return;
        };
        let sealed = self.sealer().command(
            self.store.conn(),
            device,
            id,
            t.as_unix_millis() + READER_ANSWER_WITHIN_MS,
            Action::Show { zh, en, ok },
            t,
        );
        match sealed {
            Ok(sealed) => {
                if let Err(e) = link.publish(&sealed.topic, &sealed.payload, false).await {
                    tracing::warn!(device = %device, "a reader's greeting not sent: {e}");
                }
            }
            Err(e) => tracing::error!(device = %device, "a reader's greeting not sealed: {e}"),
        }
    }

    /// A device asks the time: the centre's clock, signed for that device
    /// and that ask. A centre whose own clock cannot be right (before 2026)
    /// does not answer: its doors keep their own clocks, and the centre's
    /// clock alarm is up (`alarm_watch::centre_clock`).
    async fn answer_time(&mut self, device: DeviceId, payload: &[u8], link: &LinkHandle) {
        let ask = match decode::<TimeAsk>(payload) {
            Ok(ask) if !ask.nonce.is_empty() && ask.nonce.len() <= MAX_NONCE => ask,
            Ok(_) => {
                tracing::warn!(device = %device, "a time ask with an empty or oversized nonce was not answered");
                return;
            }
            Err(e) => {
                tracing::warn!(device = %device, "a time ask was not understood: {e}");
                return;
            }
        };
        let centre_ms = now().as_unix_millis();
        if centre_ms < EARLIEST_PLAUSIBLE_MS {
            tracing::error!(device = %device, "a time ask not answered: this centre's clock reads before 2026 (set the time: timedatectl set-time, or serve NTP)");
            return;
        }
        let answer = TimeAnswer {
            v: PROTOCOL_VERSION,
            site: self.site.site_id.clone(),
            device: device.clone(),
            nonce: ask.nonce,
            centre_ms,
        };
        let topic = Topic::Device(device, DeviceChannel::Time).name(&self.site.site_id);
        if let Err(e) = link
            .publish_latest(&topic, &site_time::sign(&answer, &self.key))
            .await
        {
            tracing::error!("could not queue a time answer: {e}");
        }
    }

    /// The site key's sealer, for this site's devices.
    fn sealer(&self) -> command_seal::Sealer<'_> {
        command_seal::Sealer {
            key: &self.key,
            site: &self.site.site_id,
        }
    }

    /// The message in an ack or event `payload` of `device` on `topic`, and
    /// whether the device's own key signed it. A device whose key the centre
    /// knows must sign: anything else from it is refused and audited (`None`).
    /// Whether `id` is one of this centre's devices; what a made-up id says
    /// is dropped (logged once at debug level).
    fn known(&self, id: &DeviceId) -> bool {
        match keting_store::known_devices::is_known(self.store.conn(), id) {
            Ok(true) => true,
            Ok(false) => {
                tracing::debug!(device = %id, "a message of a device this centre does not know");
                false
            }
            Err(e) => {
                tracing::error!(device = %id, "cannot tell whether the device is known: {e}");
                false
            }
        }
    }

    /// `id` came online (back, or here for the first time): what it
    /// missed goes again now.
    fn came_online(&mut self, id: &DeviceId) {
        tracing::info!(device = %id, "device online");
        match bookings::resend_to(self.store.conn(), id) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(device = %id, sessions = n, "device back: its session commands go again")
            }
            Err(e) => tracing::error!(device = %id, "cannot resend session commands: {e}"),
        }
    }

    fn answer_body(
        &mut self,
        device: &DeviceId,
        topic: &str,
        payload: &[u8],
    ) -> Option<(Vec<u8>, bool)> {
        match device_keys::get(self.store.conn(), device) {
            Ok(Some(key)) => match signed_answer::open(payload, topic, &key) {
                Ok(body) => Some((body, true)),
                Err(e) => {
                    tracing::warn!(device = %device, "an answer on {topic} was refused: {e}");
                    let at = now();
                    if let Err(e) = audit::record(
                        self.store.conn(),
                        at,
                        device.as_str(),
                        "device.answer_refused",
                        &format!("{topic}: {e}"),
                    ) {
                        tracing::error!("cannot audit a refused answer: {e}");
                    }
                    None
                }
            },
            Ok(None) => Some((signed_answer::unchecked(payload), false)),
            Err(e) => {
                tracing::error!(device = %device, "cannot read the device's key: {e}");
                None
            }
        }
    }

    /// A vending machine's answer about a redemption: settle it (once).
    fn settle_redemption(&mut self, device: &DeviceId, redemption: &str, result: VendOutcome) {
        let (cal, t) = (self.site.calendar, now());
        match keting_desk::vending::settle(&mut self.store, redemption, result, cal, t) {
            Ok(Some(r)) if r.state.is_settled() => tracing::info!(
                device = %device, redemption, outcome = result.as_str(), state = ?r.state, "redemption settled"
            ),
            Ok(Some(_)) => {
                tracing::info!(device = %device, redemption, "redemption in doubt: asking again")
            }
            Ok(None) => {
                tracing::warn!(device = %device, redemption, "an answer about an unknown redemption")
            }
            Err(e) => tracing::error!("cannot settle redemption {redemption}: {e}"),
        }
    }

    /// Sends the vend command of every new redemption.
    async fn send_vends(&mut self, link: &LinkHandle) -> Result<(), StoreError> {
        let t = now();
        for r in redemptions::unsent(self.store.conn())? {
            let Ok(id) = MessageId::new(r.id.clone()) else {
                continue;
            };
            let sealed = self.sealer().command(
                self.store.conn(),
                &r.device,
                id,
                r.created
                    .saturating_add(redemptions::START_DEADLINE)
                    .as_unix_millis(),
                Action::Vend { slot: r.slot },
                t,
            )?;
            if let Err(e) = link.publish(&sealed.topic, &sealed.payload, false).await {
                tracing::error!("cannot queue a vend for {}: {e}", r.device);
                return Ok(());
            }
            redemptions::mark_sent(self.store.conn(), &r.id, t)?;
            tracing::info!(device = %r.device, redemption = %r.id, slot = r.slot, "vend sent");
        }
        Ok(())
    }

    /// Asks the machines about redemptions past their deadline or in doubt.
    async fn query_redemptions(&mut self, link: &LinkHandle) -> Result<(), StoreError> {
        let t = now();
        let due = self.store.write(|tx| redemptions::to_query(tx, t))?;
        for r in due {
            let (Ok(redemption), Ok(id)) = (
                MessageId::new(r.id.clone()),
                MessageId::new(format!("q-{}-{}", r.id, t.as_unix_millis())),
            ) else {
                continue;
            };
            let sealed = self.sealer().command(
                self.store.conn(),
                &r.device,
                id,
                t.saturating_add(redemptions::RESULT_DEADLINE)
                    .as_unix_millis(),
                Action::VendQuery { redemption },
                t,
            )?;
            if let Err(e) = link.publish(&sealed.topic, &sealed.payload, false).await {
                tracing::error!("cannot queue a query for {}: {e}", r.device);
                return Ok(());
            }
            tracing::info!(device = %r.device, redemption = %r.id, "redemption in doubt: query sent");
        }
        Ok(())
    }

    /// A device claims its identity: wait for a technician, or say no.
    async fn handle_claim(&mut self, device: DeviceId, payload: &[u8], link: &LinkHandle) {
        let t = now();
        let request: ClaimRequest = match decode(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("a claim of {device} was not understood: {e}");
                return;
            }
        };
        match self.claims.judge(&device, &request, t) {
            RequestVerdict::Pending { pin, expires } => {
                let judged = device_claims::Request {
                    device: &device,
                    nonce: &request.nonce,
                    pin: &pin,
                    device_key: &request.device_key,
                    csr: &request.csr,
                };
                match device_claims::record_request(self.store.conn(), &judged, expires, t) {
                    Ok(()) => tracing::info!(
                        device = %device,
                        "claim waiting: compare the PIN on the staff page with the device's panel and confirm (`kiosk claim confirm {device} PIN`)"
                    ),
                    Err(e) => tracing::error!("cannot store a claim of {device}: {e}"),
                }
            }
            RequestVerdict::Refused(reason) => {
                tracing::warn!(device = %device, "claim refused: {reason}");
                let response = keting_core::claim::ClaimResponse {
                    v: PROTOCOL_VERSION,
                    nonce: request.nonce,
                    outcome: keting_core::claim::ClaimOutcome::Refused { reason },
                };
                let topic = Topic::ClaimResponse(device).name(&self.site.site_id);
                if let Err(e) = link.publish(&topic, &encode(&response), false).await {
                    tracing::error!("cannot queue a claim answer: {e}");
                }
            }
        }
    }

    /// Answers the claims a technician confirmed.
    async fn answer_claims(&mut self, link: &LinkHandle) -> Result<(), StoreError> {
        let t = now();
        for claim in device_claims::confirmed(self.store.conn())? {
            let response = self.claims.answer(&claim, t);
            let topic = Topic::ClaimResponse(claim.device.clone()).name(&self.site.site_id);
            if let Err(e) = link.publish(&topic, &encode(&response), false).await {
                tracing::error!("cannot queue a claim answer: {e}");
                return Ok(());
            }
            device_claims::mark_answered(self.store.conn(), &claim, t)?;
            match &response.outcome {
                keting_core::claim::ClaimOutcome::Enrolled { .. } => {
                    tracing::info!(device = %claim.device, "claim answered: the device has its identity; its code is spent")
                }
                keting_core::claim::ClaimOutcome::Refused { reason } => {
                    tracing::warn!(device = %claim.device, "claim confirmed but refused: {reason}")
                }
            }
        }
        Ok(())
    }

    async fn poll(&mut self, link: &LinkHandle) -> Result<(), super::CentreError> {
        let version = self.store.data_version()?;
        if self.data_version != Some(version) {
            self.data_version = Some(version);
            self.commits.send_replace(version);
            self.publish_roster_if_changed(link).await?;
            self.send_commands(link).await?;
            self.answer_claims(link).await?;
            self.send_vends(link).await?;
            sessions::send_commands(&mut self.store, link, &self.site, &self.key, now()).await?;
            self.sessions_due = false;
            self.refresh_view();
            if self.connected {
                self.publish_home_assistant(link).await;
            }
        }
        if self.sessions_due {
            self.sessions_due = false;
            sessions::send_commands(&mut self.store, link, &self.site, &self.key, now()).await?;
        }
        if self.slow_due <= tokio::time::Instant::now() {
            self.slow_due = tokio::time::Instant::now() + SLOW_POLL;
            self.query_redemptions(link).await?;
            self.states.expire_unproved(now());
            super::alarm_watch::sweep(self.store.conn(), &self.states, self.connected, now())?;
            super::occupancy_watch::sweep(&self.store, self.site.calendar, now())?;
            self.centre_clock.check(self.store.conn(), now())?;
            if self.prune_due <= tokio::time::Instant::now() {
                self.prune_due = tokio::time::Instant::now() + PRUNE_EVERY;
                self.prune_old_events()?;
            }
            let unavailable = sessions::unavailable(&self.store, &self.states, self.connected);
            sessions::sweep(&mut self.store, self.site.calendar, &unavailable, now())?;
            // Activities' offers past their time move on to the next person.
            if let Err(e) = keting_desk::activities::settle_offers(&mut self.store, now()) {
                tracing::error!("activities: offers not settled: {e}");
            }
            sessions::send_commands(&mut self.store, link, &self.site, &self.key, now()).await?;
            self.sessions_due = false;
            self.refresh_view();
        }
        if self.sessions_due {
            self.sessions_due = false;
            sessions::send_commands(&mut self.store, link, &self.site, &self.key, now()).await?;
        }
        Ok(())
    }

    async fn publish_roster_if_changed(&mut self, link: &LinkHandle) -> Result<(), StoreError> {
        let members = gym::roster_members(self.store.conn())?;
        let doors: Vec<DeviceId> = doors::list(self.store.conn())?
            .into_iter()
            .map(|d| d.id)
            .collect();
        let current = (members, doors);
        if self.published.as_ref() == Some(&current) {
            return Ok(());
        }
        let issued_ms = now().as_unix_millis().max(self.last_issued + 1);
        let roster = Roster {
            site: self.site.site_id.clone(),
            issued_ms,
            members: current.0.clone(),
        };
        let payload = sign(&roster, &self.key);
        for door in &current.1 {
            let topic = Topic::Device(door.clone(), DeviceChannel::Roster).name(&self.site.site_id);
            if let Err(e) = link.publish(&topic, &payload, true).await {
                tracing::error!("cannot queue the roster for {door}: {e}");
                return Ok(());
            }
        }
        tracing::info!(
            doors = current.1.len(),
            members = current.0.len(),
            issued_ms,
            "roster published"
        );
        self.last_issued = issued_ms;
        self.published = Some(current);
        Ok(())
    }

    async fn send_commands(&mut self, link: &LinkHandle) -> Result<(), StoreError> {
        let t = now();
        for cmd in device_commands::take_unsent(self.store.conn(), t)? {
            let Ok(id) = MessageId::new(cmd.command_id.clone()) else {
                continue;
            };
            let sealed = self.sealer().command(
                self.store.conn(),
                &cmd.device,
                id,
                cmd.deadline.as_unix_millis(),
                match cmd.action {
                    CommandAction::Unlock => Action::Unlock { member: cmd.member },
                    CommandAction::SelfTest => Action::SelfTest { test_vend: None },
                    CommandAction::ResetRelease => Action::ResetRelease,
                },
                t,
            )?;
            if let Err(e) = link.publish(&sealed.topic, &sealed.payload, false).await {
                tracing::error!("cannot queue a command for {}: {e}", cmd.device);
                return Ok(());
            }
            device_commands::mark_sent(self.store.conn(), &cmd.command_id, t)?;
            tracing::info!(device = %cmd.device, command = %cmd.command_id, action = ?cmd.action, "command sent");
        }
        Ok(())
    }

    fn refresh_view(&mut self) {
        let t = now();
        let doors = doors::list(self.store.conn()).unwrap_or_default();
        let since = door_events::tonight_starts(self.site.calendar, t);
        let view = DoorsView {
            connected: self.connected,
            doors: self.states.view(&doors, self.connected),
            tonight: door_events::entries_since(self.store.conn(), since, ENTRIES_SHOWN)
                .unwrap_or_default(),
            claims: device_claims::pending(self.store.conn(), t)
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.device.as_str().to_owned(), c.pin))
                .collect(),
            unavailable: sessions::unavailable(&self.store, &self.states, self.connected),
            session_devices: self.states.session_devices(self.connected),
            alarms: keting_store::alarms::open(self.store.conn()).unwrap_or_default(),
            heard: self.states.heard(self.connected),
            inside: keting_desk::occupancy::tonight(&self.store, self.site.calendar, t)
                .unwrap_or_default(),
        };
        self.doors_tx.send_if_modified(|v| {
            if *v == view {
                false
            } else {
                *v = view;
                true
            }
        });
    }
}
