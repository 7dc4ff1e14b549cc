#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static FLEET: OnceLock<upkeep::fleet::Fleet> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fleet = FLEET.get_or_init(|| upkeep_fuzz::fleet(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules").as_ref()));
    upkeep_fuzz::topic(fleet, data);
});
