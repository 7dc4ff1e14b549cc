#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| upkeep_fuzz::config(data));
