//! libFuzzer's entry for the `agent_toml` target; the body is
//! `keting_fuzzing::targets::agent_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keting_fuzzing::targets::agent_toml::run(data));
