//! libFuzzer's entry for the `claim` target; the body is
//! `keting_fuzzing::targets::claim`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keting_fuzzing::targets::claim::run(data));
