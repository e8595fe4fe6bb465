//! Home Assistant MQTT discovery: the centre publishes, retained under
//! `homeassistant/`, one config per entity, so a centre that runs Home
//! Assistant on the same broker sees every device with no YAML (see Home
//! Assistant's "MQTT Discovery": `<prefix>/<component>/<node_id>/<object_id>/config`).
//!
//! - each door: its lock (a `binary_sensor` of class `lock`: on means
//!   unlocked), held open and reader locked out (class `problem`), forced
//!   (class `tamper`), a fault (class `problem`);
//! - each vending machine: its state and each slot's stock (`sensor`);
//! - each piano: in use (a `binary_sensor` of class `power`: its relay);
//! - the robot: running;
//! - the centre: visits today (`sensor`, `total_increasing`: it starts
//!   again each day), published by the centre on
//!   `keting/v1/<site>/centre/visits_today`.
//!
//! Every device entity is available only while the device's own online
//! flag says so (its birth message, and the last will the broker publishes
//! when it vanishes), so Home Assistant shows an unreachable device as
//! unavailable, never as its last state. Read-only: nothing here commands a
//! device (what moves a door is signed by the centre, which Home Assistant
//! cannot do), which is why a door is a binary sensor, not a `lock`.
//!
//! A config that is no longer wanted (a device retired, a slot removed) is
//! cleared with an empty retained message, which removes the entity.

use std::collections::BTreeMap;

use keting_core::booking::ResourceKind;
use keting_core::ids::{DeviceId, SiteId};
use keting_core::topics::{DeviceChannel, ROOT, Topic};
use keting_link::connection::LinkHandle;
use serde_json::{Value, json};

use keting_store::site_record::SiteRecord;
use keting_store::{Store, StoreError, doors, reports, resources, vending_slots};

/// Home Assistant's default discovery prefix.
pub const DISCOVERY_PREFIX: &str = "homeassistant";

/// What the discovery configs are made from: the centre's devices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Devices {
    /// Each door: its id and name.
    pub doors: Vec<(DeviceId, String)>,
    /// Each vending machine: its id and its slots (number, drink).
    pub vending: Vec<(DeviceId, Vec<(u8, String)>)>,
    /// Each piano: its name, its piano bank and relay channel.
    pub pianos: Vec<(String, DeviceId, u8)>,
    /// Each robot: its name and device.
    pub robots: Vec<(String, DeviceId)>,
}

/// The topic the centre publishes today's visits on.
pub fn visits_topic(site: &SiteId) -> String {
    format!("{ROOT}/{site}/centre/visits_today")
}

/// The payload of [`visits_topic`].
pub fn visits_payload(visits: u64) -> Vec<u8> {
    json!({ "visits": visits }).to_string().into_bytes()
}

/// An object id Home Assistant takes: `[a-zA-Z0-9_-]`.
fn object_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

struct Builder<'a> {
    site: &'a SiteId,
    centre_name: &'a str,
    node: String,
    out: BTreeMap<String, Value>,
}

const ONLINE_TEMPLATE: &str = "{{ 'online' if value_json.online else 'offline' }}";

/// A template over a device's status, which travels signed (the status's
/// JSON as the string `answer` of the envelope): the same template, read
/// from inside the envelope.
fn signed_status(template: &str) -> String {
    format!(
        "{{% set s = value_json.answer | from_json %}}{}",
        template.replace("value_json.", "s.")
    )
}

impl Builder<'_> {
    fn device_block(&self, device: &DeviceId, name: &str, model: &str) -> Value {
        json!({
            "identifiers": [format!("keting_{}_{}", self.site, object_id(device.as_str()))],
            "name": name,
            "manufacturer": "Keting",
            "model": model,
            "via_device": format!("keting_{}_centre", self.site),
        })
    }

    /// One entity of `device`, available while the device is online.
    #[allow(clippy::too_many_arguments)]
    fn entity(
        &mut self,
        component: &str,
        device: &DeviceId,
        (device_name, model): (&str, &str),
        key: &str,
        name: &str,
        mut fields: Value,
    ) {
        let object = format!("{}_{}", object_id(device.as_str()), object_id(key));
        let unique_id = format!("keting_{}_{object}", self.site);
        let online = Topic::Device(device.clone(), DeviceChannel::Online).name(self.site);
        if let Value::Object(map) = &mut fields {
            map.insert("name".into(), json!(name));
            map.insert("unique_id".into(), json!(unique_id));
            map.insert(
                "availability".into(),
                json!([{ "topic": online, "value_template": ONLINE_TEMPLATE }]),
            );
            map.insert(
                "device".into(),
                self.device_block(device, device_name, model),
            );
            map.insert("origin".into(), origin());
        }
        self.out.insert(
            format!(
                "{DISCOVERY_PREFIX}/{component}/{}/{object}/config",
                self.node
            ),
            fields,
        );
    }
}

