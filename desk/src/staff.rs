//! The staff desk: who is staff with which role, their PINs, signing in at
//! the staff page with card and PIN, and the check every staff action
//! passes ([`require`]).
//!
//! A PIN is kept only as an Argon2id hash (19 MiB, 2 passes, a salt of its
//! own: OWASP's minimum), compared only while the card is not locked, and
//! never written to a log or the audit (the audit says who tried, and how
//! many tries are left).

use keting_core::ids::MemberId;
use keting_core::staff::{
    Forbidden, PinFormatError, PinVerdict, StaffAction, StaffRole, check_pin_format,
};
use keting_core::time::Timestamp;
use rusqlite::Connection;
use thiserror::Error;

use super::Actor;
use keting_store::staff_access::{self, StaffAccess};
use keting_store::{Store, StoreError, audit, members};

/// Why the staff desk did nothing.
#[derive(Debug, Error)]
pub enum StaffError {
    /// No such member.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// The member is not staff (no role).
    #[error("member {0} is not staff: give them a role with `kiosk staff role {0} --role staff`")]
    NotStaff(MemberId),
    /// A PIN of the wrong shape.
    #[error(transparent)]
    PinFormat(#[from] PinFormatError),
    /// The hash could not be made.
    #[error("the PIN could not be hashed: {0}")]
    Hash(String),
    /// A password too short or too long.
    #[error("a password has {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters")]
    PasswordShape,
    /// A manager taking their own manager role away (another manager may:
    /// a centre is never left without one by its own hand).
    #[error("a manager may not take their own manager role away: another manager can")]
    OwnManagerRole,
    /// The acting staff member's role may not do it.
    #[error(transparent)]
    Forbidden(Forbidden),
    /// The database.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for StaffError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Forbidden(f) => StaffError::Forbidden(f),
            e => StaffError::Store(e),
        }
    }
}

impl From<rusqlite::Error> for StaffError {
    fn from(e: rusqlite::Error) -> Self {
        StaffError::Store(e.into())
    }
}

/// Why a card and PIN did not open the staff page.
#[derive(Debug, Error)]
pub enum SignInError {
    /// The card's member has no staff role.
    #[error("not staff")]
    NotStaff,
    /// No staff member has that name, or more than one has (the card's
    /// number then says who).
    #[error("no single staff member has that name")]
    NotOneByName,
    /// Staff, but no dashboard password was ever set.
    #[error("no password is set: a manager sets one with `kiosk staff password`")]
    NoPassword,
    /// Staff, but no PIN was ever set.
    #[error("no PIN is set: a manager sets one with `kiosk staff pin`")]
    NoPin,
    /// The PIN entered is not six digits (nothing counted).
    #[error(transparent)]
    PinFormat(#[from] PinFormatError),
    /// Wrong PIN.
    #[error("wrong PIN, {left} tries left")]
    Wrong {
        /// Tries left before the lock.
        left: u32,
    },
    /// Locked after too many wrong PINs (now or before).
    #[error("locked after too many wrong PINs")]
    Locked {
        /// Until (ms since the Unix epoch).
        until_ms: i64,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for SignInError {
    fn from(e: rusqlite::Error) -> Self {
        SignInError::Store(e.into())
    }
}

/// A staff member signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    /// Who.
    pub member: MemberId,
    /// Their display name.
    pub name: String,
    /// Their role.
    pub role: StaffRole,
}

pub use keting_core::secret::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};

/// The Argon2id PHC string of `pin` (or a password), with a fresh salt.
pub fn hash_pin(pin: &str) -> Result<String, StaffError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StaffError::Hash(e.to_string()))?;
    keting_core::secret::hash(pin, &salt).map_err(|e| StaffError::Hash(e.to_string()))
}

fn pin_matches(pin: &str, hash: &str) -> bool {
    keting_core::secret::matches(pin, hash)
}

/// Spends the time a real comparison takes, on a hash nobody's secret made:
/// a sign-in for a name or card that has no secret answers no faster than
/// one with a wrong secret, so timing tells nobody who exists.
fn compare_for_nothing(typed: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| keting_core::secret::hash("-", &[0; 16]).ok()) {
        let _ = pin_matches(typed, hash);
    }
}

