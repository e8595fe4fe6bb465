//! libFuzzer's entry for the `pass` target; the body is
//! `keting_fuzzing::targets::pass`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keting_fuzzing::targets::pass::run(data));