fn origin() -> Value {
    json!({ "name": "Keting", "sw_version": env!("CARGO_PKG_VERSION") })
}

/// Every discovery config of the site: topic → payload.
pub fn configs(site: &SiteId, centre_name: &str, devices: &Devices) -> BTreeMap<String, Value> {
    let mut b = Builder {
        site,
        centre_name,
        node: format!("keting_{}", object_id(site.as_str())),
        out: BTreeMap::new(),
    };
    for (door, name) in &devices.doors {
        let status = Topic::Device(door.clone(), DeviceChannel::Status).name(site);
        let dev = (name.as_str(), "door");
        let sensor = |template: &str, class: &str| {
            json!({
                "state_topic": status,
                "value_template": signed_status(template),
                "payload_on": "ON",
                "payload_off": "OFF",
                "device_class": class,
            })
        };
        let states =
            |list: &str| format!("{{{{ 'ON' if value_json.state in [{list}] else 'OFF' }}}}");
        b.entity(
            "binary_sensor",
            door,
            dev,
            "lock",
            &format!("{name} lock"),
            sensor(&states("'unlocked', 'open', 'held_open', 'forced'"), "lock"),
        );
        b.entity(
            "binary_sensor",
            door,
            dev,
            "held_open",
            &format!("{name} held open"),
            sensor(&states("'held_open'"), "problem"),
        );
        b.entity(
            "binary_sensor",
            door,
            dev,
            "forced",
            &format!("{name} forced"),
            sensor(&states("'forced'"), "tamper"),
        );
        b.entity(
            "binary_sensor",
            door,
            dev,
            "locked_out",
            &format!("{name} reader locked out"),
            sensor("{{ 'ON' if value_json.locked_out else 'OFF' }}", "problem"),
        );
        b.entity(
            "binary_sensor",
            door,
            dev,
            "fault",
            &format!("{name} fault"),
            sensor("{{ 'ON' if value_json.fault else 'OFF' }}", "problem"),
        );
    }
    for (machine, slots) in &devices.vending {
        let status = Topic::Device(machine.clone(), DeviceChannel::Status).name(site);
        let dev = (machine.as_str(), "vending machine");
        b.entity(
            "sensor",
            machine,
            dev,
            "state",
            &format!("{machine} state"),
            json!({ "state_topic": status, "value_template": signed_status("{{ value_json.state }}") }),
        );
        for (slot, drink) in slots {
            let i = usize::from(slot.saturating_sub(1));
            b.entity(
                "sensor",
                machine,
                dev,
                &format!("slot_{slot}"),
                &format!("{drink} (slot {slot})"),
                json!({
                    "state_topic": status,
                    "value_template": signed_status(&format!(
                        "{{{{ value_json.stock[{i}] if value_json.stock is defined and value_json.stock | length > {i} else none }}}}"
                    )),
                    "unit_of_measurement": "drinks",
                    "state_class": "measurement",
                }),
            );
        }
    }
    for (name, bank, channel) in &devices.pianos {
        let status = Topic::Device(bank.clone(), DeviceChannel::Status).name(site);
        b.entity(
            "binary_sensor",
            bank,
            (bank.as_str(), "piano bank"),
            &format!("piano_{channel}"),
            &format!("{name} in use"),
            json!({
                "state_topic": status,
                "value_template": signed_status(&format!(
                    "{{{{ 'ON' if value_json.outputs | selectattr('channel', 'eq', {channel}) | selectattr('on') | list | count > 0 else 'OFF' }}}}"
                )),
                "payload_on": "ON",
                "payload_off": "OFF",
                "device_class": "power",
            }),
        );
    }
    for (name, robot) in &devices.robots {
        let status = Topic::Device(robot.clone(), DeviceChannel::Status).name(site);
        b.entity(
            "binary_sensor",
            robot,
            (name.as_str(), "moxibustion robot"),
            "running",
            &format!("{name} running"),
            json!({
                "state_topic": status,
                "value_template": signed_status("{{ 'ON' if value_json.outputs | selectattr('on') | list | count > 0 else 'OFF' }}"),
                "payload_on": "ON",
                "payload_off": "OFF",
                "device_class": "running",
            }),
        );
    }
    // The centre itself: visits today, available while the centre is up.
    let object = "centre_visits_today";
    b.out.insert(
        format!("{DISCOVERY_PREFIX}/sensor/{}/{object}/config", b.node),
        json!({
            "name": "Visits today",
            "unique_id": format!("keting_{site}_{object}"),
            "state_topic": visits_topic(site),
            "value_template": "{{ value_json.visits }}",
            "unit_of_measurement": "visits",
            "state_class": "total_increasing",
            "availability": [{
                "topic": Topic::ControllerOnline.name(site),
                "value_template": ONLINE_TEMPLATE,
            }],
            "device": {
                "identifiers": [format!("keting_{site}_centre")],
                "name": b.centre_name,
                "manufacturer": "Keting",
                "model": "centre",
            },
            "origin": origin(),
        }),
    );
    b.out
}