/// Fails with [`Forbidden`] unless `actor` may do `action` for `member`: a
/// resident for themselves only, the kiosk's screen for nobody on its own,
/// a staff member by their role ([`require`]), the command line and the
/// demo always. Who may book, queue or play for whom is this one rule.
pub fn require_for(
    conn: &Connection,
    actor: Actor,
    member: MemberId,
    action: StaffAction,
) -> Result<(), StoreError> {
    match actor {
        Actor::Member(m) if m == member => Ok(()),
        Actor::Member(_) => Err(Forbidden { role: None, action }.into()),
        _ => require(conn, actor, action),
    }
}

/// Fails with [`Forbidden`] unless `actor` may do `action`: a staff member
/// by their role; the command line (a shell on the centre's machine) and the
/// demo's set-up always; a resident or the kiosk acting for one never.
pub fn require(conn: &Connection, actor: Actor, action: StaffAction) -> Result<(), StoreError> {
    match actor {
        Actor::CommandLine | Actor::Demo => Ok(()),
        Actor::Staff(id) => {
            let role = staff_access::get(conn, id)?.map(|a| a.role);
            match role {
                Some(r) if r.may(action) => Ok(()),
                role => Err(Forbidden { role, action }.into()),
            }
        }
        Actor::Kiosk | Actor::Member(_) => Err(Forbidden { role: None, action }.into()),
    }
}

/// Whether `member` has a staff role that may use the kiosk's staff pages
/// (any role but observer).
pub fn is_staff(store: &Store, member: MemberId) -> bool {
    staff_access::get(store.conn(), member)
        .ok()
        .flatten()
        .is_some_and(|a| a.role != StaffRole::Observer)
}

/// Gives `member` `role`, or takes their staff access away (`None`).
pub fn set_role(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    role: Option<StaffRole>,
    now: Timestamp,
) -> Result<String, StaffError> {
    store.write(|tx| {
        require(tx, actor, StaffAction::ManageStaff)?;
        let name = members::get(tx, member)?
            .map(|m| m.name)
            .ok_or(StaffError::UnknownMember(member))?;
        let was = staff_access::get(tx, member)?.map(|a| a.role);
        if actor == Actor::Staff(member)
            && was == Some(StaffRole::Manager)
            && role != Some(StaffRole::Manager)
        {
            return Err(StaffError::OwnManagerRole);
        }
        let detail = match role {
            Some(role) => {
                staff_access::set_role(tx, member, role, now)?;
                format!("member {member} role {role}")
            }
            None => {
                staff_access::remove(tx, member)?;
                format!("member {member} no longer staff")
            }
        };
        audit::record(tx, now, &actor.audit_name(), "staff.role", &detail)?;
        Ok(name)
    })
}

/// Sets `member`'s PIN (and clears any lock on their card).
pub fn set_pin(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    pin: &str,
    now: Timestamp,
) -> Result<(), StaffError> {
    check_pin_format(pin)?;
    let hash = hash_pin(pin)?;
    store.write(|tx| {
        require(tx, actor, StaffAction::ManageStaff)?;
        if staff_access::get(tx, member)?.is_none() {
            return Err(StaffError::NotStaff(member));
        }
        staff_access::set_pin_hash(tx, member, &hash, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "staff.pin_set",
            &format!("member {member}"),
        )?;
        Ok(())
    })
}

/// Sets a staff member's dashboard password (10 to 128 characters, stored
/// as an Argon2id hash); clears a lock on their card. Audited, never logged.
pub fn set_password(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    password: &str,
    now: Timestamp,
) -> Result<(), StaffError> {
    let n = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n) {
        return Err(StaffError::PasswordShape);
    }
    let hash = hash_pin(password)?;
    store.write(|tx| {
        require(tx, actor, StaffAction::ManageStaff)?;
        if staff_access::get(tx, member)?.is_none() {
            return Err(StaffError::NotStaff(member));
        }
        staff_access::set_password_hash(tx, member, &hash, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "staff.password_set",
            &format!("member {member}"),
        )?;
        Ok(())
    })
}

