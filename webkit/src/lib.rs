//! What every web surface shares (the staff dashboard, the district's
//! dashboard, the residents' pages): it knows no Keting crate but the core,
//! and no surface. **API Boundary** for web surfaces.
//!
//! - [`lang`]: Chinese first, English second, from the `lang` cookie.
//! - [`html`]: escaping, tables, a form's notice.
//! - [`frame`]: the page frame, with the surface's brand, navigation and
//!   script as parameters.
//! - [`session`]: signed-in browsers generic over their user, CSRF tokens,
//!   idle and absolute limits.
//! - [`respond`]: pages never cached, redirects, the `Origin` check, CSV and
//!   Excel downloads, the language cookie.
//! - [`chart`]: bar charts as SVG, drawn on the server.
//! - [`xlsx`] and [`zip`]: tables as an Excel workbook, written here.
//! - [`throttle`]: wrong sign-in tries per address, so one computer cannot
//!   lock someone else's card or name.
//! - [`serve`]: the accept loop, plain or TLS, with a cap on connections and
//!   a timeout on headers and handshakes.
//! - [`https`]: a router served over TLS.
//! - [`assets`]: the style sheet and the one script, in the binary.
//! - [`outbound`]: a bounded HTTP GET or JSON POST to the outside (TLS
//!   against the system's authorities); [`smtp`]: one e-mail with STARTTLS.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod assets;
pub mod chart;
pub mod frame;
pub mod html;
pub mod https;
pub mod lang;
pub mod outbound;
pub mod respond;
pub mod serve;
pub mod session;
pub mod smtp;
pub mod throttle;
pub mod xlsx;
pub mod zip;

pub use lang::Lang;
