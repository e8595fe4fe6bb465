//! Why the demo site could not be filled: the database, or one of the
//! demo's own fixed values refused (a bug in the demo, never a person's
//! mistake).

use keting_store::StoreError;
use thiserror::Error;

/// Why the demo site could not be filled: the database, or one of the
/// demo's own fixed values (an id, hours, the staff PIN's hash) refused,
/// which is a bug in the demo.
#[derive(Debug, Error)]
pub enum DemoError {
    /// A fixed value of the demo's was refused.
    #[error("the demo's {what}: {message}")]
    Fixture {
        /// Which value.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DemoError {
    /// The refusal of the demo's fixed value `what`.
    pub fn fixture(what: &'static str, e: impl std::fmt::Display) -> Self {
        Self::Fixture {
            what,
            message: e.to_string(),
        }
    }
}

impl From<keting_store::members::NewMemberError> for DemoError {
    fn from(e: keting_store::members::NewMemberError) -> Self {
        Self::Store(e.into())
    }
}

impl From<rusqlite::Error> for DemoError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}
