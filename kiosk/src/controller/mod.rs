//! The screen's controllers: the state behind the pages, with no Slint
//! types, so the rules of the screen are unit-tested without a window. The
//! adapters in `crate::ui` only map these to Slint properties and forward
//! Slint's callbacks here.
//!
//! - [`router`]: which page is shown, where a scan goes on it, and how
//!   long it stays untouched before the screen goes home.

pub mod router;
