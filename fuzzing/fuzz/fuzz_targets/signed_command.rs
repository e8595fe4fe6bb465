//! libFuzzer's entry for the `signed_command` target; the body is
//! `keting_fuzzing::targets::signed_command`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keting_fuzzing::targets::signed_command::run(data));
