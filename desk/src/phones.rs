//! Residents' own phones: binding one without a password, the phones a
//! member has, ending them; and who a phone's cookie signs in.
//!
//! A phone is bound with a one-time invitation: a QR on the kiosk after
//! the member's pass was scanned (valid [`KIOSK_QR_VALID`]) or a link a
//! staff member gives (valid [`LINK_VALID`]). The invitation carries a
//! two-digit number shown on the kiosk (or told by the staff member); the
//! phone offers three numbers and the resident picks the one they were
//! shown, so a photo of someone else's QR binds nothing without the
//! person at the kiosk. A wrong pick spends the invitation.
//!
//! Only SHA-256 hashes of the secrets (the invitation's, the phone's
//! cookie) are stored. A refused invitation says the same whether it never
//! existed, lapsed or was used, so its answer reveals nothing. A new card
//! (a lost one revoked) or erasure ends every phone of the member.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keting_core::ids::MemberId;
use keting_core::staff::{Forbidden, StaffAction};
use keting_core::time::Timestamp;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::Actor;
use keting_store::members;
use keting_store::resident_phones::{self, InvitationKind, NewInvitation, Phone};
use keting_store::{Store, StoreError, audit};

/// A staff member's sign-in link lasts this long.
pub const LINK_VALID: Duration = Duration::from_secs(10 * 60);
/// The kiosk's QR lasts this long.
pub const KIOSK_QR_VALID: Duration = Duration::from_secs(60);
/// A phone's "last seen" is written at most this often (every page would
/// otherwise be a write).
pub const SEEN_EVERY: Duration = Duration::from_secs(3600);
/// The longest phone label kept.
pub const LABEL_MAX: usize = 60;

/// Why the phones desk did nothing.
#[derive(Debug, Error)]
pub enum PhoneError {
    /// No such member.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// The actor may not do this (to this member).
    #[error(transparent)]
    Forbidden(Forbidden),
    /// The link or QR is unknown, used, lapsed or its member's card was
    /// replaced: one answer for all.
    #[error("this link cannot be used: ask for a new one")]
    InvitationUnusable,
    /// The number picked is not the one shown (the invitation is spent).
    #[error("that is not the number shown: ask for a new link")]
    WrongNumber,
    /// The phone's cookie signs nobody in (never bound, ended, a new card).
    #[error("this phone is not signed in")]
    SignedOut,
    /// No phone in force with that number for this member.
    #[error("no such phone")]
    NoSuchPhone,
    /// The system gave no randomness.
    #[error("the system has no randomness to give")]
    NoRandomness,
    /// The database.
    #[error(transparent)]
    Store(StoreError),
}

impl From<rusqlite::Error> for PhoneError {
    fn from(e: rusqlite::Error) -> Self {
        PhoneError::Store(e.into())
    }
}

impl From<StoreError> for PhoneError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Forbidden(f) => PhoneError::Forbidden(f),
            e => PhoneError::Store(e),
        }
    }
}

/// A new invitation: its secret goes into the link or QR, never a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invited {
    /// The secret (43 URL-safe characters).
    pub secret: String,
    /// The path on the residents' site that opens it.
    pub path: String,
    /// The number the resident picks on the phone.
    pub confirm: u8,
    /// When it lapses.
    pub expires: Timestamp,
}

/// An invitation as its phone sees it before binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The member's name, all but the first character hidden.
    pub masked_name: String,
    /// The three numbers offered, the right one among them.
    pub choices: [u8; 3],
}

/// A phone just bound: its cookie (never logged) and who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The cookie's value.
    pub token: String,
    /// The phone.
    pub phone: ResidentPhone,
}

/// The resident behind a phone's cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResidentPhone {
    /// The phone's number.
    pub phone: i64,
    /// The member.
    pub member: MemberId,
    /// Their card's epoch (their live pass names it).
    pub epoch: keting_core::ids::Epoch,
    /// Their name.
    pub name: String,
    /// The token every form of this phone carries.
    pub csrf: String,
}

/// The path an invitation's secret opens on the residents' site.
pub fn invitation_path(secret: &str) -> String {
    format!("/bind/{secret}")
}

fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], PhoneError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| PhoneError::NoRandomness)?;
    Ok(b)
}

