//! The commissioning self-test's report: one line per check, pass or fail,
//! what was seen and, for a failure, what the technician should do.
//!
//! A device agent answers the `self_test` command with these lines in its
//! ack; `keting-provision device check` prints them as a table.

use serde::{Deserialize, Serialize};

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfCheck {
    /// What was checked, e.g. `relay board unit 1 channel 3`.
    pub check: String,
    /// Passed.
    pub passed: bool,
    /// What was seen, e.g. `coil read back on, then off`.
    pub detail: String,
    /// For a failure: what to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl SelfCheck {
    /// A check that passed.
    pub fn pass(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            passed: true,
            detail: detail.into(),
            fix: None,
        }
    }

    /// A check that failed, with what to do.
    pub fn fail(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            check: check.into(),
            passed: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}