impl Devices {
    /// The centre's devices, from its database.
    pub fn of(store: &Store) -> Result<Self, StoreError> {
        let conn = store.conn();
        let mut vending: Vec<(DeviceId, Vec<(u8, String)>)> = Vec::new();
        for slot in vending_slots::list(conn)? {
            match vending.last_mut() {
                Some((device, slots)) if *device == slot.device => {
                    slots.push((slot.slot, slot.name_zh));
                }
                _ => vending.push((slot.device, vec![(slot.slot, slot.name_zh)])),
            }
        }
        let on_device = |kind| -> Result<Vec<_>, StoreError> {
            Ok(resources::list(conn, Some(kind))?
                .into_iter()
                .filter_map(|r| Some((r.resource.name_zh, r.device?, r.channel.unwrap_or(1))))
                .collect())
        };
        Ok(Self {
            doors: doors::list(conn)?
                .into_iter()
                .map(|d| (d.id, d.name))
                .collect(),
            vending,
            pianos: on_device(ResourceKind::Piano)?,
            robots: on_device(ResourceKind::Robot)?
                .into_iter()
                .map(|(name, device, _)| (name, device))
                .collect(),
        })
    }
}

/// What the centre has published to Home Assistant, so only changes go out.
#[derive(Debug, Default)]
pub struct Publisher {
    published: BTreeMap<String, String>,
    visits: Option<u64>,
}

impl Publisher {
    /// The connection was made again: publish everything once more.
    pub fn forget(&mut self) {
        *self = Self::default();
    }