fn random_secret() -> Result<String, PhoneError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// Whether `actor` may act on `member`'s phones: the member themselves,
/// the kiosk for the member whose pass it just read, or staff with the
/// members desk's role (a manager's for a member with a staff role).
fn may_act_on(
    conn: &rusqlite::Connection,
    actor: Actor,
    member: MemberId,
) -> Result<(), PhoneError> {
    match actor {
        Actor::Member(m) if m == member => Ok(()),
        Actor::Member(_) | Actor::Kiosk => Err(PhoneError::Forbidden(Forbidden {
            role: None,
            action: StaffAction::Members,
        })),
        _ => {
            super::members::require_over(conn, actor, member).map_err(|e| match e {
                super::members::MemberError::Forbidden(f) => PhoneError::Forbidden(f),
                super::members::MemberError::UnknownMember(m) => PhoneError::UnknownMember(m),
                super::members::MemberError::Store(e) => PhoneError::Store(e),
                // Adding and revoking only: not reached by a role check.
                super::members::MemberError::Details(_)
                | super::members::MemberError::EpochsExhausted(_) => {
                    PhoneError::UnknownMember(member)
                }
            })?;
            Ok(())
        }
    }
}

/// Makes a one-time invitation to bind a phone to `member`: a link from
/// staff or the command line, or a QR on the kiosk (the member's own pass
/// just scanned there: `Actor::Member`).
pub fn invite(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    kind: InvitationKind,
    now: Timestamp,
) -> Result<Invited, PhoneError> {
    let secret = random_secret()?;
    let confirm = 10 + random_bytes::<1>()?[0] % 90;
    let valid = match kind {
        InvitationKind::Link => LINK_VALID,
        InvitationKind::Kiosk => KIOSK_QR_VALID,
    };
    let expires = now.saturating_add(valid);
    store.write(|tx| {
        may_act_on(tx, actor, member)?;
        if members::get(tx, member)?.is_none() {
            return Err(PhoneError::UnknownMember(member));
        }
        resident_phones::invite(
            tx,
            &NewInvitation {
                member,
                secret_hash: sha256(&secret),
                kind,
                confirm,
                made_by: &actor.audit_name(),
                expires,
            },
            now,
        )?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "phone.invite",
            &format!(
                "member {member}, one-time {kind:?} until {}",
                expires.as_unix_millis()
            ),
        )?;
        Ok(())
    })?;
    Ok(Invited {
        path: invitation_path(&secret),
        secret,
        confirm,
        expires,
    })
}

/// The invitation usable now with `secret`, and its member's name.
fn usable(
    conn: &rusqlite::Connection,
    secret: &str,
    now: Timestamp,
) -> Result<(resident_phones::Invitation, members::Member), PhoneError> {
    if secret.len() != 43 {
        return Err(PhoneError::InvitationUnusable);
    }
    let inv = resident_phones::invitation(conn, &sha256(secret))?
        .ok_or(PhoneError::InvitationUnusable)?;
    if inv.used.is_some() || now >= inv.expires {
        return Err(PhoneError::InvitationUnusable);
    }
    let member = members::get(conn, inv.member)?.ok_or(PhoneError::InvitationUnusable)?;
    Ok((inv, member))
}

/// Three numbers to offer, the right one among them, from the secret (so
/// the page shows the same three every time it is opened).
fn choices(secret: &str, right: u8) -> [u8; 3] {
    let h = Sha256::digest(format!("choices:{secret}").as_bytes());
    let mut out = [right, 0, 0];
    let mut i = 0;
    for n in 1..3 {
        loop {
            let c = 10 + h[i % 32] % 90;
            i += 1;
            if !out[..n].contains(&c) {
                out[n] = c;
                break;
            }
        }
    }
    let at = usize::from(h[31] % 3);
    out.swap(0, at);
    out
}

/// What a phone opening `secret` is shown: whose it is (masked) and the
/// numbers to pick from. Nothing is written.
pub fn open(store: &Store, secret: &str, now: Timestamp) -> Result<Opened, PhoneError> {
    let (inv, member) = usable(store.conn(), secret, now)?;
    Ok(Opened {
        masked_name: mask(&member.name),
        choices: choices(secret, inv.confirm),
    })
}

/// The name with all but its first character hidden.
pub fn mask(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().unwrap_or('*');
    let rest = chars.count().clamp(1, 3);
    format!("{first}{}", "*".repeat(rest))
}

