//! Who a scan on a resident's page is: a pass of this centre, of a member,
//! not replaced by a newer card. The points and the bookings pages both ask.

use std::cell::RefCell;
use std::rc::Rc;

use keting_core::ids::MemberId;

use super::language::Language;
use super::shell::{self, State};
use crate::words::tr;

/// The member whose pass `text` is, with their name; or what to tell them.
pub(super) fn member_of(
    state: &Rc<RefCell<State>>,
    text: &str,
) -> Result<(MemberId, String), String> {
    let zh = state.borrow().language == Language::Chinese;
    let claims = state
        .borrow()
        .desk
        .verifier()
        .verify(text.trim(), shell::now(state));
    let found = claims.map(|c| {
        let m = keting_desk::members::get(state.borrow().desk.store(), c.member);
        (c, m)
    });
    match found {
        Ok((c, Ok(m))) if m.epoch == c.epoch => Ok((m.id, m.name)),
        Ok((_, Ok(_))) => Err(tr(zh, "This card was replaced: please use your new one")),
        Err(keting_core::pass::PassError::Expired) => Err(tr(
            zh,
            "This code has expired: show the new one on your phone",
        )),
        Ok((_, Err(_))) | Err(_) => Err(tr(zh, "This is not a pass of this centre")),
    }
}
