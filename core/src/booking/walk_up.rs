//! Walk-up sessions ("scan the code and play"): which resource a scan gets,
//! which free resources go to the queue, and that walk-up sessions are free.
//!
//! The resources are offered in their order (the pianos by id); a resource
//! whose device is offline is never given, nor one with a session kept or in
//! progress. A scan gets a resource only when nobody is waiting before it:
//! the queue is served first come, first served.

use super::rules::{BookingRefusal, Charge};

/// What a walk-up scan gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocation<'a> {
    /// This resource, now.
    Resource(&'a str),
    /// A place in the queue.
    Queue,
}

fn free<'a>(
    candidates: &'a [String],
    unavailable: &'a [String],
    taken: &'a [String],
) -> impl Iterator<Item = &'a str> {
    candidates
        .iter()
        .map(String::as_str)
        .filter(move |id| !unavailable.iter().any(|u| u == id) && !taken.iter().any(|t| t == id))
}

/// The resource a walk-up scan gets: the first of `candidates` that is
/// neither `unavailable` (device offline) nor `taken` (a session kept or in
/// progress), and only if `nobody_waiting`; else a place in the queue.
pub fn allocate<'a>(
    candidates: &'a [String],
    unavailable: &'a [String],
    taken: &'a [String],
    nobody_waiting: bool,
) -> Allocation<'a> {
    match free(candidates, unavailable, taken).next() {
        Some(id) if nobody_waiting => Allocation::Resource(id),
        _ => Allocation::Queue,
    }
}

/// The resources free for the queue, in order: the first goes to the first
/// in line, and so on.
pub fn free_for_queue<'a>(
    candidates: &'a [String],
    unavailable: &'a [String],
    taken: &'a [String],
) -> Vec<&'a str> {
    free(candidates, unavailable, taken).collect()
}

/// A walk-up session's charge: walk-up sessions are free, so a resource
/// with a price cannot be played by walking up.
pub fn charge(decided: Charge) -> Result<Charge, BookingRefusal> {
    match decided {
        Charge::Free => Ok(Charge::Free),
        _ => Err(BookingRefusal::WalkUpNotFree),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_scan_gets_the_first_free_piano_never_an_offline_or_taken_one() {
        let pianos = ids(&["piano-1", "piano-2", "piano-3"]);
        let offline = ids(&["piano-1"]);
        let taken = ids(&["piano-2"]);
        assert_eq!(
            allocate(&pianos, &offline, &taken, true),
            Allocation::Resource("piano-3")
        );
        assert_eq!(
            allocate(&pianos, &[], &[], true),
            Allocation::Resource("piano-1")
        );
        // Every piano taken or offline: the queue.
        assert_eq!(
            allocate(&pianos, &offline, &ids(&["piano-2", "piano-3"]), true),
            Allocation::Queue
        );
        // Someone waits already: they go first, the scan queues behind them.
        assert_eq!(allocate(&pianos, &[], &[], false), Allocation::Queue);
        assert_eq!(free_for_queue(&pianos, &offline, &taken), vec!["piano-3"]);
    }

    #[test]
    fn walk_up_sessions_are_free() {
        assert_eq!(charge(Charge::Free), Ok(Charge::Free));
        assert_eq!(
            charge(Charge::Points { points: 5 }),
            Err(BookingRefusal::WalkUpNotFree)
        );
    }
}
