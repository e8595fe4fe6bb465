//! "My phone" on the screen: the resident's pass scanned, a one-time QR
//! of the residents' pages' binding link (valid one minute, the page's
//! time to go home) and the number to tap on the phone. The invitation is
//! the phones desk's; the link's secret is drawn, never shown as text or
//! logged. Offered only when the centre serves the residents' pages.

use std::cell::RefCell;
use std::rc::Rc;

use keting_desk::Actor;
use keting_desk::phones::{self, PhoneError};
use keting_desk::records::InvitationKind;
use slint::{ComponentHandle, Image, Rgb8Pixel, SharedPixelBuffer};

use super::language::Language;
use super::scanned_member::member_of;
use super::shell::{self, State};
use super::{KioskWindow, PhoneAdapter, PhoneStep};
use crate::controller::router::{ScanMeans, Screen};
use crate::words::tr;

/// Screen pixels per QR module (a 57-module code with its quiet zone is
/// 390 px, drawn at 400).
const MODULE_PX: usize = 6;

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

/// The QR of `text` as an image for the window.
fn qr_image(text: &str) -> Option<Image> {
    let (side, grey) = keting_desk::qr_image::grey(text, MODULE_PX).ok()?;
    let side32 = u32::try_from(side).ok()?;
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(side32, side32);
    for (px, g) in buffer.make_mut_slice().iter_mut().zip(grey) {
        *px = Rgb8Pixel { r: g, g, b: g };
    }
    Some(Image::from_rgb8(buffer))
}

/// Opens the page at its first step: scan your pass.
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<PhoneAdapter>();
    adapter.set_message("".into());
    adapter.set_step(PhoneStep::Scan);
    shell::show_page(window, state, Screen::Phone);
}

/// A scan on the page: that member's one-time QR and number.
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    let zh = zh(state);
    let adapter = window.global::<PhoneAdapter>();
    let (member, name) = match member_of(state, text) {
        Ok(found) => found,
        Err(why) => {
            adapter.set_message(why.into());
            return;
        }
    };
    let Some(base) = state.borrow().resident_url.clone() else {
        adapter.set_message(tr(zh, "Not working right now: please ask staff").into());
        return;
    };
    let invited = {
        let mut s = state.borrow_mut();
        let now = s.now;
        phones::invite(
            s.desk.store_mut(),
            Actor::Member(member),
            member,
            InvitationKind::Kiosk,
            now,
        )
    };
    let invited = match invited {
        Ok(i) => i,
        Err(e @ (PhoneError::Store(_) | PhoneError::NoRandomness)) => {
            tracing::error!("my phone: {e}");
            adapter.set_message(tr(zh, "Not working right now: please ask staff").into());
            return;
        }
        Err(e) => {
            tracing::warn!("my phone: {e}");
            adapter.set_message(tr(zh, "This is not a pass of this centre").into());
            return;
        }
    };
    let link = format!("{}{}", base.trim_end_matches('/'), invited.path);
    let Some(image) = qr_image(&link) else {
        adapter.set_message(tr(zh, "Not working right now: please ask staff").into());
        return;
    };
    adapter.set_member(name.into());
    adapter.set_number(invited.confirm.to_string().into());
    adapter.set_qr(image);
    adapter.set_message("".into());
    adapter.set_step(PhoneStep::Shown);
    // The code lapses with the page: it goes home after the QR's minute.
    shell::stay(window, state, phones::KIOSK_QR_VALID);
}

/// Wires the "my phone" page's callback and its scans (whose phone).
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<PhoneAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_open() => touched |w, s| open(w, s));
    state.borrow_mut().hooks.scan(ScanMeans::PhoneMember, scan);
}