/// What a phone says it is, without control characters, cut to
/// [`LABEL_MAX`]; "phone" when it says nothing.
fn clean_label(label: &str) -> String {
    let label: String = label
        .chars()
        .filter(|c| !c.is_control())
        .take(LABEL_MAX)
        .collect();
    if label.trim().is_empty() {
        "phone".to_owned()
    } else {
        label
    }
}

/// Binds a new phone to `member` inside `tx` (its secrets made here, the
/// audit row naming `how`): what both a binding and a WeChat sign-in end in.
fn new_phone(
    tx: &rusqlite::Transaction<'_>,
    member: members::Member,
    label: &str,
    how: &str,
    now: Timestamp,
) -> Result<Bound, PhoneError> {
    let token = random_secret()?;
    let csrf = random_secret()?;
    let phone = resident_phones::bind(
        tx,
        member.id,
        member.epoch,
        &sha256(&token),
        &csrf,
        label,
        now,
    )?;
    audit::record(
        tx,
        now,
        &Actor::Member(member.id).audit_name(),
        "phone.bind",
        &format!("phone {phone}{how}"),
    )?;
    Ok(Bound {
        token,
        phone: ResidentPhone {
            phone,
            member: member.id,
            epoch: member.epoch,
            name: member.name,
            csrf,
        },
    })
}

/// Binds the phone opening `secret` if `picked` is the invitation's
/// number; the invitation is spent either way. `label` is what the phone
/// says it is (its browser), cut to [`LABEL_MAX`].
pub fn bind(
    store: &mut Store,
    secret: &str,
    picked: u8,
    label: &str,
    now: Timestamp,
) -> Result<Bound, PhoneError> {
    let label = clean_label(label);
    // The refusal must outlive the transaction: a wrong number spends it.
    store.write(|tx| {
        let (inv, member) = usable(tx, secret, now)?;
        if !resident_phones::use_invitation(tx, inv.id, now)? {
            return Err(PhoneError::InvitationUnusable);
        }
        if picked != inv.confirm {
            audit::record(
                tx,
                now,
                &Actor::Member(member.id).audit_name(),
                "phone.bind.refused",
                "wrong number picked: invitation spent",
            )?;
            return Ok(Err(PhoneError::WrongNumber));
        }
        new_phone(tx, member, &label, "", now).map(Ok)
    })?
}

/// The resident whose phone carries the cookie `token`, at `now`: the
/// phone in force, its member still there and on the same card.
pub fn signed_in(
    store: &mut Store,
    token: &str,
    now: Timestamp,
) -> Result<ResidentPhone, PhoneError> {
    if token.len() != 43 {
        return Err(PhoneError::SignedOut);
    }
    let phone =
        resident_phones::by_token(store.conn(), &sha256(token))?.ok_or(PhoneError::SignedOut)?;
    let member = members::get(store.conn(), phone.member)?.ok_or(PhoneError::SignedOut)?;
    if member.epoch != phone.epoch {
        return Err(PhoneError::SignedOut);
    }
    if now.since(phone.used).is_some_and(|d| d >= SEEN_EVERY) {
        store.write(|tx| resident_phones::seen(tx, phone.id, now))?;
    }
    Ok(ResidentPhone {
        phone: phone.id,
        member: member.id,
        epoch: member.epoch,
        name: member.name,
        csrf: phone.csrf,
    })
}

/// The member's phones in force, for the member themselves or staff.
pub fn list(store: &Store, actor: Actor, member: MemberId) -> Result<Vec<Phone>, PhoneError> {
    may_act_on(store.conn(), actor, member)?;
    Ok(resident_phones::of_member(store.conn(), member)?)
}

/// Ends phone `phone` of `member` (signs it out for good).
pub fn end(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    phone: i64,
    now: Timestamp,
) -> Result<(), PhoneError> {
    store.write(|tx| {
        may_act_on(tx, actor, member)?;
        if !resident_phones::end(tx, member, phone, &actor.audit_name(), now)? {
            return Err(PhoneError::NoSuchPhone);
        }
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "phone.end",
            &format!("member {member} phone {phone}"),
        )?;
        Ok(())
    })
}