/// Signs in to the dashboard by name and password: the name must be one
/// staff member's exactly; the tries and the lock are the PIN's (5 wrong,
/// of either, lock the card for 15 minutes).
pub fn sign_in_with_password(
    store: &mut Store,
    name: &str,
    password: &str,
    now: Timestamp,
) -> Result<SignedIn, SignInError> {
    if password.chars().count() > PASSWORD_MAX_CHARS {
        return Err(SignInError::Wrong { left: 0 });
    }
    let named = staff_access::named(store.conn(), name.trim())?;
    let [member] = named[..] else {
        compare_for_nothing(password);
        return Err(SignInError::NotOneByName);
    };
    sign_in_checked(store, member, Secret::Password(password), now, true)
}

/// `member`'s staff access, if they have a role.
pub fn access(store: &Store, member: MemberId) -> Result<Option<StaffAccess>, StaffError> {
    Ok(staff_access::get(store.conn(), member)?)
}

/// Every staff member, with their display name.
pub fn list(store: &Store) -> Result<Vec<(StaffAccess, String)>, StaffError> {
    let conn = store.conn();
    let mut out = Vec::new();
    for access in staff_access::list(conn)? {
        let name = members::get(conn, access.member)?
            .map(|m| m.name)
            .unwrap_or_default();
        out.push((access, name));
    }
    Ok(out)
}

/// A staff card (`member`, its pass already verified) and the PIN typed on
/// the staff page: signed in, or why not. Every try is in the audit, the
/// PIN never is.
pub fn sign_in(
    store: &mut Store,
    member: MemberId,
    pin: &str,
    now: Timestamp,
) -> Result<SignedIn, SignInError> {
    sign_in_as(store, member, pin, now, false)
}

/// As [`sign_in`], for the dashboard in a browser, where an observer signs
/// in too (to look: every action still passes [`require`]).
pub fn sign_in_to_dashboard(
    store: &mut Store,
    member: MemberId,
    pin: &str,
    now: Timestamp,
) -> Result<SignedIn, SignInError> {
    sign_in_as(store, member, pin, now, true)
}

