//! Validated identifiers shared by every part of Keting.
//!
//! A [`DeviceId`] names one device agent within a site (`gym-door`,
//! `piano-bank-1`); it is a segment of MQTT topics. A [`SiteId`] names one community centre; it is printed inside every pass,
//! so it is short and plain ASCII. A [`MemberId`] is the centre's number for a
//! resident. An [`Epoch`] counts how many times a member's passes were
//! revoked: a pass carries the epoch it was issued at, and only a pass of the
//! member's current epoch is honoured.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The longest site id a pass can carry and still fit in 160 characters.
pub const SITE_ID_MAX_LEN: usize = 32;

/// The identifier of one site (one community service centre).
///
/// 1 to 32 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

/// Why a string is not a valid [`SiteId`] or [`DeviceId`].
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SiteIdError {
    /// The string is empty.
    #[error("an id cannot be empty")]
    Empty,
    /// The string is longer than [`SITE_ID_MAX_LEN`].
    #[error("an id has at most {SITE_ID_MAX_LEN} characters, this one has {0}")]
    TooLong(usize),
    /// The string holds a character outside `a-z0-9-`, or starts or ends with `-`.
    #[error("an id uses only a-z, 0-9 and '-' (not at either end): {0:?}")]
    BadCharacter(String),
}

/// Checks the shape every Keting identifier has: 1 to 32 characters of
/// `a-z0-9-`, not starting or ending with `-`. Safe as an MQTT topic segment
/// and a file name.
fn check_identifier(s: String) -> Result<String, SiteIdError> {
    if s.is_empty() {
        return Err(SiteIdError::Empty);
    }
    if s.len() > SITE_ID_MAX_LEN {
        return Err(SiteIdError::TooLong(s.len()));
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !s.chars().all(ok_char) || s.starts_with('-') || s.ends_with('-') {
        return Err(SiteIdError::BadCharacter(s));
    }
    Ok(s)
}

impl SiteId {
    /// Validates `s` as a site id.
    pub fn new(s: impl Into<String>) -> Result<Self, SiteIdError> {
        check_identifier(s.into()).map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SiteId {
    type Err = SiteIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for SiteId {
    type Error = SiteIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<SiteId> for String {
    fn from(id: SiteId) -> Self {
        id.0
    }
}

/// The identifier of one device agent within a site, e.g. `gym-door`.
///
/// The same shape as a [`SiteId`]; invalid ids give the same [`SiteIdError`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

impl DeviceId {
    /// Validates `s` as a device id.
    pub fn new(s: impl Into<String>) -> Result<Self, SiteIdError> {
        check_identifier(s.into()).map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DeviceId {
    type Error = SiteIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> Self {
        id.0
    }
}

/// A member's number at one site (a resident, volunteer, gym member or staff).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemberId(pub u32);

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How many times a member's passes have been revoked; a pass is valid only
/// at the member's current epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(pub u32);

impl Epoch {
    /// The epoch after this one (what a revocation moves a member to).
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_ids() {
        let cases: &[(&str, bool)] = &[
            ("futian-01", true),
            ("a", true),
            ("0123456789abcdef0123456789abcdef", true),
            ("0123456789abcdef0123456789abcdef0", false),
            ("", false),
            ("-a", false),
            ("a-", false),
            ("Futian", false),
            ("福田", false),
            ("a b", false),
            ("a.b", false),
        ];
        for (s, ok) in cases {
            assert_eq!(SiteId::new(*s).is_ok(), *ok, "{s:?}");
            assert_eq!(DeviceId::new(*s).is_ok(), *ok, "{s:?}");
        }
        // Nothing an MQTT topic treats specially gets through.
        for s in ["a/b", "+", "#", "a#"] {
            assert!(DeviceId::new(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn epoch_does_not_wrap() {
        assert_eq!(Epoch(0).next(), Some(Epoch(1)));
        assert_eq!(Epoch(u32::MAX).next(), None);
    }
}
