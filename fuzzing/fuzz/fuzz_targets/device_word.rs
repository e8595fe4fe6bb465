//! libFuzzer's entry for the `device_word` target; the body is
//! `keting_fuzzing::targets::device_word`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keting_fuzzing::targets::device_word::run(data));
