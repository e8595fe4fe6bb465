//! Every input the fuzzers saved (`fuzz/corpus/<target>/`, seeds and what
//! libFuzzer kept for new coverage, and `fuzz/artifacts/` if a crash was
//! ever found and fixed) replayed through its target on stable Rust: a
//! crash found once cannot come back unnoticed.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use keting_fuzzing::targets::ALL;

#[test]
fn every_saved_input_runs_through_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut total = 0;
    for (name, run) in ALL {
        let mut inputs = 0;
        for dir in [
            root.join("corpus").join(name),
            root.join("artifacts").join(name),
        ] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                run(&std::fs::read(&path).unwrap());
                inputs += 1;
            }
        }
        assert!(
            inputs > 0,
            "no saved inputs for {name}: run fuzzing/run-fuzzers"
        );
        total += inputs;
    }
    eprintln!(
        "{total} saved inputs replayed through {} targets",
        ALL.len()
    );
}