    /// Publishes the configs that changed, clears those no longer wanted,
    /// and today's visits if they changed. A message the link cannot queue
    /// is logged and tried again at the next call.
    pub async fn publish(
        &mut self,
        store: &Store,
        site: &SiteRecord,
        link: &LinkHandle,
    ) -> Result<(), StoreError> {
        let wanted: BTreeMap<String, String> =
            configs(&site.site_id, &site.name, &Devices::of(store)?)
                .into_iter()
                .map(|(t, v)| (t, v.to_string()))
                .collect();
        for (topic, payload) in &wanted {
            if self.published.get(topic) != Some(payload) {
                if let Err(e) = link.publish(topic, payload.as_bytes(), true).await {
                    tracing::error!("cannot queue a Home Assistant config: {e}");
                    return Ok(());
                }
                self.published.insert(topic.clone(), payload.clone());
            }
        }
        let gone: Vec<String> = self
            .published
            .keys()
            .filter(|t| !wanted.contains_key(*t))
            .cloned()
            .collect();
        for topic in gone {
            // An empty retained config removes the entity.
            if let Err(e) = link.publish(&topic, b"", true).await {
                tracing::error!("cannot queue a Home Assistant removal: {e}");
                return Ok(());
            }
            self.published.remove(&topic);
        }
        let cal = site.calendar;
        let visits: u64 =
            reports::visits_per_hour(store.conn(), cal, cal.date_of(keting_link::clock::now()))?
                .iter()
                .sum();
        if self.visits != Some(visits) {
            match link
                .publish(&visits_topic(&site.site_id), &visits_payload(visits), true)
                .await
            {
                Ok(()) => self.visits = Some(visits),
                Err(e) => tracing::error!("cannot queue today's visits: {e}"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> DeviceId {
        DeviceId::new(s).unwrap()
    }

    fn sample() -> BTreeMap<String, Value> {
        configs(
            &SiteId::new("futian-01".to_owned()).unwrap(),
            "福田示范中心",
            &Devices {
                doors: vec![(id("gym-door"), "健身房".into())],
                vending: vec![(
                    id("vending"),
                    vec![(1, "矿泉水".into()), (2, "豆奶".into())],
                )],
                pianos: vec![("1号钢琴".into(), id("pianos"), 1)],
                robots: vec![("艾灸机器人".into(), id("robot"))],
            },
        )
    }

    /// The keys Home Assistant's MQTT integration requires or takes, per
    /// component (its documentation's configuration variables).
    fn allowed(component: &str) -> &'static [&'static str] {
        const COMMON: &[&str] = &[
            "name",
            "unique_id",
            "state_topic",
            "value_template",
            "availability",
            "device",
            "origin",
            "device_class",
        ];
        match component {
            "binary_sensor" => &["payload_on", "payload_off"],
            "sensor" => &["unit_of_measurement", "state_class"],
            _ => panic!("a component not used: {component}"),
        }
        .iter()
        .chain(COMMON)
        .copied()
        .collect::<Vec<_>>()
        .leak()
    }

    #[test]
    fn every_config_has_what_home_assistant_requires_and_nothing_it_does_not_know() {
        let all = sample();
        // 5 per door, 1 + 2 for the machine, 1 piano, 1 robot, visits today.
        assert_eq!(all.len(), 5 + 3 + 1 + 1 + 1);
        let mut unique = std::collections::BTreeSet::new();
        for (topic, payload) in &all {
            let parts: Vec<&str> = topic.split('/').collect();
            assert_eq!(parts.len(), 5, "{topic}");
            assert_eq!((parts[0], parts[4]), ("homeassistant", "config"));
            for p in &parts[2..4] {
                assert!(
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                    "{topic}: a node or object id Home Assistant refuses"
                );
            }
            let map = payload.as_object().unwrap();
            for key in map.keys() {
                assert!(allowed(parts[1]).contains(&key.as_str()), "{topic}: {key}");
            }
            for key in ["name", "unique_id", "state_topic", "availability", "device"] {
                assert!(map.contains_key(key), "{topic} lacks {key}");
            }
            assert!(unique.insert(map["unique_id"].as_str().unwrap().to_owned()));
            let state = map["state_topic"].as_str().unwrap();
            assert!(!state.contains('+') && !state.contains('#'), "{state}");
            let availability = map["availability"].as_array().unwrap();
            assert_eq!(availability.len(), 1);
            assert!(
                availability[0]["value_template"]
                    .as_str()
                    .unwrap()
                    .contains("value_json.online")
            );
            assert!(map["device"]["identifiers"].is_array());
        }
    }

    #[test]
    fn a_door_is_read_only_and_available_only_while_its_agent_is_online() {
        let all = sample();
        let lock = &all["homeassistant/binary_sensor/keting_futian-01/gym-door_lock/config"];
        assert_eq!(lock["device_class"], "lock");
        assert_eq!(
            lock["state_topic"],
            "keting/v1/futian-01/device/gym-door/status"
        );
        assert_eq!(
            lock["availability"][0]["topic"],
            "keting/v1/futian-01/device/gym-door/online"
        );
        assert!(
            lock.get("command_topic").is_none(),
            "nothing commands a door from here"
        );
        assert!(all.keys().any(|t| t.ends_with("/gym-door_forced/config")));
        let visits = &all["homeassistant/sensor/keting_futian-01/centre_visits_today/config"];
        assert_eq!(
            visits["state_topic"],
            "keting/v1/futian-01/centre/visits_today"
        );
        assert_eq!(visits["state_class"], "total_increasing");
        assert_eq!(
            visits["availability"][0]["topic"],
            "keting/v1/futian-01/controller/online"
        );
        assert_eq!(
            String::from_utf8(visits_payload(12)).unwrap(),
            r#"{"visits":12}"#
        );
    }
}
