//! The members desk: adding residents, revoking a lost card (a new pass,
//! every earlier one refused), reprinting a pass, the list.
//!
//! A pass is a bearer token: it is returned to the caller to print or show,
//! never written to the audit log.

use keting_core::ids::{Epoch, MemberId};
use keting_core::pass::PassIssuer;
use keting_core::staff::{Forbidden, StaffAction, action_on_member};
use keting_core::time::Timestamp;
use thiserror::Error;

use super::Actor;
use keting_store::members::{self, Member, NewMember, NewMemberError};
use keting_store::{Store, StoreError, audit};

/// Why the members desk did nothing.
#[derive(Debug, Error)]
pub enum MemberError {
    /// The new member's details.
    #[error(transparent)]
    Details(#[from] NewMemberError),
    /// No such member.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// The member's passes were revoked as often as an epoch counts.
    #[error("member {0} cannot be revoked again")]
    EpochsExhausted(MemberId),
    /// The acting staff member's role may not do it (to this member: a
    /// staff member's card or data is a manager's business).
    #[error(transparent)]
    Forbidden(Forbidden),
    /// The database.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for MemberError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Forbidden(f) => MemberError::Forbidden(f),
            e => MemberError::Store(e),
        }
    }
}

impl From<rusqlite::Error> for MemberError {
    fn from(e: rusqlite::Error) -> Self {
        MemberError::Store(e.into())
    }
}

/// A member and their pass in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberPass {
    /// The member as stored.
    pub member: Member,
    /// Their pass (`KT1.…`), to print or show; never logged.
    pub pass: String,
}

fn require(conn: &rusqlite::Connection, id: MemberId) -> Result<Member, MemberError> {
    members::get(conn, id)?.ok_or(MemberError::UnknownMember(id))
}

/// The member `id`, once `actor` may act on them: the members desk's role,
/// and a manager's for a member who holds a staff role.
pub(crate) fn require_over(
    conn: &rusqlite::Connection,
    actor: Actor,
    id: MemberId,
) -> Result<Member, MemberError> {
    super::staff::require(conn, actor, StaffAction::Members)?;
    let member = require(conn, id)?;
    let role = keting_store::staff_access::get(conn, id)?.map(|a| a.role);
    super::staff::require(conn, actor, action_on_member(role))?;
    Ok(member)
}

/// Adds a member at epoch 0 and issues their first pass.
pub fn add(
    store: &mut Store,
    actor: Actor,
    new: &NewMember,
    issuer: &PassIssuer,
    now: Timestamp,
) -> Result<MemberPass, MemberError> {
    let member = store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Members)?;
        let id = members::add(tx, new, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "member.add",
            &format!("member {id}"),
        )?;
        require(tx, id)
    })?;
    let pass = issuer.issue(member.id, member.epoch);
    Ok(MemberPass { member, pass })
}

/// A lost card: bumps the member's epoch, so every earlier pass is refused
/// from now on, and issues the new pass.
pub fn revoke(
    store: &mut Store,
    actor: Actor,
    id: MemberId,
    issuer: &PassIssuer,
    now: Timestamp,
) -> Result<MemberPass, MemberError> {
    let member = store.write(|tx| {
        let before = require_over(tx, actor, id)?;
        if before.epoch.next().is_none() {
            return Err(MemberError::EpochsExhausted(id));
        }
        let epoch: Epoch = members::bump_epoch(tx, id)?;
        // A new card: the phones bound to the old one are signed out too.
        keting_store::resident_phones::end_all(tx, id, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "member.revoke",
            &format!("member {id} now at epoch {epoch}"),
        )?;
        require(tx, id)
    })?;
    let pass = issuer.issue(member.id, member.epoch);
    Ok(MemberPass { member, pass })
}

/// Deletes a member's personal data on their request: the name and phone
/// tail go, every pass is refused, the roles and staff access go. The
/// member's number stays on their visits, postings and bookings, so the
/// counts and the ledger stay whole.
pub fn erase(
    store: &mut Store,
    actor: Actor,
    id: MemberId,
    now: Timestamp,
) -> Result<Member, MemberError> {
    store.write(|tx| {
        let before = require_over(tx, actor, id)?;
        if before.epoch.next().is_some() {
            members::bump_epoch(tx, id)?;
        }
        members::erase_personal(tx, id)?;
        keting_store::resident_phones::end_all(tx, id, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "member.erase",
            &format!("member {id}: personal data deleted"),
        )?;
        require(tx, id)
    })
}