/// What a staff member signs in with.
#[derive(Clone, Copy)]
enum Secret<'a> {
    Pin(&'a str),
    Password(&'a str),
}

fn sign_in_as(
    store: &mut Store,
    member: MemberId,
    pin: &str,
    now: Timestamp,
    observers: bool,
) -> Result<SignedIn, SignInError> {
    check_pin_format(pin)?;
    sign_in_checked(store, member, Secret::Pin(pin), now, observers)
}

fn sign_in_checked(
    store: &mut Store,
    member: MemberId,
    secret: Secret<'_>,
    now: Timestamp,
    observers: bool,
) -> Result<SignedIn, SignInError> {
    let t = now.as_unix_millis();
    let actor = Actor::Staff(member).audit_name();
    // The closure's Ok carries a refusal too, so the wrong try it wrote
    // down is committed; only a database error rolls back.
    store
        .write(|tx| -> Result<Result<SignedIn, SignInError>, SignInError> {
            let typed = match secret {
                Secret::Pin(pin) | Secret::Password(pin) => pin,
            };
            let Some(access) = staff_access::get(tx, member)?
                .filter(|a| observers || a.role != StaffRole::Observer)
            else {
                compare_for_nothing(typed);
                return Ok(Err(SignInError::NotStaff));
            };
            let hash = match secret {
                Secret::Pin(_) => access.pin_hash.clone(),
                Secret::Password(_) => staff_access::password_hash(tx, member)?,
            };
            let Some(hash) = hash else {
                compare_for_nothing(typed);
                return Ok(Err(match secret {
                    Secret::Pin(_) => SignInError::NoPin,
                    Secret::Password(_) => SignInError::NoPassword,
                }));
            };
            // The dashboard (`observers`: a browser) counts its own wrong
            // tries: a browser anywhere on the LAN cannot lock the card at
            // the kiosk, nor the kiosk's tries the dashboard.
            let web = observers;
            let counted = if web {
                access.web_attempts
            } else {
                access.attempts
            };
            if let Some(until_ms) = counted.locked_at(t) {
                audit::record(tx, now, &actor, "staff.sign_in_locked", "")?;
                return Ok(Err(SignInError::Locked { until_ms }));
            }
            let (attempts, verdict) = counted.after(pin_matches(typed, &hash), t);
            if web {
                staff_access::set_web_attempts(tx, member, attempts)?;
            } else {
                staff_access::set_attempts(tx, member, attempts)?;
            }
            Ok(match verdict {
                PinVerdict::Accepted => {
                    audit::record(tx, now, &actor, "staff.sign_in", access.role.as_str())?;
                    let name = members::get(tx, member)?
                        .map(|m| m.name)
                        .unwrap_or_default();
                    Ok(SignedIn {
                        member,
                        name,
                        role: access.role,
                    })
                }
                PinVerdict::Wrong { left } => {
                    let detail = format!("{left} tries left");
                    audit::record(tx, now, &actor, "staff.pin_wrong", &detail)?;
                    Err(SignInError::Wrong { left })
                }
                PinVerdict::LockedNow { until_ms } | PinVerdict::Locked { until_ms } => {
                    audit::record(tx, now, &actor, "staff.locked", "5 wrong PINs")?;
                    Err(SignInError::Locked { until_ms })
                }
            })
        })
        .and_then(|verdict| verdict)
}

/// A new staff member with `role`, for the desks' tests.
#[cfg(test)]
pub(crate) fn staff_for_tests(store: &mut Store, role: StaffRole) -> MemberId {
    use keting_store::members::{NewMember, Role};
    let id = store
        .write(|tx| {
            members::add(
                tx,
                &NewMember::new("值班员", None, &[Role::Staff])?,
                Timestamp::from_unix_millis(0),
            )
        })
        .expect("a staff member");
    set_role(
        store,
        Actor::CommandLine,
        id,
        Some(role),
        Timestamp::from_unix_millis(0),
    )
    .expect("a role");
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_store::members::{NewMember, Role};

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    fn staff_member(store: &mut Store, name: &str) -> MemberId {
        store
            .write(|tx| members::add(tx, &NewMember::new(name, None, &[Role::Staff])?, at(0)))
            .unwrap()
    }

    #[test]
    fn a_card_opens_with_its_pin_and_locks_after_five_wrong_ones() {
        let mut store = Store::open_in_memory().unwrap();
        let liu = staff_member(&mut store, "刘主任");
        assert!(matches!(
            sign_in(&mut store, liu, "246810", at(1)),
            Err(SignInError::NoPin)
        ));
        set_pin(&mut store, Actor::CommandLine, liu, "246810", at(2)).unwrap();
        let ok = sign_in(&mut store, liu, "246810", at(3)).unwrap();
        assert_eq!((ok.role, ok.name.as_str()), (StaffRole::Staff, "刘主任"));
        // A PIN of the wrong shape is not a try.
        assert!(matches!(
            sign_in(&mut store, liu, "2468", at(4)),
            Err(SignInError::PinFormat(_))
        ));
        for left in (1..=4).rev() {
            match sign_in(&mut store, liu, "000000", at(5)) {
                Err(SignInError::Wrong { left: l }) => assert_eq!(l, left),
                other => panic!("{other:?}"),
            }
        }
        let until = match sign_in(&mut store, liu, "000000", at(6)) {
            Err(SignInError::Locked { until_ms }) => until_ms,
            other => panic!("{other:?}"),
        };
        // Locked: even the right PIN is not compared.
        assert!(matches!(
            sign_in(&mut store, liu, "246810", at(until - 1)),
            Err(SignInError::Locked { .. })
        ));
        assert!(sign_in(&mut store, liu, "246810", at(until)).is_ok());
        let log = audit::recent(store.conn(), 50).unwrap();
        assert!(log.iter().any(|e| e.action == "staff.locked"));
        assert!(
            log.iter()
                .all(|e| !e.detail.contains("246810") && !e.detail.contains("000000")),
            "no PIN in the audit"
        );
        let hash = staff_access::get(store.conn(), liu)
            .unwrap()
            .unwrap()
            .pin_hash
            .unwrap();
        assert!(hash.starts_with("$argon2id$") && !hash.contains("246810"));
    }

    #[test]
    fn wrong_pins_typed_in_a_browser_never_lock_the_card_at_the_kiosk() {
        let mut store = Store::open_in_memory().unwrap();
        let liu = staff_member(&mut store, "刘主任");
        set_role(
            &mut store,
            Actor::CommandLine,
            liu,
            Some(StaffRole::Staff),
            at(1),
        )
        .unwrap();
        set_pin(&mut store, Actor::CommandLine, liu, "246810", at(2)).unwrap();
        // Someone on the LAN types five wrong PINs for her card.
        for _ in 0..4 {
            assert!(matches!(
                sign_in_to_dashboard(&mut store, liu, "000000", at(3)),
                Err(SignInError::Wrong { .. })
            ));
        }
        assert!(matches!(
            sign_in_to_dashboard(&mut store, liu, "000000", at(4)),
            Err(SignInError::Locked { .. })
        ));
        // The dashboard is locked for her card; the kiosk is not.
        assert!(matches!(
            sign_in_to_dashboard(&mut store, liu, "246810", at(5)),
            Err(SignInError::Locked { .. })
        ));
        assert!(
            sign_in(&mut store, liu, "246810", at(6)).is_ok(),
            "her card opens the staff page"
        );
        // And the kiosk's own count is its own: a wrong PIN there leaves four.
        assert!(matches!(
            sign_in(&mut store, liu, "000000", at(7)),
            Err(SignInError::Wrong { left: 4 })
        ));
    }

    #[test]
    fn roles_decide_what_a_staff_member_may_do_at_the_desks() {
        let mut store = Store::open_in_memory().unwrap();
        let liu = staff_member(&mut store, "刘主任");
        let zhang = staff_member(&mut store, "张师傅");
        set_role(
            &mut store,
            Actor::CommandLine,
            zhang,
            Some(StaffRole::Technician),
            at(1),
        )
        .unwrap();
        let cal = keting_core::calendar::SiteCalendar::china();
        let volunteer = store
            .write(|tx| {
                members::add(
                    tx,
                    &NewMember::new("王秀英", None, &[Role::Volunteer])?,
                    at(0),
                )
            })
            .unwrap();
        let award = |store: &mut Store, who| {
            super::super::points::award(
                store,
                Actor::Staff(who),
                volunteer,
                "读书会",
                10,
                cal,
                at(2),
            )
        };
        assert!(
            award(&mut store, liu).is_ok(),
            "the front desk awards points"
        );
        let refused = award(&mut store, zhang).unwrap_err().to_string();
        assert_eq!(refused, "technician may not award or reverse points");
        // Only a manager (or the command line) gives roles.
        assert!(matches!(
            set_role(
                &mut store,
                Actor::Staff(liu),
                zhang,
                Some(StaffRole::Manager),
                at(3)
            ),
            Err(StaffError::Forbidden(_))
        ));
        set_role(
            &mut store,
            Actor::CommandLine,
            liu,
            Some(StaffRole::Manager),
            at(4),
        )
        .unwrap();
        set_role(&mut store, Actor::Staff(liu), zhang, None, at(5)).unwrap();
        assert!(!is_staff(&store, zhang));
        // A manager does not take their own manager role away, whichever
        // surface asks; the command line (the machine's owner) may.
        for role in [None, Some(StaffRole::Staff)] {
            assert!(matches!(
                set_role(&mut store, Actor::Staff(liu), liu, role, at(5)),
                Err(StaffError::OwnManagerRole)
            ));
        }
        assert!(is_staff(&store, liu));
        assert!(matches!(
            set_pin(&mut store, Actor::CommandLine, zhang, "123456", at(6)),
            Err(StaffError::NotStaff(_))
        ));
        let log = audit::recent(store.conn(), 5).unwrap();
        assert_eq!(log[0].actor, format!("staff:{liu}"));
        assert_eq!(log[0].action, "staff.role");
    }
}
