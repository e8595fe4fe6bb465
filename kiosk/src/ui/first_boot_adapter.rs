//! The first-boot question's window (`kiosk first-boot`): the choice by
//! touch or number key, a device's claim label by the scanner, then the
//! helper's progress read from its status file twice a second. It writes
//! the answer file and nothing else (see [`crate::first_boot`]).

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::language::Language;
use super::{FirstBootAdapter, FirstBootStep, FirstBootWindow, Theme};
use crate::first_boot::{self, Answer, AnswerRefused, Choice, Status, Step};
use crate::scan_input::ScanInput;
use crate::words::tr;

/// Where the window and its helper meet.
#[derive(Clone, Debug)]
pub struct FirstBootFiles {
    /// The answer the window writes.
    pub answer: PathBuf,
    /// The helper's progress.
    pub status: PathBuf,
    /// The backups the helper found.
    pub backups: PathBuf,
}

impl Default for FirstBootFiles {
    fn default() -> Self {
        Self {
            answer: first_boot::ANSWER_FILE.into(),
            status: first_boot::STATUS_FILE.into(),
            backups: first_boot::BACKUPS_FILE.into(),
        }
    }
}

struct State {
    files: FirstBootFiles,
    backups: Vec<String>,
    language: Language,
    scan: ScanInput,
    /// The answer given, while the helper works on it.
    attempt: Option<Answer>,
}

/// The first-boot window and its state.
pub struct FirstBootUi {
    window: FirstBootWindow,
    state: Rc<RefCell<State>>,
    _poll: slint::Timer,
}