/// The member's pass in force, to reprint (no change, nothing audited).
pub fn pass(store: &Store, id: MemberId, issuer: &PassIssuer) -> Result<MemberPass, MemberError> {
    let member = require(store.conn(), id)?;
    let pass = issuer.issue(member.id, member.epoch);
    Ok(MemberPass { member, pass })
}

/// The member with this number.
pub fn get(store: &Store, id: MemberId) -> Result<Member, MemberError> {
    require(store.conn(), id)
}

/// Every member, by number.
pub fn list(store: &Store) -> Result<Vec<Member>, MemberError> {
    Ok(members::list(store.conn())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use keting_core::ids::SiteId;
    use keting_core::pass::PassVerifier;

    #[test]
    fn a_lower_role_never_reissues_or_erases_a_higher_ones_card() {
        use keting_core::staff::StaffRole;
        let mut store = Store::open_in_memory().unwrap();
        let issuer = PassIssuer::new(
            SiteId::new("demo-centre").unwrap(),
            SigningKey::from_bytes(&[7; 32]),
        );
        let now = Timestamp::from_unix_millis(1_000);
        let desk_staff = super::super::staff::staff_for_tests(&mut store, StaffRole::Staff);
        let manager = super::super::staff::staff_for_tests(&mut store, StaffRole::Manager);
        let resident = add(
            &mut store,
            Actor::CommandLine,
            &NewMember::new("李建国", Some("3821"), &[]).unwrap(),
            &issuer,
            now,
        )
        .unwrap()
        .member
        .id;
        let epoch = |store: &Store, id| get(store, id).unwrap().epoch;
        let before = epoch(&store, manager);
        for refused in [
            revoke(&mut store, Actor::Staff(desk_staff), manager, &issuer, now).map(|_| ()),
            erase(&mut store, Actor::Staff(desk_staff), manager, now).map(|_| ()),
        ] {
            assert!(
                matches!(refused, Err(MemberError::Forbidden(f)) if f.action == StaffAction::ManageStaff),
                "{refused:?}"
            );
        }
        assert_eq!(
            epoch(&store, manager),
            before,
            "the manager's pass still works"
        );
        assert!(
            keting_store::staff_access::get(store.conn(), manager)
                .unwrap()
                .is_some()
        );
        // A resident's lost card is the front desk's; a manager may act on staff.
        revoke(&mut store, Actor::Staff(desk_staff), resident, &issuer, now).unwrap();
        revoke(&mut store, Actor::Staff(manager), desk_staff, &issuer, now).unwrap();
    }

    #[test]
    fn a_revoked_card_is_replaced_and_the_old_pass_no_longer_names_the_epoch_in_force() {
        let mut store = Store::open_in_memory().unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let site = SiteId::new("demo-centre").unwrap();
        let issuer = PassIssuer::new(site.clone(), key.clone());
        let verifier = PassVerifier::new(site, key.verifying_key());
        let now = Timestamp::from_unix_millis(1_000);
        let desk = NewMember::new("刘主任", None, &[members::Role::Staff]).unwrap();
        let staff = add(&mut store, Actor::CommandLine, &desk, &issuer, now)
            .unwrap()
            .member
            .id;
        let new = NewMember::new("李建国", Some("3821"), &[]).unwrap();
        let first = add(&mut store, Actor::CommandLine, &new, &issuer, now).unwrap();
        let second = revoke(
            &mut store,
            Actor::Staff(staff),
            first.member.id,
            &issuer,
            now,
        )
        .unwrap();
        let old = verifier.verify(&first.pass, now).unwrap();
        let new = verifier.verify(&second.pass, now).unwrap();
        assert!(new.epoch > old.epoch);
        assert_eq!(get(&store, first.member.id).unwrap().epoch, new.epoch);
        let log = audit::recent(store.conn(), 5).unwrap();
        assert_eq!(log[0].actor, format!("staff:{staff}"));
        assert_eq!(log[0].action, "member.revoke");
        assert!(
            log.iter().all(|e| !e.detail.contains("KT1.")),
            "no pass in the audit log"
        );
        assert!(matches!(
            revoke(&mut store, Actor::CommandLine, MemberId(77), &issuer, now),
            Err(MemberError::UnknownMember(MemberId(77)))
        ));
    }
}
