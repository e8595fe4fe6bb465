//! The check-in desk: a scan in, a durable decision out.
//!
//! This is the one code path behind the kiosk's scanner, the demo taps and
//! `kiosk checkin`. It verifies the pass (CPU only), then in one write
//! transaction looks the member up, asks the core for a decision, logs the
//! scan, and commits with `synchronous=FULL` before returning, so whatever
//! the screen or the command line shows is already on disk.

use keting_core::checkin::{self, CheckInDecision, CheckInPolicy, DenyReason};
use keting_core::clock_judge;
use keting_core::fallback_code::{FallbackCodes, WrongCodes};
use keting_core::ids::MemberId;
use keting_core::pass::{Malformation, PassClaims, PassError, PassVerifier};
use keting_core::time::Timestamp;

use keting_store::checkins::{self, CheckinId, ScanSource};
use keting_store::site_record::SiteRecord;
use keting_store::{Store, StoreError, audit, members};

/// A decided, recorded scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanRecord {
    /// The row in the check-in log.
    pub checkin: CheckinId,
    /// When the scan was decided.
    pub at: Timestamp,
    /// The decision.
    pub decision: CheckInDecision,
    /// The member the pass named, if it named a known member.
    pub member: Option<(MemberId, String)>,
}

/// Decides and records scans for one site.
pub struct CheckInDesk {
    store: Store,
    site: SiteRecord,
    verifier: PassVerifier,
    policy: CheckInPolicy,
    fallback: Option<FallbackCodes>,
    wrong_codes: WrongCodes,
}

impl CheckInDesk {
    /// A desk for `site`, recording into `store`.
    pub fn new(store: Store, site: SiteRecord, verifier: PassVerifier) -> Self {
        Self {
            store,
            site,
            verifier,
            policy: CheckInPolicy::default(),
            fallback: None,
            wrong_codes: WrongCodes::default(),
        }
    }

    /// Also takes the six-character fallback codes shown under a phone's
    /// live pass (typed by staff for a phone whose screen cannot be read);
    /// this needs the site key.
    pub fn with_fallback_codes(mut self, codes: FallbackCodes) -> Self {
        self.fallback = Some(codes);
        self
    }

    /// The scanned text read as a pass, or as a fallback code when it is one.
    fn read(
        &mut self,
        scanned: &str,
        now: Timestamp,
    ) -> Result<Result<PassClaims, PassError>, StoreError> {
        let Some(codes) = &self.fallback else {
            return Ok(checkin::read_pass(&self.verifier, scanned, now));
        };
        if !FallbackCodes::looks_like_a_code(scanned) {
            return Ok(checkin::read_pass(&self.verifier, scanned, now));
        }
        if !self.wrong_codes.open(now) {
            tracing::warn!("a fallback code refused: too many wrong codes lately");
            return Ok(Err(PassError::Malformed(Malformation::NoPrefix)));
        }
        let members = members::epochs(self.store.conn())?;
        match codes.find(scanned, &members, now) {
            Some((member, epoch)) => Ok(Ok(PassClaims {
                site: self.site.site_id.clone(),
                member,
                epoch,
            })),
            None => {
                self.wrong_codes.wrong(now);
                Ok(Err(PassError::Malformed(Malformation::NoPrefix)))
            }
        }
    }

    /// The site.
    pub fn site(&self) -> &SiteRecord {
        &self.site
    }

    /// The database, for reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The database, for staff actions (their own transactions).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The site's pass verifier.
    pub fn verifier(&self) -> &PassVerifier {
        &self.verifier
    }

    /// Decides a scan at `now` and records it durably.
    pub fn scan(
        &mut self,
        scanned: &str,
        now: Timestamp,
        source: ScanSource,
    ) -> Result<ScanRecord, StoreError> {
        let read = self.read(scanned, now)?;
        let policy = self.policy;
        self.store.write(|tx| {
            let clock_wrong = clock_judge::known_wrong(now, checkins::newest_visit_at(tx)?);
            let (decision, member) = match &read {
                _ if clock_wrong => (CheckInDecision::Denied(DenyReason::ClockWrong), None),
                Err(e) => (CheckInDecision::Denied(DenyReason::from(e)), None),
                Ok(claims) => {
                    let found = members::standing(tx, claims.member)?;
                    let decision = checkin::admit(claims, found.as_ref().map(|(_, s)| s), now, &policy);
                    (decision, found.map(|(name, _)| (claims.member, name)))
                }
            };
            let checkin = checkins::insert(tx, now, member.as_ref().map(|(id, _)| *id), &decision, source)?;
            if let CheckInDecision::Denied(reason) = decision {
                let detail = describe_refusal(scanned, &read, reason);
                audit::record(tx, now, source.as_str(), "scan.refused", &detail)?;
                tracing::warn!(checkin = checkin.0, reason = reason.code(), "scan refused: {detail}");
            } else {
                tracing::info!(checkin = checkin.0, member = ?member.as_ref().map(|m| m.0.0), "checked in");
            }
            Ok(ScanRecord { checkin, at: now, decision, member })
        })
    }

    /// Visits so far on the local day of `now`.
    pub fn visits_today(&self, now: Timestamp) -> Result<u64, StoreError> {
        super::reports::visits_today(&self.store, self.site.calendar, now)
    }
}

/// What the audit log says of a refused scan: never the scanned text itself
/// (it may be a valid pass, or someone's payment code), only its shape.
fn describe_refusal(
    scanned: &str,
    read: &Result<keting_core::pass::PassClaims, PassError>,
    reason: DenyReason,
) -> String {
    let chars = scanned.trim().chars().count();
    match read {
        Err(PassError::Malformed(m)) => format!("{}: {chars} characters, {m}", reason.code()),
        Err(PassError::WrongSite(site)) => format!("{}: a pass of site {site:?}", reason.code()),
        Err(PassError::BadSignature | PassError::Expired) => {
            format!("{}: {chars} characters", reason.code())
        }
        Ok(claims) => format!(
            "{}: member {} epoch {}",
            reason.code(),
            claims.member,
            claims.epoch
        ),
    }
}
