//! libFuzzer's entry for the `messages` target; the body is
//! `keting_fuzzing::targets::messages`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keting_fuzzing::targets::messages::run(data));