impl FirstBootUi {
    /// The window on the question, with the backups the helper listed.
    pub fn new(files: FirstBootFiles) -> Result<Self, slint::PlatformError> {
        let window = FirstBootWindow::new()?;
        let backups = first_boot::listed_backups(
            &std::fs::read_to_string(&files.backups).unwrap_or_default(),
        );
        let state = Rc::new(RefCell::new(State {
            files,
            backups,
            language: Language::Chinese,
            scan: ScanInput::new(),
            attempt: None,
        }));
        let adapter = window.global::<FirstBootAdapter>();
        let names: Vec<SharedString> = state.borrow().backups.iter().map(Into::into).collect();
        adapter.set_backups(ModelRc::new(VecModel::from(names)));

        let with = |f: fn(&FirstBootWindow, &mut State)| {
            let (w, s) = (window.as_weak(), Rc::downgrade(&state));
            move || {
                if let (Some(w), Some(s)) = (w.upgrade(), s.upgrade()) {
                    f(&w, &mut s.borrow_mut());
                }
            }
        };
        adapter.on_choose_centre(with(|w, _| show(w, FirstBootStep::Centre)));
        adapter.on_choose_device(with(|w, _| show(w, FirstBootStep::Device)));
        adapter.on_new_site(with(|w, s| {
            let answer = Answer {
                attempt: attempt_id(),
                choice: Choice::NewSite,
            };
            give(w, s, answer);
        }));
        adapter.on_back(with(back));
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_restore(move |index| {
            if let (Some(w), Some(s)) = (w.upgrade(), s.upgrade()) {
                restore(
                    &w,
                    &mut s.borrow_mut(),
                    usize::try_from(index).unwrap_or(usize::MAX),
                );
            }
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_key_typed(move |text| {
            if let (Some(w), Some(s)) = (w.upgrade(), s.upgrade()) {
                key(&w, &mut s.borrow_mut(), &text, Instant::now());
            }
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_language_chosen(move |code| {
            if let (Some(w), Some(s), Some(language)) =
                (w.upgrade(), s.upgrade(), Language::from_code(&code))
            {
                set_language(&w, &mut s.borrow_mut(), language);
            }
        });

        let poll = slint::Timer::default();
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        poll.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(500),
            move || {
                if let (Some(w), Some(s)) = (w.upgrade(), s.upgrade()) {
                    follow_helper(&w, &mut s.borrow_mut());
                }
            },
        );
        set_language(&window, &mut state.borrow_mut(), Language::Chinese);
        Ok(Self {
            window,
            state,
            _poll: poll,
        })
    }

    /// The window (to show it, or render it).
    pub fn window(&self) -> &FirstBootWindow {
        &self.window
    }

    /// Shows the screen in `language`.
    pub fn set_language(&self, language: Language) {
        set_language(&self.window, &mut self.state.borrow_mut(), language);
    }

    /// Large type.
    pub fn set_large_text(&self, on: bool) {
        self.window.global::<Theme>().set_large_text(on);
    }

    /// Keys typed (a keyboard, or the scanner), as the window takes them.
    pub fn type_keys(&self, text: &str) {
        key(
            &self.window,
            &mut self.state.borrow_mut(),
            text,
            Instant::now(),
        );
    }

    /// Reads the helper's status now (the window does so twice a second).
    pub fn follow_helper(&self) {
        follow_helper(&self.window, &mut self.state.borrow_mut());
    }

    /// Runs the window until it is closed.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.window.run()
    }
}

/// A new attempt's id: the time in milliseconds (one person answers, so
/// two answers never share a millisecond).
fn attempt_id() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn show(window: &FirstBootWindow, step: FirstBootStep) {
    let adapter = window.global::<FirstBootAdapter>();
    adapter.set_message(SharedString::new());
    adapter.set_step(step);
}

fn zh(state: &State) -> bool {
    state.language == Language::Chinese
}

fn set_language(window: &FirstBootWindow, state: &mut State, language: Language) {
    state.language = language;
    if let Err(e) = slint::select_bundled_translation(language.bundled_translation()) {
        tracing::error!("cannot switch the screen to {}: {e}", language.code());
    }
    window
        .global::<FirstBootAdapter>()
        .set_language(language.code().into());
    follow_helper(window, state);
}

/// A key: the number of a choice on the question pages; on the device's
/// page, part of a scan (a claim label, or `0` and Enter to go back).
fn key(window: &FirstBootWindow, state: &mut State, text: &str, at: Instant) {
    let step = window.global::<FirstBootAdapter>().get_step();
    match step {
        FirstBootStep::Question => match text {
            "1" => show(window, FirstBootStep::Centre),
            "2" => show(window, FirstBootStep::Device),
            _ => {}
        },
        FirstBootStep::Centre => match text.parse::<usize>() {
            Ok(0) => back(window, state),
            Ok(1) => give(
                window,
                state,
                Answer {
                    attempt: attempt_id(),
                    choice: Choice::NewSite,
                },
            ),
            Ok(n) if n >= 2 => restore(window, state, n - 2),
            _ => {}
        },
        FirstBootStep::Device => {
            if let Some(scan) = state.scan.key(text, at) {
                if scan.trim() == "0" {
                    back(window, state);
                    return;
                }
                match Answer::device(attempt_id(), &scan) {
                    Ok(answer) => give(window, state, answer),
                    Err(refused) => refuse(window, state, &refused),
                }
            }
        }
        FirstBootStep::Failed if text == "0" => back(window, state),
        _ => {}
    }
}

fn restore(window: &FirstBootWindow, state: &mut State, index: usize) {
    match Answer::restore(attempt_id(), &state.backups, index) {
        Ok(answer) => give(window, state, answer),
        Err(refused) => refuse(window, state, &refused),
    }
}

fn refuse(window: &FirstBootWindow, state: &State, refused: &AnswerRefused) {
    let words = match refused {
        AnswerRefused::NotAClaimLabel => tr(
            zh(state),
            "That is not a device's claim label. Scan the label printed for this device.",
        ),
        AnswerRefused::NoSuchBackup => tr(zh(state), "There is no backup with that number."),
    };
    window
        .global::<FirstBootAdapter>()
        .set_message(words.into());
}

fn back(window: &FirstBootWindow, state: &mut State) {
    state.attempt = None;
    state.scan = ScanInput::new();
    show(window, FirstBootStep::Question);
}

/// Writes the answer for the helper and shows that it is being done.
fn give(window: &FirstBootWindow, state: &mut State, answer: Answer) {
    let adapter = window.global::<FirstBootAdapter>();
    if let Err(e) = answer.write(&state.files.answer) {
        tracing::error!(
            "cannot write the first-boot answer {}: {e}",
            state.files.answer.display()
        );
        adapter.set_step(FirstBootStep::Failed);
        adapter.set_working_on(
            tr(
                zh(state),
                "This screen could not pass the answer on. Restart the Pi; if it happens again, its card is damaged or full.",
            )
            .into(),
        );
        adapter.set_message(e.to_string().into());
        return;
    }
    tracing::info!(
        attempt = answer.attempt,
        "first-boot answer given: {:?}",
        answer.choice
    );
    let step = match answer.choice {
        Choice::NewSite => Step::Site,
        Choice::Restore(_) => Step::Restore,
        Choice::Device(_) => Step::Claim,
    };
    state.attempt = Some(answer);
    adapter.set_message(SharedString::new());
    adapter.set_working_on(working_words(state, step).into());
    adapter.set_step(FirstBootStep::Working);
}

fn working_words(state: &State, step: Step) -> String {
    match step {
        Step::Site => tr(zh(state), "Making the new site."),
        Step::Restore => tr(
            zh(state),
            "Restoring the backup: this can take a few minutes.",
        ),
        Step::Claim => tr(zh(state), "Asking the centre to enrol this device."),
    }
}

fn failed_words(state: &State, step: Step) -> String {
    match step {
        Step::Site => tr(zh(state), "The new site could not be made."),
        Step::Restore => tr(
            zh(state),
            "The backup could not be restored. Is it this centre's, and whole?",
        ),
        Step::Claim => tr(
            zh(state),
            "The device was not enrolled. Is the centre on, on this network, with the label's code still valid?",
        ),
    }
}

/// What the helper last said of this attempt, on the screen.
fn follow_helper(window: &FirstBootWindow, state: &mut State) {
    let Some(answer) = &state.attempt else {
        return;
    };
    let text = std::fs::read_to_string(&state.files.status).unwrap_or_default();
    let Some(status) = Status::of_attempt(&text, answer.attempt) else {
        return;
    };
    let adapter = window.global::<FirstBootAdapter>();
    match status {
        Status::Working(step) => {
            adapter.set_working_on(working_words(state, step).into());
            adapter.set_step(FirstBootStep::Working);
        }
        Status::Pin(pin) => {
            adapter.set_pin(pin.into());
            adapter.set_step(FirstBootStep::Pin);
        }
        Status::CentreReady | Status::DeviceReady => {
            let words = if status == Status::CentreReady {
                tr(
                    zh(state),
                    "This Pi is the centre. The kiosk's screen starts in a moment.",
                )
            } else {
                tr(
                    zh(state),
                    "This Pi is now a device of the centre, and its agent has started.",
                )
            };
            adapter.set_working_on(words.into());
            adapter.set_step(FirstBootStep::Done);
        }
        Status::Failed(step, detail) => {
            adapter.set_working_on(failed_words(state, step).into());
            adapter.set_message(detail.into());
            adapter.set_step(FirstBootStep::Failed);
        }
    }
}
