//! The award page's state, with no Slint types: the recent activities
//! offered, the one chosen, and the awards made since the page opened, each
//! with what became of it (awarded with the new balance, refused and why,
//! not saved, undone) and whether it can still be undone.

use keting_core::ledger::Points;

/// What became of one volunteer's scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Awarded: the posting (to undo it) and the volunteer's new balance.
    Awarded {
        /// The award's posting.
        posting: i64,
        /// Points given.
        worth: Points,
        /// The balance after it.
        balance: Points,
    },
    /// Already awarded for this activity.
    AlreadyAwarded,
    /// Over today's earning cap, with what is left today.
    OverDailyCap {
        /// Points the volunteer may still earn today.
        left: Points,
    },
    /// Refused for another reason, as the ledger words it.
    Refused(String),
    /// The database failed: nothing was written.
    NotSaved,
    /// Awarded, then undone ("wrong person").
    Undone,
}

/// One line of the page: whose scan and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwardLine {
    /// The volunteer's name.
    pub name: String,
    /// What became of it.
    pub outcome: Outcome,
    /// An undo was tried and refused (the points were spent).
    pub undo_refused: bool,
}

impl AwardLine {
    /// The posting an undo would reverse, while it still can be undone.
    pub fn reversible(&self) -> Option<i64> {
        match self.outcome {
            Outcome::Awarded { posting, .. } if !self.undo_refused => Some(posting),
            _ => None,
        }
    }
}

/// The award page.
#[derive(Clone, Debug, Default)]
pub struct AwardPage {
    recent: Vec<(String, Points)>,
    activity: Option<(String, Points)>,
    lines: Vec<AwardLine>,
}

impl AwardPage {
    /// The page as it opens: the recent activities, the newest chosen.
    pub fn open(recent: Vec<(String, Points)>) -> Self {
        Self {
            activity: recent.first().cloned(),
            recent,
            lines: Vec::new(),
        }
    }

    /// The activities offered, each with whether it is the one chosen.
    pub fn choices(&self) -> impl Iterator<Item = (&(String, Points), bool)> {
        self.recent
            .iter()
            .map(|a| (a, self.activity.as_ref() == Some(a)))
    }

    /// An activity was tapped.
    pub fn choose(&mut self, name: &str, worth: Points) {
        self.activity = Some((name.to_owned(), worth));
    }

    /// The activity a scan awards, if one is chosen.
    pub fn activity(&self) -> Option<&(String, Points)> {
        self.activity.as_ref()
    }

    /// A scan's outcome, shown first.
    pub fn record(&mut self, name: String, outcome: Outcome) {
        self.lines.insert(
            0,
            AwardLine {
                name,
                outcome,
                undo_refused: false,
            },
        );
    }

    /// The undo of `posting` went through (`true`) or was refused.
    pub fn undone(&mut self, posting: i64, done: bool) {
        if let Some(line) = self
            .lines
            .iter_mut()
            .find(|l| l.reversible() == Some(posting))
        {
            if done {
                line.outcome = Outcome::Undone;
            } else {
                line.undo_refused = true;
            }
        }
    }

    /// The lines, newest first.
    pub fn lines(&self) -> &[AwardLine] {
        &self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awards_show_newest_first_and_an_award_is_undone_once() {
        let mut p = AwardPage::open(vec![("图书整理".into(), 10), ("义诊".into(), 20)]);
        assert_eq!(p.activity(), Some(&("图书整理".to_owned(), 10)));
        p.choose("义诊", 20);
        assert_eq!(p.choices().filter(|(_, chosen)| *chosen).count(), 1);
        p.record(
            "张伟".into(),
            Outcome::Awarded {
                posting: 7,
                worth: 20,
                balance: 30,
            },
        );
        p.record("王秀英".into(), Outcome::AlreadyAwarded);
        assert_eq!(p.lines()[0].name, "王秀英");
        assert_eq!(
            p.lines()[0].reversible(),
            None,
            "a refusal cannot be undone"
        );
        assert_eq!(p.lines()[1].reversible(), Some(7));
        p.undone(7, true);
        assert_eq!(p.lines()[1].outcome, Outcome::Undone);
        assert_eq!(p.lines()[1].reversible(), None);
    }

    #[test]
    fn a_refused_undo_leaves_the_award_and_offers_no_second_undo() {
        let mut p = AwardPage::open(vec![("图书整理".into(), 10)]);
        p.record(
            "张伟".into(),
            Outcome::Awarded {
                posting: 7,
                worth: 10,
                balance: 10,
            },
        );
        p.undone(7, false);
        assert!(matches!(p.lines()[0].outcome, Outcome::Awarded { .. }));
        assert_eq!(p.lines()[0].reversible(), None);
    }
}
