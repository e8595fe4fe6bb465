//! A simulated panel: keeps the last frame shown, for tests and for the demo
//! (which can write it to PNG).

use std::sync::{Arc, Mutex, PoisonError};

use crate::panel::{PanelDisplay, PanelError, PanelFrame};

/// A panel in memory. Clones share the same screen.
#[derive(Clone, Debug, Default)]
pub struct SimPanel {
    shown: Arc<Mutex<(Option<PanelFrame>, u64)>>,
}

impl SimPanel {
    /// A blank panel.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frame on screen, if any was shown.
    pub fn frame(&self) -> Option<PanelFrame> {
        self.shown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// How many frames were shown.
    pub fn frames_shown(&self) -> u64 {
        self.shown.lock().unwrap_or_else(PoisonError::into_inner).1
    }
}

impl PanelDisplay for SimPanel {
    fn show(&mut self, frame: &PanelFrame) -> Result<(), PanelError> {
        let mut shown = self.shown.lock().unwrap_or_else(PoisonError::into_inner);
        shown.0 = Some(frame.clone());
        shown.1 += 1;
        Ok(())
    }
}