/// Ends every phone of `member` and every invitation not yet used; how
/// many phones were ended.
pub fn end_all(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    now: Timestamp,
) -> Result<usize, PhoneError> {
    store.write(|tx| {
        may_act_on(tx, actor, member)?;
        let n = resident_phones::end_all(tx, member, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "phone.end_all",
            &format!("member {member}: {n} phones"),
        )?;
        Ok(n)
    })
}

/// Binds the phone opening `secret` as [`bind`] does and, the phone being
/// inside WeChat with the account `openid`, binds that account to the
/// member too, so WeChat signs it in by itself from then on.
pub fn bind_with_openid(
    store: &mut Store,
    secret: &str,
    picked: u8,
    label: &str,
    openid: Option<&str>,
    now: Timestamp,
) -> Result<Bound, PhoneError> {
    let bound = bind(store, secret, picked, label, now)?;
    if let Some(openid) = openid.filter(|o| !o.is_empty() && o.len() <= 64) {
        let member = bound.phone.member;
        store.write(|tx| {
            resident_phones::bind_openid(tx, openid, member, now)?;
            audit::record(
                tx,
                now,
                &Actor::Member(member).audit_name(),
                "phone.wechat",
                "WeChat account bound",
            )?;
            Ok::<_, PhoneError>(())
        })?;
    }
    Ok(bound)
}

/// Signs in a phone inside WeChat whose account `openid` is bound to a
/// member: a new bound phone for them (its cookie), as a binding would.
pub fn sign_in_with_openid(
    store: &mut Store,
    openid: &str,
    label: &str,
    now: Timestamp,
) -> Result<Bound, PhoneError> {
    let label = clean_label(label);
    store.write(|tx| {
        let member = resident_phones::member_of_openid(tx, openid)?.ok_or(PhoneError::SignedOut)?;
        let member = members::get(tx, member)?.ok_or(PhoneError::SignedOut)?;
        new_phone(tx, member, &label, " through WeChat", now)
    })
}

/// A new address for `member`'s calendar feed (a calendar app fetches it
/// with no cookie): its secret, 43 URL-safe characters; an earlier one
/// stops working. The member's own phone only.
pub fn new_calendar(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    now: Timestamp,
) -> Result<String, PhoneError> {
    if actor != Actor::Member(member) {
        return Err(PhoneError::Forbidden(Forbidden {
            role: None,
            action: StaffAction::Members,
        }));
    }
    let token = random_secret()?;
    store.write(|tx| {
        resident_phones::set_calendar(tx, member, &sha256(&token), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "calendar.new",
            &format!("member {member}"),
        )?;
        Ok::<_, PhoneError>(())
    })?;
    Ok(token)
}

/// Whether `member` has a calendar feed.
pub fn has_calendar(store: &Store, member: MemberId) -> Result<bool, PhoneError> {
    Ok(resident_phones::has_calendar(store.conn(), member)?)
}

