//! GPIO lines on the kernel's GPIO character device (`/dev/gpiochip*`), with
//! gpiocdev. Works on every Raspberry Pi and most Linux boards; it replaces
//! rppal, which was retired upstream in July 2025.
//!
//! Inputs are debounced by the kernel (5 ms by default) and report edges, so
//! a door contact is watched without polling. Requests must be made inside a
//! tokio runtime. No GPIO chip is attached to the development and CI
//! machines: this module is compiled everywhere and exercised on a Pi; the
//! agents are tested against [`crate::gpio::sim`].

use std::time::Duration;

use gpiocdev::line::{EdgeDetection, EdgeKind, Offset, Value};
use gpiocdev::tokio::AsyncRequest;

use crate::gpio::{GpioError, InputLine, LineSpec, OutputLine};

/// The consumer name shown by `gpioinfo` for lines Keting holds.
pub const CONSUMER: &str = "keting";

/// How long the kernel debounces an input by default.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(5);

fn line_error(spec: &LineSpec, e: impl std::fmt::Display) -> GpioError {
    GpioError::Line {
        line: spec.name.clone(),
        message: e.to_string(),
    }
}

/// Finds the line by name and requests it, `configure` setting its
/// direction; returns the line's offset and the request.
fn request_line(
    spec: &LineSpec,
    configure: impl FnOnce(&mut gpiocdev::request::Builder),
) -> Result<(Offset, gpiocdev::Request), GpioError> {
    let found = gpiocdev::find_named_line(&spec.name)
        .ok_or_else(|| GpioError::NotFound(spec.name.clone()))?;
    let mut builder = gpiocdev::Request::builder();
    builder.with_found_line(&found).with_consumer(CONSUMER);
    configure(&mut builder);
    if spec.active_low {
        builder.as_active_low();
    }
    let request = builder.request().map_err(|e| line_error(spec, e))?;
    Ok((found.info.offset, request))
}

/// An output line, requested inactive.
#[derive(Debug)]
pub struct CdevOutput {
    spec: LineSpec,
    offset: Offset,
    request: gpiocdev::Request,
}

impl CdevOutput {
    /// Requests the line as an output, initially inactive.
    pub fn request(spec: LineSpec) -> Result<Self, GpioError> {
        let (offset, request) = request_line(&spec, |b| {
            b.as_output(Value::Inactive);
        })?;
        Ok(Self {
            spec,
            offset,
            request,
        })
    }
}

impl OutputLine for CdevOutput {
    fn set(&mut self, active: bool) -> Result<(), GpioError> {
        let value = if active {
            Value::Active
        } else {
            Value::Inactive
        };
        self.request
            .set_value(self.offset, value)
            .map_err(|e| line_error(&self.spec, e))
    }
}

/// An input line with edge detection on both edges.
#[derive(Debug)]
pub struct CdevInput {
    spec: LineSpec,
    offset: Offset,
    request: AsyncRequest,
}

impl CdevInput {
    /// Requests the line as a debounced input. Call inside a tokio runtime.
    pub fn request(spec: LineSpec, debounce: Duration) -> Result<Self, GpioError> {
        let (offset, request) = request_line(&spec, |b| {
            b.as_input()
                .with_edge_detection(EdgeDetection::BothEdges)
                .with_debounce_period(debounce);
        })?;
        Ok(Self {
            spec,
            offset,
            request: AsyncRequest::new(request),
        })
    }
}

impl InputLine for CdevInput {
    fn value(&mut self) -> Result<bool, GpioError> {
        let v = self
            .request
            .as_ref()
            .value(self.offset)
            .map_err(|e| line_error(&self.spec, e))?;
        Ok(v == Value::Active)
    }

    async fn changed(&mut self) -> Result<bool, GpioError> {
        let event = self
            .request
            .read_edge_event()
            .await
            .map_err(|e| line_error(&self.spec, e))?;
        Ok(event.kind == EdgeKind::Rising)
    }
}
