//! The robot's commissioning self-test (`keting-provision device check
//! NAME`): its status is read (state, fault, programs), and a command that
//! does nothing (a stop for session 0, which never exists) must be taken,
//! leaving the robot as it was: the command path works end to end without
//! moving the arm.

use keting_core::self_test::SelfCheck;

use super::RobotAgent;

impl RobotAgent {
    pub(super) async fn self_test(&mut self) -> Vec<SelfCheck> {
        tracing::info!("self-test");
        let bus = format!(
            "robot controller ({} unit {})",
            self.setup.bus, self.setup.unit
        );
        let read = match self.robot().await {
            Ok(r) => r.status().await,
            Err(e) => Err(e),
        };
        let before = match read {
            Ok(s) => s,
            Err(e) => {
                self.lost(&e);
                return vec![SelfCheck::fail(
                    bus,
                    e.to_string(),
                    "check the robot's power, its network or RS-485 cable and the unit id in agent.toml",
                )];
            }
        };
        let mut checks = vec![SelfCheck::pass(
            bus,
            format!(
                "answers: {}, {} program(s)",
                before.state.as_str(),
                before.programs
            ),
        )];
        checks.push(match before.fault {
            None => SelfCheck::pass("fault", "none"),
            Some(f) => SelfCheck::fail(
                "fault",
                f.describe(),
                "fix the cause at the robot, then clear the fault from the staff page",
            ),
        });
        checks.push(if before.programs == 0 {
            SelfCheck::fail(
                "programs",
                "the robot has no program",
                "load the moxibustion programs into the robot",
            )
        } else if self.setup.program > before.programs {
            SelfCheck::fail(
                "programs",
                format!(
                    "agent.toml's program {} but the robot has {}",
                    self.setup.program, before.programs
                ),
                "set robot.program to one the robot has",
            )
        } else {
            SelfCheck::pass(
                "programs",
                format!(
                    "default program {} of {}",
                    self.setup.program, before.programs
                ),
            )
        });
        let noop = match self.robot().await {
            Ok(r) => match r.stop(0).await {
                Ok(()) => r.status().await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        checks.push(match noop {
            Ok(after) if after.state == before.state && after.session == before.session => {
                SelfCheck::pass("command (a stop for no session)", "taken; nothing moved")
            }
            Ok(after) => SelfCheck::fail(
                "command (a stop for no session)",
                format!(
                    "the robot went from {} to {}",
                    before.state.as_str(),
                    after.state.as_str()
                ),
                "the robot does not keep to its register map: check its firmware version",
            ),
            Err(e) => {
                self.lost(&e);
                SelfCheck::fail(
                    "command (a stop for no session)",
                    e.to_string(),
                    "the robot refuses commands: check it is in remote mode",
                )
            }
        });
        checks
    }
}