/// The member whose calendar feed `token` opens (still on their card).
pub fn calendar_of(store: &Store, token: &str) -> Result<MemberId, PhoneError> {
    if token.len() != 43 {
        return Err(PhoneError::SignedOut);
    }
    let member =
        resident_phones::calendar_of(store.conn(), &sha256(token))?.ok_or(PhoneError::SignedOut)?;
    members::get(store.conn(), member)?.ok_or(PhoneError::SignedOut)?;
    Ok(member)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_different_choices_with_the_right_one() {
        for i in 0..500 {
            let secret = format!("{i:043}");
            let right = 10 + (i % 90) as u8;
            let c = choices(&secret, right);
            assert!(c.contains(&right));
            assert!(c[0] != c[1] && c[1] != c[2] && c[0] != c[2], "{c:?}");
            assert!(c.iter().all(|n| (10..=99).contains(n)));
            assert_eq!(c, choices(&secret, right), "the same each time");
        }
    }

    use ed25519_dalek::SigningKey;
    use keting_core::ids::SiteId;
    use keting_core::pass::PassIssuer;
    use keting_core::staff::StaffRole;
    use keting_store::members::NewMember;

    fn wrong_pick(opened: &Opened, right: u8) -> u8 {
        opened.choices.into_iter().find(|c| *c != right).unwrap()
    }

    #[test]
    fn a_link_binds_one_phone_once_and_a_new_card_ends_it() {
        let mut store = Store::open_in_memory().unwrap();
        let issuer = PassIssuer::new(
            SiteId::new("demo-centre").unwrap(),
            SigningKey::from_bytes(&[7; 32]),
        );
        let t = Timestamp::from_unix_millis(1_800_000_000_000);
        let add = |store: &mut Store, name: &str| {
            let new = NewMember::new(name, None, &[]).unwrap();
            super::super::members::add(store, Actor::CommandLine, &new, &issuer, t)
                .unwrap()
                .member
                .id
        };
        let li = add(&mut store, "李建国");
        let wang = add(&mut store, "王秀英");
        let desk_staff = super::super::staff::staff_for_tests(&mut store, StaffRole::Staff);
        let manager = super::super::staff::staff_for_tests(&mut store, StaffRole::Manager);

        let inv = invite(
            &mut store,
            Actor::Staff(desk_staff),
            li,
            InvitationKind::Link,
            t,
        )
        .unwrap();
        assert_eq!(inv.path, format!("/bind/{}", inv.secret));
        let opened = open(&store, &inv.secret, t).unwrap();
        assert_eq!(opened.masked_name, "李**");
        assert!(opened.choices.contains(&inv.confirm));
        let bound = bind(&mut store, &inv.secret, inv.confirm, "Android · WeChat", t).unwrap();
        assert_eq!(bound.phone.member, li);
        assert_eq!(signed_in(&mut store, &bound.token, t).unwrap().member, li);
        // Used once.
        assert!(matches!(
            open(&store, &inv.secret, t),
            Err(PhoneError::InvitationUnusable)
        ));
        assert!(matches!(
            bind(&mut store, &inv.secret, inv.confirm, "x", t),
            Err(PhoneError::InvitationUnusable)
        ));
        // A wrong number spends it; a lapsed one is refused like an unknown one.
        let inv2 = invite(&mut store, Actor::CommandLine, li, InvitationKind::Link, t).unwrap();
        let wrong = wrong_pick(&open(&store, &inv2.secret, t).unwrap(), inv2.confirm);
        assert!(matches!(
            bind(&mut store, &inv2.secret, wrong, "x", t),
            Err(PhoneError::WrongNumber)
        ));
        assert!(matches!(
            bind(&mut store, &inv2.secret, inv2.confirm, "x", t),
            Err(PhoneError::InvitationUnusable)
        ));
        let qr = invite(&mut store, Actor::Member(li), li, InvitationKind::Kiosk, t).unwrap();
        let late = t.saturating_add(KIOSK_QR_VALID);
        assert!(matches!(
            bind(&mut store, &qr.secret, qr.confirm, "x", late),
            Err(PhoneError::InvitationUnusable)
        ));
        assert!(matches!(
            open(&store, &"A".repeat(43), t),
            Err(PhoneError::InvitationUnusable)
        ));
        // Nobody acts on another's phones; a lower role not on a manager's.
        assert!(matches!(
            invite(
                &mut store,
                Actor::Member(wang),
                li,
                InvitationKind::Kiosk,
                t
            ),
            Err(PhoneError::Forbidden(_))
        ));
        assert!(matches!(
            end(&mut store, Actor::Member(wang), li, bound.phone.phone, t),
            Err(PhoneError::Forbidden(_))
        ));
        assert!(matches!(
            end(&mut store, Actor::Member(wang), wang, bound.phone.phone, t),
            Err(PhoneError::NoSuchPhone)
        ));
        assert!(matches!(
            invite(
                &mut store,
                Actor::Staff(desk_staff),
                manager,
                InvitationKind::Link,
                t
            ),
            Err(PhoneError::Forbidden(_))
        ));
        assert_eq!(list(&store, Actor::Member(li), li).unwrap().len(), 1);
        // A lost card's new pass signs the phone out.
        super::super::members::revoke(&mut store, Actor::Staff(desk_staff), li, &issuer, t)
            .unwrap();
        assert!(matches!(
            signed_in(&mut store, &bound.token, t),
            Err(PhoneError::SignedOut)
        ));
        assert!(list(&store, Actor::Member(li), li).unwrap().is_empty());
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask("李建国"), "李**");
        assert_eq!(mask("王五"), "王*");
        assert_eq!(mask("Elizabeth Smith"), "E***");
    }
}
