//! An in-memory GPIO chip: the same [`OutputLine`] / [`InputLine`] traits,
//! with the test (or the demo site) on the other side of every wire.
//!
//! The test drives inputs ([`SimGpio::drive`]: the door opens, the exit
//! button is pressed) and reads outputs ([`SimGpio::level`]: is the strike
//! energised?). Like the kernel, the chip queues every edge for each reader:
//! a door opened and closed quickly is two edges, never one missed change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

use crate::gpio::{GpioError, InputLine, LineSpec, OutputLine};

/// Edges queued per reader before the oldest are dropped (the kernel's
/// default event buffer is 16 per line).
const EDGE_QUEUE: usize = 64;

#[derive(Debug)]
struct Line {
    value: bool,
    edges: broadcast::Sender<bool>,
}

/// A simulated chip with named lines. Clones share the lines.
#[derive(Clone, Debug, Default)]
pub struct SimGpio {
    lines: Arc<Mutex<HashMap<String, Line>>>,
}

impl SimGpio {
    /// A chip with no lines yet; lines appear when first requested or driven.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_line<T>(&self, name: &str, f: impl FnOnce(&mut Line) -> T) -> T {
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        let line = lines.entry(name.to_owned()).or_insert_with(|| Line {
            value: false,
            edges: broadcast::channel(EDGE_QUEUE).0,
        });
        f(line)
    }

    fn set(&self, name: &str, active: bool) {
        self.with_line(name, |l| {
            if l.value != active {
                l.value = active;
                let _ = l.edges.send(active);
            }
        });
    }

    /// Requests an output line (initially inactive, as on real hardware).
    pub fn output(&self, spec: &LineSpec) -> SimOutput {
        self.set(&spec.name, false);
        SimOutput {
            chip: self.clone(),
            name: spec.name.clone(),
        }
    }

    /// Requests an input line.
    pub fn input(&self, spec: &LineSpec) -> SimInput {
        let edges = self.with_line(&spec.name, |l| l.edges.subscribe());
        SimInput {
            chip: self.clone(),
            name: spec.name.clone(),
            edges,
        }
    }

    /// The other side of an input: sets the line's logical value.
    pub fn drive(&self, name: &str, active: bool) {
        self.set(name, active);
    }

    /// The other side of an output: the line's logical value.
    pub fn level(&self, name: &str) -> bool {
        self.with_line(name, |l| l.value)
    }

    /// Every later change of a line, in order (to watch an output).
    pub fn edges(&self, name: &str) -> broadcast::Receiver<bool> {
        self.with_line(name, |l| l.edges.subscribe())
    }
}

/// A simulated output line.
#[derive(Debug)]
pub struct SimOutput {
    chip: SimGpio,
    name: String,
}

impl OutputLine for SimOutput {
    fn set(&mut self, active: bool) -> Result<(), GpioError> {
        self.chip.set(&self.name, active);
        Ok(())
    }
}

/// A simulated input line.
#[derive(Debug)]
pub struct SimInput {
    chip: SimGpio,
    name: String,
    edges: broadcast::Receiver<bool>,
}

impl InputLine for SimInput {
    fn value(&mut self) -> Result<bool, GpioError> {
        Ok(self.chip.level(&self.name))
    }

    async fn changed(&mut self) -> Result<bool, GpioError> {
        match self.edges.recv().await {
            Ok(v) => Ok(v),
            // More edges than the queue holds: report where the line is now.
            Err(broadcast::error::RecvError::Lagged(_)) => Ok(self.chip.level(&self.name)),
            Err(broadcast::error::RecvError::Closed) => Err(GpioError::Line {
                line: self.name.clone(),
                message: "the simulated chip is gone".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_edge_reaches_the_reader_in_order() {
        let chip = SimGpio::new();
        let mut contact = chip.input(&LineSpec::named("GPIO27"));
        assert!(!contact.value().unwrap());
        // Opened and closed before the reader looks: both edges are kept.
        chip.drive("GPIO27", true);
        chip.drive("GPIO27", false);
        chip.drive("GPIO27", false); // no edge
        assert!(contact.changed().await.unwrap());
        assert!(!contact.changed().await.unwrap());
        assert!(!contact.value().unwrap());
    }

    #[tokio::test]
    async fn outputs_are_visible_and_start_inactive() {
        let chip = SimGpio::new();
        chip.drive("GPIO17", true);
        let mut strike = chip.output(&LineSpec::named("GPIO17"));
        assert!(!chip.level("GPIO17"));
        let mut seen = chip.edges("GPIO17");
        strike.set(true).unwrap();
        strike.set(false).unwrap();
        assert_eq!(
            (seen.recv().await.unwrap(), seen.recv().await.unwrap()),
            (true, false)
        );
    }
}
