//! libFuzzer's entry for the `rtu_frames` target; the body is
//! `keting_fuzzing::targets::rtu_frames`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keting_fuzzing::targets::rtu_frames::run(data));
