//! The piano bank's commissioning self-test (`keting-provision device check
//! NAME`): the relay board answers, and every piano's relay is read back
//! against its sessions: on while a session runs on it, off otherwise. It
//! switches nothing, so a test never cuts a member's session short.

use keting_core::self_test::SelfCheck;

use super::PianoBankAgent;

impl PianoBankAgent {
    pub(super) async fn self_test(&mut self) -> Vec<SelfCheck> {
        tracing::info!("self-test");
        let bus = format!("relay board ({} unit {})", self.setup.bus, self.setup.unit);
        let read = match self.board().await {
            Ok(b) => b.read_all().await,
            Err(e) => Err(e),
        };
        let relays = match read {
            Ok(r) => r,
            Err(e) => {
                if e.is_unreachable() {
                    self.board = None;
                }
                return vec![SelfCheck::fail(
                    bus,
                    e.to_string(),
                    "check the board's power, its RS-485 or network cable and the unit id in agent.toml",
                )];
            }
        };
        let mut checks = vec![SelfCheck::pass(
            bus,
            format!("answers: {} relays read", relays.len()),
        )];
        for piano in &self.setup.pianos {
            let check = format!("{} (channel {})", piano.name, piano.channel);
            let session = self.sessions.sessions().on_channel(piano.channel);
            let want = session.is_some() && !self.sessions.off_pending(piano.channel);
            let word = |on: bool| if on { "on" } else { "off" };
            checks.push(
                match relays.get(usize::from(piano.channel.saturating_sub(1))) {
                    None => SelfCheck::fail(
                        check,
                        format!("the board has no channel {}", piano.channel),
                        "check the piano's channel in agent.toml against the board",
                    ),
                    Some(&on) if on == want => SelfCheck::pass(
                        check,
                        match session {
                            Some(s) => format!("on, for booking {}", s.session),
                            None => "off, no session".to_owned(),
                        },
                    ),
                    Some(&on) => SelfCheck::fail(
                        check,
                        format!("reads {} but should be {}", word(on), word(want)),
                        "the relay does not follow its coil: check its wiring, or replace the board",
                    ),
                },
            );
        }
        checks
    }
}
