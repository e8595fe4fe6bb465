//! An SSD1306 128x64 OLED on I2C (the door's status panel), behind
//! embedded-hal's `I2c` trait: `linux-embedded-hal`'s `I2cdev` on a Pi
//! (`/dev/i2c-1`), a recording bus in the tests.
//!
//! The controller is initialised on the first frame and again after any bus
//! error (a panel unplugged and plugged back comes back by itself). A frame
//! is sent whole, in horizontal addressing mode: 8 pages of 128 columns.

use embedded_hal::i2c::I2c;

use super::{PanelDisplay, PanelError, PanelFrame};

/// The usual I2C address (0x3D when the SA0 pad is bridged).
pub const DEFAULT_ADDRESS: u8 = 0x3C;

/// Control byte: the rest are commands.
const COMMANDS: u8 = 0x00;
/// Control byte: the rest are display data.
const DATA: u8 = 0x40;
/// Display data bytes sent per I2C write (small adapters cap transfers).
const CHUNK: usize = 128;

/// Power-on sequence for a 128x64 panel with the internal charge pump.
pub const INIT: &[u8] = &[
    0xAE, // display off
    0xD5, 0x80, // clock divide
    0xA8, 0x3F, // multiplex 64
    0xD3, 0x00, // no display offset
    0x40, // start line 0
    0x8D, 0x14, // charge pump on
    0x20, 0x00, // horizontal addressing
    0xA1, // segment remap (column 127 is SEG0)
    0xC8, // COM scan from the bottom
    0xDA, 0x12, // COM pins: alternative, no remap
    0x81, 0xCF, // contrast
    0xD9, 0xF1, // pre-charge
    0xDB, 0x40, // VCOMH deselect level
    0xA4, // show RAM
    0xA6, // not inverted
    0xAF, // display on
];

/// A whole-screen window: columns 0-127, pages 0-7.
const WINDOW: &[u8] = &[0x21, 0, 127, 0x22, 0, 7];

/// An SSD1306 on an I2C bus.
#[derive(Debug)]
pub struct Ssd1306<I> {
    i2c: I,
    address: u8,
    ready: bool,
}

impl Ssd1306<linux_embedded_hal::I2cdev> {
    /// Opens the panel on a Linux I2C bus (`/dev/i2c-1` on a Pi; enable I2C
    /// with `raspi-config`). Nothing is sent until the first frame.
    pub fn open(bus: &str, address: u8) -> Result<Self, PanelError> {
        let i2c = linux_embedded_hal::I2cdev::new(bus)
            .map_err(|e| PanelError::Bus(format!("{bus}: {e}")))?;
        Ok(Self::new(i2c, address))
    }
}

impl<I: I2c> Ssd1306<I> {
    /// A panel at `address` on `i2c`; nothing is sent until the first frame.
    pub fn new(i2c: I, address: u8) -> Self {
        Self {
            i2c,
            address,
            ready: false,
        }
    }

    fn commands(&mut self, cmds: &[u8]) -> Result<(), I::Error> {
        let mut buf = Vec::with_capacity(cmds.len() + 1);
        buf.push(COMMANDS);
        buf.extend_from_slice(cmds);
        self.i2c.write(self.address, &buf)
    }

    fn send(&mut self, frame: &PanelFrame) -> Result<(), I::Error> {
        if !self.ready {
            self.commands(INIT)?;
            self.ready = true;
        }
        self.commands(WINDOW)?;
        let pages = frame.to_ssd1306_pages();
        let mut buf = Vec::with_capacity(CHUNK + 1);
        for chunk in pages.chunks(CHUNK) {
            buf.clear();
            buf.push(DATA);
            buf.extend_from_slice(chunk);
            self.i2c.write(self.address, &buf)?;
        }
        Ok(())
    }
}

impl<I: I2c + Send> PanelDisplay for Ssd1306<I> {
    fn show(&mut self, frame: &PanelFrame) -> Result<(), PanelError> {
        self.send(frame).map_err(|e| {
            // Start afresh next time: the panel may have lost power.
            self.ready = false;
            PanelError::Bus(format!("SSD1306 at 0x{:02x}: {e:?}", self.address))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::pixelcolor::BinaryColor;
    use embedded_graphics::prelude::*;
    use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
    use embedded_hal::i2c::{ErrorKind, ErrorType, Operation};

    /// Records every write; fails the next `fail` writes.
    #[derive(Default)]
    struct Bus {
        writes: Vec<(u8, Vec<u8>)>,
        fail: usize,
    }

    impl ErrorType for Bus {
        type Error = ErrorKind;
    }

    impl I2c for Bus {
        fn transaction(
            &mut self,
            address: u8,
            operations: &mut [Operation<'_>],
        ) -> Result<(), ErrorKind> {
            for op in operations {
                if let Operation::Write(bytes) = op {
                    if self.fail > 0 {
                        self.fail -= 1;
                        return Err(ErrorKind::NoAcknowledge(
                            embedded_hal::i2c::NoAcknowledgeSource::Address,
                        ));
                    }
                    self.writes.push((address, bytes.to_vec()));
                }
            }
            Ok(())
        }
    }

    #[test]
    fn the_first_frame_initialises_then_sends_every_page() {
        let mut frame = PanelFrame::new();
        Rectangle::new(Point::new(0, 0), Size::new(1, 8))
            .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
            .draw(&mut frame)
            .unwrap();
        let mut panel = Ssd1306::new(Bus::default(), DEFAULT_ADDRESS);
        panel.show(&frame).unwrap();
        panel.show(&frame).unwrap();
        let writes = &panel.i2c.writes;
        assert!(writes.iter().all(|(a, _)| *a == 0x3C));
        assert_eq!(writes[0].1[0], COMMANDS);
        assert_eq!(&writes[0].1[1..], INIT);
        let data: Vec<u8> = writes
            .iter()
            .filter(|(_, b)| b[0] == DATA)
            .flat_map(|(_, b)| b[1..].to_vec())
            .collect();
        // Two frames of 1,024 bytes; the lit column 0 of page 0 is 0xFF.
        assert_eq!(data.len(), 2048);
        assert_eq!(data[0], 0xFF);
        assert_eq!(data[..1024], frame.to_ssd1306_pages()[..]);
        // Initialised once only.
        assert_eq!(
            writes
                .iter()
                .filter(|(_, b)| b[1..].starts_with(&[0xAE]))
                .count(),
            1
        );
    }

    #[test]
    fn after_a_bus_error_the_panel_is_initialised_again() {
        let mut panel = Ssd1306::new(
            Bus {
                fail: 1,
                ..Bus::default()
            },
            DEFAULT_ADDRESS,
        );
        let frame = PanelFrame::new();
        assert!(matches!(panel.show(&frame), Err(PanelError::Bus(m)) if m.contains("0x3c")));
        panel.show(&frame).unwrap();
        assert_eq!(&panel.i2c.writes[0].1[1..], INIT);
    }
}
