//! A USB HID scanner that types like a keyboard, read from its kernel input
//! device (`/dev/input/event*`) and grabbed: its keystrokes reach no other
//! program, so a scan never lands in a shell on the console.
//!
//! Key codes map to characters with a US layout (what scanners emulate by
//! default), shift tracked; Enter ends a code.

use evdev::{Device, EventSummary, KeyCode};

use super::{ScanLine, Scanner, ScannerError};

/// A grabbed keyboard-wedge scanner.
pub struct EvdevScanner {
    events: evdev::EventStream,
    keys: KeyDecoder,
    line: ScanLine,
}

impl std::fmt::Debug for EvdevScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvdevScanner").finish_non_exhaustive()
    }
}

impl EvdevScanner {
    /// Opens `device`: a path (`/dev/input/by-id/...`) or the name the
    /// device reports (see `evtest`), and grabs it. Call inside tokio.
    pub fn open(device: &str) -> Result<Self, ScannerError> {
        let err = |message: String| ScannerError::Open {
            device: device.to_owned(),
            message,
        };
        let mut dev = if device.starts_with('/') {
            Device::open(device).map_err(|e| err(e.to_string()))?
        } else {
            evdev::enumerate()
                .map(|(_, d)| d)
                .find(|d| d.name() == Some(device))
                .ok_or_else(|| {
                    err("no input device of that name (list them with `evtest`)".into())
                })?
        };
        dev.grab().map_err(|e| err(format!("cannot grab: {e}")))?;
        let events = dev.into_event_stream().map_err(|e| err(e.to_string()))?;
        Ok(Self {
            events,
            keys: KeyDecoder::default(),
            line: ScanLine::default(),
        })
    }
}

impl Scanner for EvdevScanner {
    async fn next_scan(&mut self) -> Result<String, ScannerError> {
        loop {
            let ev = self
                .events
                .next_event()
                .await
                .map_err(|e| ScannerError::Read(e.to_string()))?;
            if let EventSummary::Key(_, code, value) = ev.destructure()
                && let Some(c) = self.keys.key(code, value)
                && let Some(code) = self.line.push(c)
            {
                return Ok(code);
            }
        }
    }
}

/// Turns key presses into characters (US layout), tracking shift.
#[derive(Debug, Default)]
pub struct KeyDecoder {
    shift: bool,
}

impl KeyDecoder {
    /// One key event (`value`: 1 press, 0 release, 2 repeat); returns the
    /// character a press typed, if any.
    pub fn key(&mut self, code: KeyCode, value: i32) -> Option<char> {
        if code == KeyCode::KEY_LEFTSHIFT || code == KeyCode::KEY_RIGHTSHIFT {
            self.shift = value != 0;
            return None;
        }
        if value != 1 {
            return None;
        }
        let (plain, shifted) = us_layout(code)?;
        Some(if self.shift { shifted } else { plain })
    }
}

fn us_layout(code: KeyCode) -> Option<(char, char)> {
    const LETTERS: [(KeyCode, char); 26] = [
        (KeyCode::KEY_A, 'a'),
        (KeyCode::KEY_B, 'b'),
        (KeyCode::KEY_C, 'c'),
        (KeyCode::KEY_D, 'd'),
        (KeyCode::KEY_E, 'e'),
        (KeyCode::KEY_F, 'f'),
        (KeyCode::KEY_G, 'g'),
        (KeyCode::KEY_H, 'h'),
        (KeyCode::KEY_I, 'i'),
        (KeyCode::KEY_J, 'j'),
        (KeyCode::KEY_K, 'k'),
        (KeyCode::KEY_L, 'l'),
        (KeyCode::KEY_M, 'm'),
        (KeyCode::KEY_N, 'n'),
        (KeyCode::KEY_O, 'o'),
        (KeyCode::KEY_P, 'p'),
        (KeyCode::KEY_Q, 'q'),
        (KeyCode::KEY_R, 'r'),
        (KeyCode::KEY_S, 's'),
        (KeyCode::KEY_T, 't'),
        (KeyCode::KEY_U, 'u'),
        (KeyCode::KEY_V, 'v'),
        (KeyCode::KEY_W, 'w'),
        (KeyCode::KEY_X, 'x'),
        (KeyCode::KEY_Y, 'y'),
        (KeyCode::KEY_Z, 'z'),
    ];
    const OTHERS: [(KeyCode, char, char); 22] = [
        (KeyCode::KEY_1, '1', '!'),
        (KeyCode::KEY_2, '2', '@'),
        (KeyCode::KEY_3, '3', '#'),
        (KeyCode::KEY_4, '4', '$'),
        (KeyCode::KEY_5, '5', '%'),
        (KeyCode::KEY_6, '6', '^'),
        (KeyCode::KEY_7, '7', '&'),
        (KeyCode::KEY_8, '8', '*'),
        (KeyCode::KEY_9, '9', '('),
        (KeyCode::KEY_0, '0', ')'),
        (KeyCode::KEY_MINUS, '-', '_'),
        (KeyCode::KEY_EQUAL, '=', '+'),
        (KeyCode::KEY_DOT, '.', '>'),
        (KeyCode::KEY_COMMA, ',', '<'),
        (KeyCode::KEY_SLASH, '/', '?'),
        (KeyCode::KEY_SEMICOLON, ';', ':'),
        (KeyCode::KEY_APOSTROPHE, '\'', '"'),
        (KeyCode::KEY_SPACE, ' ', ' '),
        (KeyCode::KEY_LEFTBRACE, '[', '{'),
        (KeyCode::KEY_RIGHTBRACE, ']', '}'),
        (KeyCode::KEY_ENTER, '\n', '\n'),
        (KeyCode::KEY_KPENTER, '\n', '\n'),
    ];
    if let Some((_, c)) = LETTERS.iter().find(|(k, _)| *k == code) {
        return Some((*c, c.to_ascii_uppercase()));
    }
    OTHERS
        .iter()
        .find(|(k, _, _)| *k == code)
        .map(|(_, a, b)| (*a, *b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_pass_decodes_with_shift_and_ends_at_enter() {
        let mut keys = KeyDecoder::default();
        let mut line = ScanLine::default();
        let press = |k| [(k, 1), (k, 0)];
        let mut events = vec![(KeyCode::KEY_LEFTSHIFT, 1)];
        events.extend(press(KeyCode::KEY_K));
        events.extend(press(KeyCode::KEY_T));
        events.push((KeyCode::KEY_LEFTSHIFT, 0));
        events.extend(press(KeyCode::KEY_1));
        events.extend(press(KeyCode::KEY_DOT));
        events.extend(press(KeyCode::KEY_A));
        events.push((KeyCode::KEY_MINUS, 2)); // auto-repeat: ignored
        events.extend(press(KeyCode::KEY_MINUS));
        events.extend(press(KeyCode::KEY_ENTER));
        let codes: Vec<String> = events
            .into_iter()
            .filter_map(|(k, v)| keys.key(k, v))
            .filter_map(|c| line.push(c))
            .collect();
        assert_eq!(codes, ["KT1.a-"]);
    }
}
