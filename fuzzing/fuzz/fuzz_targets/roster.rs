//! libFuzzer's entry for the `roster` target; the body is
//! `keting_fuzzing::targets::roster`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keting_fuzzing::targets::roster::run(data));
