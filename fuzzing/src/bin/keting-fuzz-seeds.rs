//! `keting-fuzz-seeds`: writes the seed inputs of every fuzz target into
//! `fuzz/corpus/<target>/seed-*`: well-formed examples (a pass and a roster
//! signed with the targets' key, sealed commands, agent configurations of
//! each kind, RTU frames with their CRC), from which libFuzzer mutates.

use std::path::PathBuf;

use keting_core::ids::{DeviceId, Epoch, MemberId, SiteId};
use keting_core::messages::{Action, Command, MessageId, PROTOCOL_VERSION, encode};
use keting_core::pass::PassIssuer;
use keting_core::roster::{Roster, RosterMember, sign};
use keting_fuzzing::targets::test_key;

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = body.to_vec();
    f.extend_from_slice(&keting_hardware::sim::rtu_pty::crc16(body).to_le_bytes());
    f
}

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let site = SiteId::new("fuzz-centre").map_err(std::io::Error::other)?;
    let key = test_key();
    // A real certificate request, as a claiming door makes it.
    let csr = keting_device_agents::tls_request::make("gym-door")
        .map(|r| r.csr_pem)
        .unwrap_or_default();
    let pass = PassIssuer::new(site.clone(), key.clone()).issue(MemberId(7), Epoch(1));
    let live = PassIssuer::new(site.clone(), key.clone()).issue_live(
        MemberId(7),
        Epoch(1),
        keting_core::time::Timestamp::from_unix_millis(1_796_472_000_000),
    );
    let roster = Roster {
        site: site.clone(),
        issued_ms: 1_795_300_000_000,
        members: vec![
            RosterMember {
                member: MemberId(7),
                epoch: Epoch(1),
                paid_until: Some("2026-12-31".into()),
            },
            RosterMember {
                member: MemberId(8),
                epoch: Epoch(0),
                paid_until: None,
            },
        ],
    };
    let command = |seq: u64, action: Action| Command {
        v: PROTOCOL_VERSION,
        to: DeviceId::new("gym-door").unwrap_or_else(|_| unreachable!()),
        seq,
        id: MessageId::new(format!("c-{seq}")).unwrap_or_else(|_| unreachable!()),
        deadline_ms: 1_795_300_030_000,
        action,
    };
    let unlock = command(
        1_795_300_000_001,
        Action::Unlock {
            member: Some(MemberId(7)),
        },
    );
    let vend = command(1_795_300_000_002, Action::Vend { slot: 2 });
    let public = keting_core::pass::encode_public_key(&key.verifying_key());
    let agent = |section: &str| {
        format!(
            "site = \"fuzz-centre\"\ndevice = \"gym-door\"\nsite_public_key = \"{public}\"\nstate_dir = \"/var/lib/keting\"\n\
             [broker]\nhost = \"127.0.0.1\"\nport = 8883\n{section}"
        )
    };
    let seeds: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("pass", vec![pass.clone().into_bytes(), b"KT1.".to_vec(), live.into_bytes()]),
        (
            "messages",
            vec![
                encode(&unlock),
                br#"{"v":1,"id":"c-42","outcome":"done"}"#.to_vec(),
                br#"{"v":1,"id":"e-1","at_ms":5,"event":"access_refused","member":7,"reason":"night_not_paid"}"#.to_vec(),
                br#"{"v":1,"state":"idle","stock":[3,0,8]}"#.to_vec(),
                br#"{"v":1,"state":"ready","outputs":[{"channel":1,"on":true,"session":4}]}"#.to_vec(),
            ],
        ),
        (
            "roster",
            vec![
                sign(&roster, &key),
                serde_json::to_vec(&roster).unwrap_or_default(),
            ],
        ),
        (
            "claim",
            vec![
                b"KETING-CLAIM:2:fuzz-centre:gym-door:0123456789ABCDEF:8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4:192.168.1.10:8884".to_vec(),
                serde_json::to_vec(&serde_json::json!({
                    "v": 1, "nonce": "9f00", "device_key": "AAAA", "csr": csr, "proof": "00"
                }))
                .unwrap_or_default(),
                csr.clone().into_bytes(),
                br#"{"v":1,"nonce":"9f00","outcome":"enrolled","agent_toml":"x","cert_pem":"y","ca_pem":"z","mac":"00"}"#.to_vec(),
            ],
        ),
        (
            "signed_command",
            vec![
                keting_core::signed_command::seal(&key, &unlock),
                encode(&unlock),
                encode(&vend),
            ],
        ),
        (
            "agent_toml",
            vec![
                agent("[door]\ngpio = \"sim\"\nstrike = { kind = \"relay\", bus = \"rtu:/dev/ttyUSB0@9600\", channel = 1 }\nscanner = { kind = \"sim\" }\n").into_bytes(),
                agent("[vending]\nbus = \"tcp:192.168.1.20:502\"\nvend_limit_s = 20\n").into_bytes(),
                agent("[piano_bank]\nbus = \"rtu:/dev/ttyUSB1@9600\"\npianos = [{ channel = 1, name = \"1号琴\" }]\n").into_bytes(),
                agent("[robot]\nbus = \"tcp:192.168.1.21:502\"\nunit = 1\nprogram = 3\n").into_bytes(),
            ],
        ),
        (
            "device_word",
            vec![
                keting_core::signed_answer::seal(
                    &key,
                    "keting/v1/fuzz-centre/device/gym-door/status",
                    &serde_json::json!({"v": 1, "state": "locked", "at_ms": 1_796_472_000_000_i64}),
                ),
                br#"{"v":1,"state":"ready","outputs":[{"channel":1,"on":false}],"at_ms":1796472000000}"#.to_vec(),
                br#"{"v":1,"online":true}"#.to_vec(),
                keting_core::fallback_code::FallbackCodes::new(site.clone(), &key.to_bytes())
                    .code(MemberId(7), Epoch(1), keting_core::time::Timestamp::from_unix_millis(1_796_472_000_000))
                    .into_bytes(),
            ],
        ),
        (
            "rtu_frames",
            vec![
                frame(&[1, 0x05, 0, 0, 0xFF, 0x00]),
                frame(&[1, 0x01, 0, 0, 0, 8]),
                frame(&[1, 0x10, 0, 0, 0, 2, 4, 0, 1, 0, 2]),
                frame(&[1, 0x0F, 0, 0, 0, 8, 1, 0xFF]),
                b"rtu:/dev/ttyUSB0@9600".to_vec(),
            ],
        ),
    ];
    for (target, inputs) in seeds {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, input) in inputs.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), input)?;
        }
        println!("{target}: {} seeds", inputs.len());
    }
    Ok(())
}
